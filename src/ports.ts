/**
 * The interfaces the application needs from the outside world. Adapters implement them;
 * only main.ts knows which implementation is in use.
 */
import type { DailyStackChart } from './core/chart.js';
import type { CostFact, CostMetric, Facet, KeyedAmount } from './core/cost-model.js';
import type { Amount } from './core/money.js';
import type { DateRange, PlainDate } from './core/period.js';
import type { Reply } from './core/reply.js';

/** Tells the time. Passed in so tests and the core never read the wall clock themselves. */
export interface Clock {
  now(): Date;
}

/** One grouping of a Cost Explorer request: a dimension (SERVICE, LINKED_ACCOUNT …) or a tag key. */
export interface CostGrouping {
  readonly type: 'DIMENSION' | 'TAG';
  readonly key: string;
}

/**
 * One row of a daily, two-way grouped cost report. Tag values arrive without their
 * "Key$" prefix; an empty string means the resource had no value for that tag.
 */
export interface DailyCostRow {
  readonly date: PlainDate;
  readonly keys: readonly [string, string];
  readonly currency: string;
  readonly costs: Readonly<Record<CostMetric, Amount>>;
  readonly estimated: boolean;
}

/** A request for daily costs grouped by two keys (Cost Explorer allows at most two). */
export interface DailyCostRequest {
  readonly range: DateRange;
  readonly groupBy: readonly [CostGrouping, CostGrouping];
}

/** A month-end (or any range) forecast from the cost source. */
export interface SourceForecast {
  readonly range: DateRange;
  readonly metric: CostMetric;
  readonly currency: string;
  readonly mean: Amount;
  readonly low: Amount;
  readonly high: Amount;
}

/** Where cost data comes from: AWS Cost Explorer or the built-in demo organisation. */
export interface CostSource {
  readonly kind: 'aws' | 'demo';
  /** Every page of a daily cost report, all three cost metrics at once. */
  getDailyCosts(request: DailyCostRequest): Promise<DailyCostRow[]>;
  /** The source's own forecast of total spend over a future range. */
  getForecast(range: DateRange, metric: CostMetric): Promise<SourceForecast>;
  /** Names of the linked accounts that had usage in `range`, by account id. */
  getAccountNames(range: DateRange): Promise<ReadonlyMap<string, string>>;
}

/** One request sent to a paid API (each Cost Explorer request costs USD 0.01). */
export interface ApiRequestRecord {
  readonly at: Date;
  readonly operation: string;
  /** Attempts the SDK made, retries included. */
  readonly attempts: number;
  readonly outcome: 'ok' | 'throttled' | 'error';
  readonly detail: string;
}

/** Keeps a ledger of paid API requests so the bot can say what it has spent. */
export interface ApiRequestLedger {
  record(entry: ApiRequestRecord): Promise<void>;
}

/** What the store knows about one facet's synced data. */
export interface SyncState {
  readonly facet: Facet;
  /** Exclusive end of the days that have been fetched (the data is through the day before). */
  readonly syncedUntil: PlainDate | undefined;
  /** First day fetched: there is no history before it. */
  readonly syncedFrom: PlainDate | undefined;
  /** Failed attempts since the last success. */
  readonly failures: number;
  readonly lastAttemptAt: Date | undefined;
  readonly lastSuccessAt: Date | undefined;
  readonly lastError: string | undefined;
}

/** One day's sum for one key of a grouping. */
export interface DailyKeyedAmount {
  readonly date: PlainDate;
  readonly team: string;
  readonly value: string;
  readonly amount: Amount;
}

/** A filter on the stored facts. */
export interface FactQuery {
  readonly range: DateRange;
  readonly metric: CostMetric;
  /** Only this team's spend ('' = untagged). */
  readonly team?: string | undefined;
  /** Only this facet value ('' = untagged, for tag facets). */
  readonly value?: string | undefined;
}

/** Daily cost facts and their sync state, kept in PostgreSQL. */
export interface CostStore {
  /**
   * Replaces every fact of `facet` in `range` with `facts`, atomically, so a re-sync of a
   * range never duplicates or loses a day.
   */
  replaceFacts(facet: Facet, range: DateRange, facts: readonly CostFact[]): Promise<void>;
  /** Sums a facet over a range, grouped by the facet value (or by team when `by` is 'team'). */
  sumBy(facet: Facet, by: 'value' | 'team', query: FactQuery): Promise<KeyedAmount[]>;
  /** Daily totals of a facet over a range (days without facts are absent). */
  sumByDay(facet: Facet, query: FactQuery): Promise<KeyedAmount[]>;
  /**
   * Daily sums of a facet by team, by facet value, or by both, oldest first: every series of
   * a kind in one read (what the anomaly scan needs). Days without facts are absent; the
   * part a row is not grouped by is ''.
   */
  sumByDayAndKey(facet: Facet, by: 'team' | 'value' | 'team-value', query: FactQuery): Promise<DailyKeyedAmount[]>;
  /** Currency of the stored facts (Cost Explorer reports one currency per payer). */
  currency(): Promise<string | undefined>;
  /** Every team that has spend in the store (untagged included, as ''). */
  listTeams(): Promise<string[]>;
  getSyncStates(): Promise<SyncState[]>;
  recordSyncAttempt(facet: Facet, at: Date, outcome: { syncedUntil: PlainDate; syncedFrom: PlainDate | undefined } | { error: string }): Promise<void>;
  /**
   * Runs `work` while holding the cluster-wide sync lock, or returns undefined at once when
   * another sync (on this instance or another) holds it. `work` calls `renew` between steps
   * to keep the lock; it answers false when the lock was lost and the work must stop.
   */
  withSyncLock<T>(work: (renew: () => Promise<boolean>) => Promise<T>): Promise<T | undefined>;
  /** First day AWS still marks as estimated among the recent facts of a facet, if any. */
  estimatedFrom(facet: Facet, since: PlainDate): Promise<PlainDate | undefined>;
  /** Keeps the source's forecast of a range (one per metric and start day; a newer one replaces it). */
  saveSourceForecast(forecast: SourceForecast, fetchedAt: Date): Promise<void>;
  /** The source's forecast for the range starting on `start`, if one was fetched. */
  sourceForecast(metric: CostMetric, start: PlainDate): Promise<SourceForecast | undefined>;
  /** Remembers account names (ids are what costs are grouped by; names are what people read). */
  saveAccountNames(names: ReadonlyMap<string, string>): Promise<void>;
  /** Every known account name, by account id. */
  accountNames(): Promise<ReadonlyMap<string, string>>;
  /** Paid requests recorded since `since` (those that reached the API). */
  countApiRequests(since: Date): Promise<{ requests: number; attempts: number }>;
}

/**
 * Remembers which inbound deliveries (Slack events, slash commands, button clicks, Teams
 * activities) some instance has already taken, so a retried delivery is answered once.
 */
export interface DeliveryLedger {
  /** True the first time `key` is claimed by any instance; false for every repeat. */
  claim(key: string): Promise<boolean>;
  /** Gives a claim back when its work produced nothing, so a new attempt may take it. */
  release(key: string): Promise<void>;
}

/** Draws charts for digests. */
export interface ChartRenderer {
  /** A PNG image of `chart`. */
  renderPng(chart: DailyStackChart): Promise<Uint8Array>;
}

/** How often a digest comes. */
export type Cadence = 'daily' | 'weekly';

/** Where a conversation lives. */
export type Platform = 'slack' | 'teams';

/** A conversation's subscription to a digest. */
export interface Subscription {
  readonly id: number;
  readonly platform: Platform;
  readonly conversationId: string;
  readonly cadence: Cadence;
  /** The team whose digest it is; undefined for the whole organisation, '' for untagged spend. */
  readonly team: string | undefined;
  readonly timeZone: string;
  readonly createdBy: string;
  readonly createdAt: Date;
  /** The last delivery problem that needs a person, cleared by the next success. */
  readonly problem: string | undefined;
  readonly problemAt: Date | undefined;
}

/** What a new subscription says. */
export type NewSubscription = Pick<Subscription, 'platform' | 'conversationId' | 'cadence' | 'team' | 'timeZone' | 'createdBy'>;

/** Subscriptions, channel-neutral (Slack and Teams alike). */
export interface SubscriptionStore {
  /** Adds the subscription; `created` is false when the conversation already had it. */
  subscribe(subscription: NewSubscription): Promise<{ created: boolean; subscription: Subscription }>;
  /** Moves a subscription to another time zone. */
  changeTimeZone(id: number, timeZone: string): Promise<void>;
  /** Removes it; false when there was none. */
  unsubscribe(target: Pick<Subscription, 'platform' | 'conversationId' | 'cadence' | 'team'>): Promise<boolean>;
  /** The conversation's subscriptions, with the last delivery of each. */
  listFor(platform: Platform, conversationId: string): Promise<{ subscription: Subscription; lastDelivery: DeliveryRecord | undefined }[]>;
  /** The conversations subscribed to a team's digest (either cadence; '' = untagged spend): where its anomaly alerts go. */
  conversationsFor(team: string): Promise<{ platform: Platform; conversationId: string }[]>;
  /** The distinct time zones of subscriptions of each cadence (the scheduler runs one timer per pair). */
  schedules(): Promise<{ cadence: Cadence; timeZone: string }[]>;
}

/** How far one digest's delivery got. */
export interface DeliveryRecord {
  readonly subscriptionId: number;
  readonly periodKey: string;
  /** `gave_up`: out of attempts or out of time; the subscription says why. */
  readonly status: 'pending' | 'claimed' | 'message_posted' | 'posted' | 'failed' | 'gave_up';
  readonly attempts: number;
  readonly messageId: string | undefined;
  readonly error: string | undefined;
  readonly postedAt: Date | undefined;
}

/** A delivery this instance has taken, with its subscription. */
export interface ClaimedDelivery {
  readonly delivery: DeliveryRecord;
  readonly subscription: Subscription;
}

/**
 * The ledger that makes each digest go out once, whatever number of instances run: rows
 * keyed by (subscription, period), taken one at a time under an expiring lease in single
 * atomic statements (no session state, so it works through RDS Proxy). Every write made
 * under a lease returns false when the lease was lost: the caller must then stop.
 */
export interface DigestDeliveryStore {
  /**
   * Plans the digest `periodKey` for every subscription of `cadence` in `timeZone` (only
   * `onlyTeam`'s, when given); idempotent; returns how many were new.
   */
  plan(cadence: Cadence, timeZone: string, periodKey: string, onlyTeam?: string): Promise<number>;
  /**
   * Takes the next delivery on one of `platforms` that is planned, whose lease expired, or
   * that may be retried; undefined when none.
   */
  claimNext(holder: string, leaseMs: number, platforms: readonly Platform[]): Promise<ClaimedDelivery | undefined>;
  /** Records the posted message and extends the lease. */
  recordMessage(delivery: DeliveryRecord, holder: string, messageId: string, leaseMs: number): Promise<boolean>;
  /** The digest is out: message and chart. Clears the subscription's problem. */
  recordPosted(delivery: DeliveryRecord, holder: string, chartId: string | undefined): Promise<boolean>;
  /**
   * The attempt failed. `permanent` failures are not retried and mark the subscription's
   * problem; `messageId` keeps a message that did go out, so a retry only adds the chart.
   */
  recordFailure(delivery: DeliveryRecord, holder: string, failure: { error: string; permanent: boolean; messageId?: string | undefined }): Promise<boolean>;
  /** Not yet possible (the data does not cover the period): try again after `afterMs`, without using up an attempt. */
  postpone(delivery: DeliveryRecord, holder: string, reason: string, afterMs: number): Promise<boolean>;
  /** Deliveries out of attempts or older than a day become `gave_up`, and their subscriptions say so; returns how many. */
  giveUpStale(): Promise<number>;
}

/** Posts digests into conversations of one platform. */
export interface DigestNotifier {
  readonly platform: Platform;
  /** Posts the digest; returns the message id. Throws a DeliveryError when the platform refuses. */
  postMessage(conversationId: string, reply: Reply): Promise<string>;
  /** Posts the chart right after the message; returns the file id. Throws a DeliveryError when refused. */
  postChart(conversationId: string, png: Uint8Array, title: string): Promise<string>;
}

// The AI answers' ports: the model, the conversation memory and the usage ledger.
export type * from './ports/ai.js';

// Anomaly detection's ports: the anomaly store, AWS Cost Anomaly Detection and alert notifiers.
export type * from './ports/anomalies.js';

// Budgets' ports: the budget store with its threshold-alert ledger, and AWS Budgets.
export type * from './ports/budgets.js';

/** Rightsizing recommendations, approvals, approvers, the audit log and EC2 execution. */
export type * from './ports/rightsizing.js';
