/**
 * Delivers digests exactly once across instances. A scheduled run plans the period's digest
 * for every subscription of its cadence and time zone (an idempotent insert), then every
 * instance takes planned deliveries one at a time under a lease and posts them: the message,
 * its id recorded, then the chart. Work a dead instance left is taken over when its lease
 * ends, by whichever instance sweeps next; a retry after the message went out only adds the
 * chart. Building a digest reads the cost store only.
 */
import { DeliveryError, isFinOpsError } from '../core/errors.js';
import { addDays, type PlainDate } from '../core/period.js';
import type { Cadence, ChartRenderer, ClaimedDelivery, DigestDeliveryStore, DigestNotifier, Platform } from '../ports.js';
import { buildDigest, digestPeriod } from './digest.js';
import { type HandlerDeps, loadFreshness } from './report-context.js';

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

/** How long an instance holds a delivery before another may take it over. */
const LEASE_MS = 2 * 60_000;
/** Slack allows about one message a second per channel. */
const CONVERSATION_GAP_MS = 1_100;

/** Plans and posts digests. */
export class DigestRunner {
  private readonly lastPostAt = new Map<string, number>();
  private readonly sleep: (ms: number) => Promise<void>;
  private delivering: Promise<DigestRunReport> | undefined;

  constructor(private readonly deps: DigestRunnerDeps) {
    this.sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /**
   * A scheduled time came for `cadence` in `timeZone`: plan its digests (only `onlyTeam`'s
   * when given), then deliver what is due.
   */
  async runDue(cadence: Cadence, timeZone: string, onlyTeam?: string): Promise<DigestRunReport> {
    const freshness = await loadFreshness(this.deps.handler.store, this.deps.handler.settings.facets);
    if (!freshness.dataThrough) {
      this.deps.logger.warn({ cadence, timeZone }, 'no cost data yet: digests not planned');
      return { ...(await this.deliverPending()), planned: 0 };
    }
    const { key } = digestPeriod(cadence, freshness.dataThrough);
    const planned = await this.deps.deliveries.plan(cadence, timeZone, key, onlyTeam);
    if (planned > 0) this.deps.logger.info({ cadence, timeZone, period: key, planned }, 'digests planned');
    const delivered = await this.deliverPending();
    return { ...delivered, planned };
  }

  /** Posts every planned, stalled or retryable digest; one pass at a time in this instance. */
  deliverPending(): Promise<DigestRunReport> {
    this.delivering ??= this.drain().finally(() => (this.delivering = undefined));
    return this.delivering;
  }

  private async drain(): Promise<DigestRunReport> {
    let posted = 0;
    let failed = 0;
    for (let claimed = await this.deps.deliveries.claimNext(this.deps.holder, LEASE_MS); claimed; claimed = await this.deps.deliveries.claimNext(this.deps.holder, LEASE_MS)) {
      if (await this.deliver(claimed)) posted += 1;
      else failed += 1;
    }
    return { planned: 0, posted, failed };
  }

  private async deliver({ delivery, subscription }: ClaimedDelivery): Promise<boolean> {
    const { deliveries, holder, logger } = this.deps;
    const where = { subscription: subscription.id, conversation: subscription.conversationId, period: delivery.periodKey };
    const notifier = this.deps.notifiers.get(subscription.platform);
    try {
      if (!notifier) throw new DeliveryError('platform_not_configured', true, `${subscription.platform} is not configured on this bot`);
      const digest = await buildDigest(this.deps.handler, { cadence: subscription.cadence, team: subscription.team, through: lastDayOf(delivery.periodKey) });
      if (!delivery.messageId) {
        await this.pace(subscription.conversationId);
        const messageId = await notifier.postMessage(subscription.conversationId, digest.reply);
        await deliveries.recordMessage(delivery, holder, messageId, LEASE_MS);
      }
      const png = await this.deps.charts.renderPng(digest.chart);
      await this.pace(subscription.conversationId);
      const chartId = await notifier.postChart(subscription.conversationId, png, digest.chart.title);
      await deliveries.recordPosted(delivery, holder, chartId);
      logger.info(where, 'digest posted');
      return true;
    } catch (error) {
      const permanent = error instanceof DeliveryError ? error.permanent : isFinOpsError(error) && error.code !== 'database_unavailable';
      const reason = error instanceof DeliveryError ? error.code : error instanceof Error ? error.message : String(error);
      (permanent ? logger.warn : logger.error).call(logger, { ...where, err: error, permanent }, permanent ? 'digest not delivered; the subscription is marked' : 'digest delivery failed; will retry');
      await deliveries.recordFailure(delivery, holder, reason, permanent).catch((second: unknown) => logger.error({ ...where, err: second }, 'could not record a failed digest'));
      return false;
    }
  }

  private async pace(conversationId: string): Promise<void> {
    const last = this.lastPostAt.get(conversationId);
    const wait = last === undefined ? 0 : last + CONVERSATION_GAP_MS - Date.now();
    if (wait > 0) await this.sleep(wait);
    this.lastPostAt.set(conversationId, Date.now());
  }
}

/** The last day a period key covers: the day itself, or the Sunday of a week keyed by its Monday. */
export function lastDayOf(periodKey: string): PlainDate {
  const [cadence, day] = periodKey.split(':') as [string, PlainDate];
  return cadence === 'weekly' ? addDays(day, 6) : day;
}
