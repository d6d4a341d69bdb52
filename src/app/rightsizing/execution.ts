/**
 * Carrying approved rightsizing changes out, as FINOPS_RIGHTSIZING_EXECUTE says: an EC2 dry
 * run or the change itself, each once across instances (claimed in the store), reported
 * where its deciding approval was clicked. A `stopping` step is written before EC2 is asked to
 * stop the instance, so a change cut off by a restart is resumed by whoever takes it over,
 * never left stopped.
 * Approvals too old to act on now are closed as failed instead.
 */
import { applyDecision, STOPPING_STEP } from '../../core/rightsizing.js';
import type { Reply } from '../../core/reply.js';
import type { Clock, ExecutionStep, InstanceExecutor, RightsizingRecord, RightsizingStore, SourceMessage } from '../../ports.js';
import { auditOf } from './audit-entry.js';
import { executionReport, staleReport } from './present.js';

/** An execution claim left this long without a result may be taken over (an instance died mid-way). */
const EXECUTION_STALE_MS = 30 * 60_000;
/** True when an earlier attempt of the bot's had asked EC2 to stop the instance and never finished. */
function resumes(record: RightsizingRecord): boolean {
  return record.execution.some((step) => step.step === STOPPING_STEP);
}

/** What execution needs. */
export interface ExecutionDeps {
  readonly store: RightsizingStore;
  readonly executor: InstanceExecutor | undefined;
  readonly clock: Clock;
  readonly logger: { error(details: object, message: string): void };
  readonly holder: string;
  readonly settings: { readonly execute: 'off' | 'dry-run' | 'apply'; readonly expireDays: number };
  /** Whether recommendations come from a source (then one it stopped reporting is not carried out). */
  readonly hasSource: boolean;
  readonly tell: (team: string, reply: Reply, where: SourceMessage | undefined) => Promise<void>;
}

/** Runs execution passes, one at a time in this process. */
export class RightsizingExecution {
  private executing: Promise<number> | undefined;
  /** Something was approved while a pass was running: run another when it ends. */
  private again = false;

  constructor(private readonly deps: ExecutionDeps) {}

  /** One pass (and another for what is approved meanwhile) over the approved changes; returns how many were handled. */
  run(): Promise<number> {
    if (this.deps.settings.execute === 'off' || !this.deps.executor) return Promise.resolve(0);
    if (this.executing) {
      // The running pass read its list already: it goes round once more for what was approved since.
      this.again = true;
      return this.executing;
    }
    this.executing = (async () => {
      let handled = 0;
      do {
        this.again = false;
        handled += await this.executeAll();
      } while (this.again);
      return handled;
    })()
      .catch((error: unknown) => {
        this.deps.logger.error({ component: 'rightsizing', err: error }, 'rightsizing execution pass failed');
        return 0;
      })
      .finally(() => (this.executing = undefined));
    return this.executing;
  }

  private async executeAll(): Promise<number> {
    const mode = this.deps.settings.execute;
    let handled = 0;
    const lastSyncedAt = this.deps.hasSource ? await this.deps.store.lastSyncedAt() : undefined;
    for (const record of await this.deps.store.awaitingExecution(this.deps.clock.now(), EXECUTION_STALE_MS)) {
      // A dry run is reported once; switching to `apply` later carries the change out.
      if (mode === 'dry-run' && record.execution.some((step) => step.step.startsWith('dry-run'))) continue;
      // Claimed first: one instance decides what becomes of it, whatever that is.
      if (!(await this.deps.store.claimExecution(record.id, this.deps.holder, this.deps.clock.now(), EXECUTION_STALE_MS))) continue;
      // A change the bot already began stopping is finished (the instance started again), never dropped.
      const stale = resumes(record) ? undefined : this.staleApproval(record, lastSyncedAt);
      if (stale) await this.failStale(record, stale);
      else await this.execute(record, mode === 'apply' ? 'apply' : 'dry-run');
      handled++;
    }
    return handled;
  }

  private async execute(record: RightsizingRecord, mode: 'dry-run' | 'apply'): Promise<void> {
    // Reported where the deciding approval was clicked (the team's channels when unknown).
    const where = record.approvals.at(-1)?.source;
    const change = {
      accountId: record.accountId,
      region: record.region,
      instanceId: record.instanceId,
      action: record.action,
      currentType: record.currentType,
      targetType: record.targetType,
      resume: resumes(record),
    };
    // Written before EC2 is asked to stop the instance: if this instance dies mid-way, whoever
    // takes the change over knows the bot stopped it, and starts it again.
    const progress = async (step: ExecutionStep) => {
      await this.deps.store.transition(record.id, (current) => (current.status === 'approved' ? { next: { ...current, execution: [...current.execution, step] }, audit: [] } : undefined));
    };
    let steps: ExecutionStep[];
    try {
      steps = mode === 'apply' ? await this.deps.executor!.apply(change, progress) : (await this.deps.executor!.dryRun(change)).map((step) => ({ ...step, step: `dry-run: ${step.step}` }));
    } catch (error) {
      this.deps.logger.error({ component: 'rightsizing', err: error, recommendation: record.id }, 'rightsizing execution failed unexpectedly');
      steps = [{ step: 'error', ok: false, detail: 'an unexpected error stopped the change (the details are in the logs)', at: this.deps.clock.now() }];
    }
    const failed = steps.find((step) => !step.ok);
    const at = this.deps.clock.now();
    const result = await this.deps.store.transition(record.id, (current) => {
      const execution = [...current.execution, ...steps];
      if (mode === 'dry-run') {
        const next = { ...current, execution };
        return { next, audit: [auditOf(current, next, { actor: 'system', action: 'dry-run', at, source: undefined, note: failed ? `refused at ${failed.step}: ${failed.detail}` : 'every call would be allowed' })] };
      }
      const outcome = applyDecision(current, failed ? { kind: 'failed', at, reason: `${failed.step}: ${failed.detail}` } : { kind: 'applied', at });
      if (!outcome.changed) return undefined;
      const next = { ...outcome.next, execution, ...(failed ? {} : { appliedAt: at }) };
      return { next, audit: [auditOf(current, next, { actor: 'system', action: failed ? 'fail' : 'apply', at, source: undefined, note: failed ? `${failed.step}: ${failed.detail}` : `${steps.length} steps` })] };
    });
    if (result?.changed) await this.deps.tell(result.record.team, executionReport(result.record, steps, mode), where);
  }

  /**
   * Why an approval is too old to carry out now (execution was switched on long after it, or
   * the source stopped recommending it); undefined when it may go ahead.
   */
  private staleApproval(record: RightsizingRecord, lastSyncedAt: Date | undefined): string | undefined {
    const now = this.deps.clock.now().getTime();
    const decidedAt = record.decidedAt?.getTime() ?? now;
    if (now - decidedAt > this.deps.settings.expireDays * 86_400_000) return `approved more than ${this.deps.settings.expireDays} days ago, so not carried out now; it is offered again if still recommended`;
    if (lastSyncedAt && record.seenAt.getTime() < lastSyncedAt.getTime()) return 'the source no longer recommends it, so it was not carried out';
    return undefined;
  }

  /** Closes an approval too old to carry out as failed (a later sync may offer it again), with the reason, and says so. */
  private async failStale(record: RightsizingRecord, reason: string): Promise<void> {
    const at = this.deps.clock.now();
    const result = await this.deps.store.transition(record.id, (current) => {
      const outcome = applyDecision(current, { kind: 'failed', at, reason });
      return outcome.changed ? { next: outcome.next, audit: [auditOf(current, outcome.next, { actor: 'system', action: 'fail', at, source: undefined, note: reason })] } : undefined;
    });
    if (result?.changed) await this.deps.tell(result.record.team, staleReport(result.record, reason), record.approvals.at(-1)?.source);
  }

  /** Resolves when no execution pass is running here, or after `timeoutMs` (a stopping bot lets a change under way finish). */
  async idle(timeoutMs: number): Promise<void> {
    if (this.executing) await Promise.race([this.executing, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
  }
}
