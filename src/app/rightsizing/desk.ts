/**
 * The rightsizing desk: syncs recommendations from their source, takes Approve / Reject
 * decisions from approvers only, expires the ones nobody decided, carries approved changes
 * out on EC2 (as configured: not at all, a dry run, or for real) and, 30 days after a change,
 * reports the saving it actually brought. Every move goes through the store's locked
 * `transition` with the pure state machine, and is written to the audit log with it.
 */
import { isFinOpsError } from '../../core/errors.js';
import { type Amount, formatAmount } from '../../core/money.js';
import type { CostMetric } from '../../core/cost-model.js';
import { TOTAL_FACET } from '../../core/cost-model.js';
import { applyDecision, approvalsNeededFor, type DecisionEvent, type Unchanged } from '../../core/rightsizing.js';
import { mention, type Reply } from '../../core/reply.js';
import type { Clock, CostStore, InstanceExecutor, RightsizingRecord, RightsizingSource, RightsizingStore, SourceMessage } from '../../ports.js';
import type { ApproverPolicy } from './approver-policy.js';
import { measureRealisedSaving, REALISATION_WINDOW_DAYS } from './realised-savings.js';
import { changeLabel, instanceLabel, realisedReport } from './present.js';
import { auditOf } from './audit-entry.js';
import { RightsizingExecution } from './execution.js';
import { loadFreshness } from '../report-context.js';

/** What an approver can decide: approve or reject a pending recommendation, or say an approved change was made by hand. */
export type RightsizingDecision = 'approve' | 'reject' | 'applied';

/** Where the desk reports what it did. */
export interface DeskLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

/** How rightsizing is run. */
export interface DeskSettings {
  /** Estimated saving a month from which two approvers are needed (undefined: never). */
  readonly twoApproverFrom: Amount | undefined;
  readonly expireDays: number;
  readonly execute: 'off' | 'dry-run' | 'apply';
  readonly metric: CostMetric;
}

/** What the desk needs. */
export interface DeskDeps {
  readonly store: RightsizingStore;
  readonly costs: CostStore;
  readonly policy: ApproverPolicy;
  readonly clock: Clock;
  readonly logger: DeskLogger;
  /** This instance's name when it claims an execution. */
  readonly holder: string;
  readonly settings: DeskSettings;
  readonly source?: RightsizingSource | undefined;
  readonly executor?: InstanceExecutor | undefined;
  /** Whether a conversation may see (and so decide) a team's recommendations (FINOPS_CHANNEL_TEAMS); absent: every one may. */
  readonly conversationSees?: ((conversationId: string | undefined, team: string) => boolean) | undefined;
  /** Posts a report about a team's recommendation (execution steps, realised saving) where the team reads it. */
  readonly report?: ((team: string, reply: Reply, where: SourceMessage | undefined) => Promise<void>) | undefined;
}

/** The answer to a click. */
export type DeskResult =
  | { readonly ok: true; readonly record: RightsizingRecord; readonly changed: boolean; readonly note: string | undefined }
  | { readonly ok: false; readonly reason: string };

/** How often recommendations are read from the source (AWS refreshes them about daily; each page costs USD 0.01). */
const SYNC_EVERY_MS = 20 * 3_600_000;
/** Longest reason kept for a rejection. */
export const MAX_REASON_LENGTH = 500;

/** Runs rightsizing: sync, decisions, expiry, execution and realised savings. */
export class RightsizingDesk {
  private readonly execution: RightsizingExecution;

  constructor(private readonly deps: DeskDeps) {
    this.execution = new RightsizingExecution({ ...deps, executor: deps.executor, hasSource: deps.source !== undefined, tell: (team, reply, where) => this.tell(team, reply, where) });
  }

  get settings(): DeskSettings {
    return this.deps.settings;
  }

  /**
   * Reads the source's recommendations when the last read is older than 20 hours (or when
   * `force`d) and saves them. Returns false when it did not read.
   */
  async sync(options: { force?: boolean } = {}): Promise<boolean> {
    if (!this.deps.source) return false;
    const now = this.deps.clock.now();
    const last = await this.deps.store.lastSyncedAt();
    if (!options.force && last && now.getTime() - last.getTime() < SYNC_EVERY_MS) return false;
    const candidates = await this.deps.source.getRecommendations();
    const saved = await this.deps.store.saveCandidates(candidates, {
      at: now,
      approvalsNeeded: (candidate) => approvalsNeededFor(candidate.monthlySavings, this.deps.settings.twoApproverFrom),
    });
    this.deps.logger.info({ component: 'rightsizing', candidates: candidates.length, ...saved }, 'rightsizing recommendations synced');
    return true;
  }

  /**
   * An approver's click. Only the team's approvers may decide; a rejection needs a reason.
   * A repeated click, a retried request or a racing approver changes nothing and is told why.
   * `applied` marks an approved change as made by hand (when the bot does not make it).
   */
  async decide(request: { id: number; decision: RightsizingDecision; userId: string; reason?: string | undefined; source: SourceMessage }): Promise<DeskResult> {
    const current = await this.deps.store.get(request.id);
    if (!current) return { ok: false, reason: 'This recommendation no longer exists.' };
    const refused = await this.refusalFor(current, request.userId, request.source.conversationId);
    if (refused !== undefined) {
      this.deps.logger.warn({ component: 'rightsizing', recommendation: current.id, user: request.userId, decision: request.decision }, 'refused a rightsizing decision from someone who is not an approver');
      return { ok: false, reason: refused };
    }
    const reason = request.reason?.trim().slice(0, MAX_REASON_LENGTH);
    if (request.decision === 'reject' && !reason) return { ok: false, reason: 'A rejection needs a reason, so the team knows why.' };
    if (request.decision === 'applied' && this.deps.settings.execute === 'apply') return { ok: false, reason: 'The bot makes approved changes itself here (FINOPS_RIGHTSIZING_EXECUTE=apply), so they are not marked by hand.' };
    const at = this.deps.clock.now();
    const event: DecisionEvent =
      request.decision === 'approve'
        ? { kind: 'approve', userId: request.userId, at }
        : request.decision === 'reject'
          ? { kind: 'reject', userId: request.userId, at, reason: reason! }
          : { kind: 'applied', at };
    let unchanged: Unchanged | undefined;
    let approvalOnly = false;
    const result = await this.deps.store.transition(request.id, (record) => {
      const outcome = applyDecision(record, event);
      if (!outcome.changed) {
        unchanged = outcome.unchanged;
        return undefined;
      }
      approvalOnly = outcome.approvalOnly;
      // The approval remembers its message: the change's report goes back there, whoever carries it out.
      const next = {
        ...outcome.next,
        approvals: outcome.next.approvals.map((approval) => (approval.userId === request.userId && approval.at.getTime() === at.getTime() ? { ...approval, source: request.source } : approval)),
        // Made by hand: its realised saving is measured from this day.
        ...(request.decision === 'applied' ? { appliedAt: at } : {}),
      };
      const note =
        request.decision === 'reject' ? reason : request.decision === 'applied' ? 'applied by hand' : outcome.approvalOnly ? `approval ${next.approvals.length} of ${record.approvalsNeeded}` : undefined;
      return { next, audit: [auditOf(record, next, { actor: request.userId, action: request.decision === 'applied' ? 'apply' : request.decision, at, source: request.source, note })] };
    });
    if (!result) return { ok: false, reason: 'This recommendation no longer exists.' };
    if (!result.changed) return { ok: true, record: result.record, changed: false, note: unchangedNote(unchanged) };
    if (result.record.status === 'approved') void this.executeApproved();
    const note = approvalOnly
      ? `Your approval is recorded (${result.record.approvals.length} of ${result.record.approvalsNeeded}): a saving this size needs another approver too.`
      : undefined;
    return { ok: true, record: result.record, changed: true, note };
  }

  /**
   * Whether `userId` could decide recommendation `id` now, with a one-line summary of it (a
   * rejection's form shows it); a refusal says why.
   */
  async check(id: number, userId: string, conversationId?: string): Promise<{ ok: true; summary: string } | { ok: false; reason: string }> {
    const record = await this.deps.store.get(id);
    if (!record) return { ok: false, reason: 'This recommendation no longer exists.' };
    if (record.status !== 'pending') return { ok: false, reason: unchangedNote({ kind: 'already-decided', status: record.status, by: record.decidedBy, at: record.decidedAt }) };
    const refused = await this.refusalFor(record, userId, conversationId);
    if (refused !== undefined) return { ok: false, reason: refused };
    return { ok: true, summary: `${instanceLabel(record)}: ${changeLabel(record)}, saving ${formatAmount(record.monthlySavings, record.currency)} a month` };
  }

  /** Expires pending recommendations nobody decided within the configured days; returns how many. */
  async expireDue(): Promise<number> {
    const now = this.deps.clock.now();
    const cutoff = new Date(now.getTime() - this.deps.settings.expireDays * 86_400_000);
    let expired = 0;
    for (const stale of await this.deps.store.pendingBefore(cutoff)) {
      const note = `no decision within ${this.deps.settings.expireDays} days`;
      const result = await this.deps.store.transition(stale.id, (record) => {
        const outcome = applyDecision(record, { kind: 'expire', at: now, reason: note });
        return outcome.changed ? { next: outcome.next, audit: [auditOf(record, outcome.next, { actor: 'system', action: 'expire', at: now, source: undefined, note })] } : undefined;
      });
      if (result?.changed) expired++;
    }
    return expired;
  }

  /**
   * Carries approved changes out as configured, each once across instances, and reports each
   * where its deciding approval was clicked; returns how many were handled.
   */
  executeApproved(): Promise<number> {
    return this.execution.run();
  }

  /** Resolves when no execution pass is running here, or after `timeoutMs` (a stopping bot lets a change under way finish). */
  idle(timeoutMs: number): Promise<void> {
    return this.execution.idle(timeoutMs);
  }

  /** Measures and reports the saving of changes applied 30 days ago or more; returns how many were reported. */
  async reportRealised(): Promise<number> {
    const now = this.deps.clock.now();
    const due = await this.deps.store.realisationDue(new Date(now.getTime() - (REALISATION_WINDOW_DAYS + 1) * 86_400_000));
    if (due.length === 0) return 0;
    const freshness = await loadFreshness(this.deps.costs, [TOTAL_FACET, 'usage-type']);
    let reported = 0;
    for (const record of due) {
      const saving = await measureRealisedSaving(this.deps.costs, {
        team: record.team,
        currentType: record.currentType,
        targetType: record.targetType,
        // Cost Explorer's days are UTC days.
        appliedDay: record.appliedAt!.toISOString().slice(0, 10),
        dataThrough: freshness.dataThrough,
        metric: this.deps.settings.metric,
      });
      if (!saving) continue;
      const result = await this.deps.store.transition(record.id, (current) => {
        if (current.realisedMonthlySavings !== undefined) return undefined;
        const next = { ...current, realisedMonthlySavings: saving.monthly };
        const note = `realised ${formatAmount(saving.monthly, saving.currency)} a month (estimated ${formatAmount(current.monthlySavings, current.currency)})`;
        return { next, audit: [auditOf(current, next, { actor: 'system', action: 'realised', at: now, source: undefined, note })] };
      });
      if (result?.changed) {
        await this.tell(result.record.team, realisedReport(result.record, saving), undefined);
        reported++;
      }
    }
    return reported;
  }

  private async tell(team: string, reply: Reply, where: SourceMessage | undefined): Promise<void> {
    try {
      await this.deps.report?.(team, reply, where);
    } catch (error) {
      this.deps.logger.warn({ component: 'rightsizing', err: error, team }, 'could not post a rightsizing report');
    }
  }

  /** Why `userId` may not decide `record`'s team's recommendations; undefined when they may. */
  private async refusalFor(record: RightsizingRecord, userId: string, conversationId: string | undefined): Promise<string | undefined> {
    // A list from before the conversation was confined to other teams decides nothing here.
    if (this.deps.conversationSees && !this.deps.conversationSees(conversationId, record.team)) return 'This conversation cannot see that recommendation’s team, so it cannot decide it.';
    try {
      if (await this.deps.policy.mayApprove(record.team, userId)) return undefined;
    } catch (error) {
      if (!isFinOpsError(error)) throw error;
      return `I could not check who may approve: ${error.message}`;
    }
    return this.refusal(record.team);
  }

  private async refusal(team: string): Promise<string> {
    const list = await this.deps.policy.approversOf(team);
    const people = [...list.configured, ...list.stored].map((person) => mention(person.id));
    const teamName = team === '' ? 'untagged instances' : `*${team}*`;
    return people.length === 0
      ? `Nobody may approve recommendations for ${teamName} yet, so nothing changed. An admin can name approvers with \`approvers add ${team || 'untagged'} @someone\`.`
      : `Only approvers of ${teamName} can decide this, so nothing changed. They are ${people.join(', ')}.`;
  }
}

/** What a click that changed nothing is told. */
function unchangedNote(unchanged: Unchanged | undefined): string {
  if (!unchanged) return 'Nothing changed.';
  switch (unchanged.kind) {
    case 'already-approved-by-you':
      return unchanged.approvals < unchanged.needed
        ? `You have already approved this (${unchanged.approvals} of ${unchanged.needed}); it needs another approver.`
        : 'You have already approved this; nothing changed.';
    case 'already-decided': {
      const by = unchanged.by === undefined ? '' : unchanged.by === 'system' ? ' automatically' : ` by ${mention(unchanged.by)}`;
      return `This was already ${unchanged.status}${by}; nothing changed.`;
    }
    case 'not-allowed':
      return unchanged.status === 'pending' ? 'It must be approved before it can be marked applied; nothing changed.' : `This recommendation is ${unchanged.status}; nothing changed.`;
  }
}


