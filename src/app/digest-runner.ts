/**
 * Delivers digests exactly once across instances. A scheduled run plans the digest of the
 * period that ended yesterday in its time zone for every subscription of its cadence and
 * zone (an idempotent insert), then every
 * instance takes planned deliveries one at a time under a lease and posts them: the message,
 * its id recorded, then the chart. Work a dead instance left is taken over when its lease
 * ends, by whichever instance sweeps next; a retry after the message went out only adds the
 * chart. Building a digest reads the cost store only.
 */
import { DeliveryError, FinOpsError, isFinOpsError } from '../core/errors.js';
import { addDays, type PlainDate, todayIn } from '../core/period.js';
import type { Cadence, ChartRenderer, ClaimedDelivery, DigestDeliveryStore, DigestNotifier, Platform, Subscription } from '../ports.js';
import { buildDigest, digestPeriod } from './digest.js';
import type { HandlerDeps } from './report-context.js';
import { accessFor } from './team-access.js';

/** Where the runner reports what it did. */
export interface RunnerLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

/** What the runner needs. */
export interface DigestRunnerDeps {
  readonly handler: HandlerDeps;
  readonly deliveries: DigestDeliveryStore;
  readonly notifiers: ReadonlyMap<Platform, DigestNotifier>;
  readonly charts: ChartRenderer;
  readonly logger: RunnerLogger;
  /** This instance's name in the ledger (host and process). */
  readonly holder: string;
  /** Waits; tests may shorten the pause between posts to one conversation. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** What one run did. */
export interface DigestRunReport {
  readonly planned: number;
  readonly posted: number;
  readonly failed: number;
}

/**
 * How long an instance holds a delivery before another may take it over: longer than the
 * worst case of posting a message and a chart with every Slack retry and timeout, so a
 * live instance never loses its delivery mid-post.
 */
const LEASE_MS = 10 * 60_000;
/** Slack allows about one message a second per channel. */
const CONVERSATION_GAP_MS = 1_100;
/** How long to wait before looking again whether the data covers a digest's period. */
const DATA_WAIT_MS = 10 * 60_000;

/** Plans and posts digests. */
export class DigestRunner {
  private readonly lastPostAt = new Map<string, number>();
  private readonly sleep: (ms: number) => Promise<void>;
  private delivering: Promise<DigestRunReport> | undefined;
  private stopping = false;

  constructor(private readonly deps: DigestRunnerDeps) {
    this.sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /**
   * A scheduled time came for `cadence` in `timeZone` (now, or `at` when caught up): plan
   * the digest of the period that ended the day before there (only `onlyTeam`'s, when
   * given), then deliver what is due. A digest whose days are not synced yet waits for them.
   */
  async runDue(cadence: Cadence, timeZone: string, options: { at?: Date; onlyTeam?: string | undefined } = {}): Promise<DigestRunReport> {
    const yesterday = addDays(todayIn(timeZone, options.at ?? this.deps.handler.clock.now()), -1);
    const { key } = digestPeriod(cadence, yesterday);
    const planned = await this.deps.deliveries.plan(cadence, timeZone, key, options.onlyTeam);
    if (planned > 0) this.deps.logger.info({ cadence, timeZone, period: key, planned }, 'digests planned');
    const delivered = await this.deliverPending();
    return { ...delivered, planned };
  }

  /** Posts every planned, stalled or retryable digest; one pass at a time in this instance. */
  deliverPending(): Promise<DigestRunReport> {
    if (this.stopping) return Promise.resolve({ planned: 0, posted: 0, failed: 0 });
    this.delivering ??= this.drain().finally(() => (this.delivering = undefined));
    return this.delivering;
  }

  /** Takes no new delivery and waits (at most `timeoutMs`) for the one under way. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    const running = this.delivering;
    if (!running) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([running.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }

  private async drain(): Promise<DigestRunReport> {
    const { deliveries, holder, logger } = this.deps;
    const gaveUp = await deliveries.giveUpStale();
    if (gaveUp > 0) logger.warn({ deliveries: gaveUp }, 'gave up digests that kept failing; their subscriptions say so');
    const platforms = [...this.deps.notifiers.keys()];
    let posted = 0;
    let failed = 0;
    while (!this.stopping) {
      const claimed = await deliveries.claimNext(holder, LEASE_MS, platforms);
      if (!claimed) break;
      const outcome = await this.deliver(claimed);
      if (outcome === 'posted') posted += 1;
      if (outcome === 'failed') failed += 1;
    }
    return { planned: 0, posted, failed };
  }

  private async deliver({ delivery, subscription }: ClaimedDelivery): Promise<'posted' | 'failed' | 'waiting' | 'lost'> {
    const { deliveries, holder, logger } = this.deps;
    const where = { subscription: subscription.id, conversation: subscription.conversationId, period: delivery.periodKey };
    const notifier = this.deps.notifiers.get(subscription.platform)!;
    let messageId = delivery.messageId;
    const lost = () => {
      logger.warn(where, 'lost the lease on a digest; another instance carries on with it');
      return 'lost' as const;
    };
    try {
      refuseOutsideAccess(this.deps.handler, subscription);
      let digest;
      try {
        digest = await buildDigest(this.deps.handler, { cadence: subscription.cadence, team: subscription.team, through: lastDayOf(delivery.periodKey) });
      } catch (error) {
        if (!isFinOpsError(error, 'no_data')) throw error;
        // The period's days are not synced yet: look again later, within the day.
        return (await deliveries.postpone(delivery, holder, error.message, DATA_WAIT_MS)) ? 'waiting' : lost();
      }
      if (!messageId) {
        // Stopping: hand the delivery back for another instance rather than post half of it.
        if (this.stopping) return (await deliveries.postpone(delivery, holder, 'handed back by a stopping instance', 0)) ? 'waiting' : lost();
        await this.pace(subscription.conversationId);
        messageId = await notifier.postMessage(subscription.conversationId, digest.reply);
        if (!(await deliveries.recordMessage(delivery, holder, messageId, LEASE_MS))) return lost();
      }
      let chartId: string | undefined;
      let png: Uint8Array | undefined;
      try {
        png = await this.deps.charts.renderPng(digest.chart);
      } catch (error) {
        // A chart that cannot be drawn is a bug to fix, not a reason to hold the digest back.
        logger.error({ ...where, err: error }, 'could not draw the digest chart; posted without it');
      }
      if (png) {
        await this.pace(subscription.conversationId);
        chartId = await notifier.postChart(subscription.conversationId, png, digest.chart.title);
      }
      if (!(await deliveries.recordPosted(delivery, holder, chartId))) return lost();
      logger.info(where, 'digest posted');
      return 'posted';
    } catch (error) {
      const permanent = error instanceof DeliveryError ? error.permanent : isFinOpsError(error) && error.code !== 'database_unavailable';
      const reason = error instanceof DeliveryError ? error.code : error instanceof Error ? error.message : String(error);
      (permanent ? logger.warn : logger.error).call(logger, { ...where, err: error, permanent }, permanent ? 'digest not delivered; the subscription is marked' : 'digest delivery failed; will retry');
      await deliveries
        .recordFailure(delivery, holder, { error: reason, permanent, messageId })
        .catch((second: unknown) => logger.error({ ...where, err: second }, 'could not record a failed digest'));
      return 'failed';
    }
  }

  private async pace(conversationId: string): Promise<void> {
    const last = this.lastPostAt.get(conversationId);
    const wait = last === undefined ? 0 : last + CONVERSATION_GAP_MS - Date.now();
    if (wait > 0) await this.sleep(wait);
    this.lastPostAt.set(conversationId, Date.now());
  }
}

/**
 * A channel confined to some teams (FINOPS_CHANNEL_TEAMS) gets only their digests, even from
 * subscriptions made before it was confined; the others are refused as a permanent problem.
 */
function refuseOutsideAccess(deps: HandlerDeps, subscription: Subscription): void {
  const access = accessFor(deps, { conversationId: subscription.conversationId });
  if (access.kind === 'all') return;
  const team = subscription.team;
  if (team !== undefined && access.teams.some((allowed) => allowed.toLowerCase() === team.toLowerCase())) return;
  throw new FinOpsError(
    'command_invalid',
    `this conversation is confined to some teams (FINOPS_CHANNEL_TEAMS), so ${team === undefined ? 'the organisation' : 'this team'}'s digest is not posted here; unsubscribe it`,
  );
}

/** The last day a period key covers: the day itself, or the Sunday of a week keyed by its Monday. */
export function lastDayOf(periodKey: string): PlainDate {
  const [cadence, day] = periodKey.split(':') as [string, PlainDate];
  return cadence === 'weekly' ? addDays(day, 6) : day;
}
