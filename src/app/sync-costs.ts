/**
 * Copies daily cost facts from the cost source into the store, so every command answers
 * from PostgreSQL and the number of paid Cost Explorer requests stays flat however many
 * people ask.
 *
 * One sync sends one request per facet (plus pages), each grouped by the team tag and one
 * other dimension, one request for the names of the accounts, and one for the source's
 * forecast of the rest of the month. The first sync backfills `backfillDays`; later ones
 * re-fetch the last `revisionDays` days, because AWS revises recent days for about 48 hours,
 * and in the first week of a month the whole previous month, for its month-close items. A
 * sync runs only when a day is missing that is ready to fetch, backs off longer after each
 * failure, and runs only on the one instance that holds the sync lease.
 */
import { type CostFact, type CostMetric, type Facet, COST_METRICS, TOTAL_FACET } from '../core/cost-model.js';
import { isFinOpsError } from '../core/errors.js';
import { addDays, maxDate, minDate, startOfNextMonth, startOfPreviousMonth, todayIn, type PlainDate } from '../core/period.js';
import type { Clock, CostGrouping, CostSource, CostStore, SyncState } from '../ports.js';

/** How syncs behave. */
export interface SyncSettings {
  /** Facets to keep (base facets plus configured tag keys). */
  readonly facets: readonly Facet[];
  /** Cost-allocation tag key that names a team. */
  readonly teamTag: string;
  /** Days fetched on the first sync. */
  readonly backfillDays: number;
  /** Most recent days re-fetched on every sync (AWS revises them). */
  readonly revisionDays: number;
  /**
   * Days of the month on which the whole previous month is re-fetched too: month-close
   * items (tax, support, credits, refunds) land on its days after it ends.
   */
  readonly monthCloseRefetchDays: readonly number[];
  /**
   * Hour (UTC) after which yesterday is fetched. Cost Explorer fills a day in over the
   * following hours, so fetching it right after midnight would show it far too low all day.
   */
  readonly readyAfterHourUtc: number;
  /** First wait after a failed attempt; it doubles with each further failure. */
  readonly retryAfterMs: number;
  /** Longest wait between attempts while failures continue. */
  readonly maxRetryAfterMs: number;
  /**
   * Longest range fetched and stored at once. A backfill goes oldest first in windows of
   * this size, each in its own transaction, so memory stays flat and an interrupted
   * backfill resumes where it stopped.
   */
  readonly windowDays: number;
  /** Metric of the source's month-end forecast fetched with each sync; none when undefined. */
  readonly forecastMetric?: CostMetric | undefined;
}

/**
 * Sensible defaults: 400 days of history, 3 days re-fetched (the previous month too on the
 * 3rd and the 8th), yesterday fetched from 06:00 UTC, failures retried after 1, 2, 4, 8 hours.
 */
export const DEFAULT_SYNC_SETTINGS: Omit<SyncSettings, 'facets' | 'teamTag'> = {
  backfillDays: 400,
  revisionDays: 3,
  monthCloseRefetchDays: [3, 8],
  readyAfterHourUtc: 6,
  retryAfterMs: 60 * 60_000,
  maxRetryAfterMs: 8 * 60 * 60_000,
  windowDays: 40,
};

/** What a sync did. */
export interface SyncReport {
  readonly ran: boolean;
  /** Why nothing ran, when it did not. */
  readonly skipped?: 'fresh' | 'locked' | 'backing-off';
  readonly synced: { facet: Facet; start: PlainDate; end: PlainDate; facts: number }[];
  /** Failures as sentences; `cause` is the original error, for the logs only. */
  readonly errors: { facet: Facet; message: string; cause?: unknown }[];
}

/** Everything a sync needs from the outside. */
export interface SyncDeps {
  readonly source: CostSource;
  readonly store: CostStore;
  readonly clock: Clock;
}

/**
 * Syncs every facet that is missing a complete day. Cost Explorer days are UTC days; a day
 * is fetched once it is over and `readyAfterHourUtc` has passed.
 */
export async function syncCosts(deps: SyncDeps, settings: SyncSettings, options: { force?: boolean } = {}): Promise<SyncReport> {
  const force = options.force ?? false;
  const needed = await facetsNeedingSync(deps, settings, force);
  if (needed.kind !== 'sync') return { ran: false, skipped: needed.kind, synced: [], errors: [] };
  const result = await deps.store.withSyncLock(async (renew) => {
    // Another instance may have synced while we waited: look again under the lock.
    const again = await facetsNeedingSync(deps, settings, force);
    if (again.kind !== 'sync') return { ran: false, skipped: again.kind, synced: [], errors: [] } satisfies SyncReport;
    return runSync(deps, settings, again, renew);
  });
  return result ?? { ran: false, skipped: 'locked', synced: [], errors: [] };
}

/** True when some facet lacks a day that is ready to fetch (what `serve` and `chat` check at start). */
export async function isStale(deps: Pick<SyncDeps, 'store' | 'clock'>, settings: Pick<SyncSettings, 'facets' | 'readyAfterHourUtc'>): Promise<boolean> {
  const target = syncTarget(deps.clock.now(), settings.readyAfterHourUtc);
  const states = new Map((await deps.store.getSyncStates()).map((state) => [state.facet, state]));
  return staleFacets(settings.facets, states, target).length > 0;
}

/** Facets whose stored days stop before `target` (never-synced ones included). */
function staleFacets(facets: readonly Facet[], states: ReadonlyMap<Facet, SyncState>, target: PlainDate): Facet[] {
  return facets.filter((facet) => {
    const syncedUntil = states.get(facet)?.syncedUntil;
    return syncedUntil === undefined || syncedUntil < target;
  });
}

/**
 * The exclusive end of the days that should be in the store now: today (UTC) once
 * yesterday is ready, otherwise yesterday.
 */
export function syncTarget(now: Date, readyAfterHourUtc: number): PlainDate {
  const today = todayIn('UTC', now);
  return now.getUTCHours() >= readyAfterHourUtc ? today : addDays(today, -1);
}

/** Cost Explorer grouping for a facet. */
export function groupingFor(facet: Facet): CostGrouping {
  switch (facet) {
    case 'service':
      return { type: 'DIMENSION', key: 'SERVICE' };
    case 'account':
      return { type: 'DIMENSION', key: 'LINKED_ACCOUNT' };
    case 'region':
      return { type: 'DIMENSION', key: 'REGION' };
    case 'usage-type':
      return { type: 'DIMENSION', key: 'USAGE_TYPE' };
    default:
      return { type: 'TAG', key: facet.slice('tag:'.length) };
  }
}

/** How early a scheduled retry may come and still count as due. */
const RETRY_SLACK_MS = 5 * 60_000;

type SyncPlan = { kind: 'sync'; facets: Facet[]; states: Map<Facet, SyncState>; target: PlainDate } | { kind: 'fresh' | 'backing-off' };

async function facetsNeedingSync(deps: SyncDeps, settings: SyncSettings, force: boolean): Promise<SyncPlan> {
  const now = deps.clock.now();
  const target = syncTarget(now, settings.readyAfterHourUtc);
  const states = new Map((await deps.store.getSyncStates()).map((state) => [state.facet, state]));
  const stale = force ? [...settings.facets] : staleFacets(settings.facets, states, target);
  if (stale.length === 0) return { kind: 'fresh' };
  // A failure (throttling, permissions) is about the source, not one facet: back off as a
  // whole, longer after each consecutive failure, so a persistent fault costs few requests.
  const failing = [...states.values()].filter((state) => state.lastError && state.lastAttemptAt);
  if (!force && failing.length > 0) {
    const lastFailure = Math.max(...failing.map((state) => state.lastAttemptAt!.getTime()));
    const failures = Math.max(...failing.map((state) => state.failures));
    const wait = Math.min(settings.maxRetryAfterMs, settings.retryAfterMs * 2 ** Math.max(0, failures - 1));
    // A scheduled check may come a few seconds early: allow for it rather than skip an hour.
    if (now.getTime() - lastFailure < wait - RETRY_SLACK_MS) return { kind: 'backing-off' };
  }
  return { kind: 'sync', facets: stale, states, target };
}

async function runSync(deps: SyncDeps, settings: SyncSettings, plan: Extract<SyncPlan, { kind: 'sync' }>, renew: () => Promise<boolean>): Promise<SyncReport> {
  const { target } = plan;
  const earliest = addDays(target, -settings.backfillDays);
  // Early in a month, the previous month's close is still being posted: fetch it again.
  const closing = settings.monthCloseRefetchDays.includes(Number(target.slice(8, 10))) ? startOfPreviousMonth(target) : target;
  const synced: SyncReport['synced'] = [];
  const errors: SyncReport['errors'] = [];
  // The total facet first (the most used figures are the freshest), facets that failed last
  // time last (a persistent fault in one must not hold the others back).
  const rank = (facet: Facet) => (facet === TOTAL_FACET ? 0 : plan.states.get(facet)?.lastError ? 2 : 1);
  const ordered = [...plan.facets].sort((a, b) => rank(a) - rank(b));
  for (const facet of ordered) {
    const state = plan.states.get(facet);
    const start = state?.syncedUntil ? maxDate(earliest, minDate(addDays(state.syncedUntil, -settings.revisionDays), closing)) : earliest;
    if (start >= target) continue;
    try {
      let facts = 0;
      // The history starts where the first backfill started; re-fetching recent days never moves it.
      const backfilling = state?.syncedUntil === undefined;
      let syncedFrom = state?.syncedFrom;
      for (let windowStart = start; windowStart < target; windowStart = addDays(windowStart, settings.windowDays)) {
        // Keep the lease alive between windows; if another instance has taken over, stop.
        if (!(await renew())) return { ran: true, synced, errors };
        const range = { start: windowStart, end: minDate(addDays(windowStart, settings.windowDays), target) };
        const rows = await deps.source.getDailyCosts({
          range,
          groupBy: [{ type: 'TAG', key: settings.teamTag }, groupingFor(facet)],
        });
        const windowFacts = mergeRows(facet, rows);
        await deps.store.replaceFacts(facet, range, windowFacts);
        if (backfilling || syncedFrom !== undefined) syncedFrom = minDate(syncedFrom ?? range.start, range.start);
        await deps.store.recordSyncAttempt(facet, deps.clock.now(), { syncedUntil: range.end, syncedFrom });
        facts += windowFacts.length;
      }
      synced.push({ facet, start, end: target, facts });
    } catch (error) {
      // Coded errors carry a sentence; anything else is described briefly and logged whole.
      const message = isFinOpsError(error) ? error.message : `The sync of ${facet} failed on our side (${errorName(error)}); the details are in the logs.`;
      errors.push({ facet, message, cause: error });
      await deps.store.recordSyncAttempt(facet, deps.clock.now(), { error: message }).catch(() => undefined);
      // Whatever failed (throttling, permissions, an outage, our database) will likely fail
      // the next request too: stop spending paid requests until the back-off has passed.
      break;
    }
  }
  const accounts = synced.find((entry) => entry.facet === 'account');
  if (accounts) {
    // Names are for reading only: a failure here is reported but loses no cost data.
    try {
      await deps.store.saveAccountNames(await deps.source.getAccountNames({ start: accounts.start, end: accounts.end }));
    } catch (error) {
      errors.push({ facet: 'account', message: `Account names were not refreshed: ${describe(error)}`, cause: error });
    }
  }
  // The source's forecast of the rest of the month, once a day, as soon as the totals are current.
  const totalsCurrent = synced.some((entry) => entry.facet === TOTAL_FACET) || (plan.states.get(TOTAL_FACET)?.syncedUntil ?? '') >= target;
  if (settings.forecastMetric && totalsCurrent && !(await deps.store.sourceForecast(settings.forecastMetric, target))) {
    const range = { start: target, end: startOfNextMonth(target) };
    try {
      await deps.store.saveSourceForecast(await deps.source.getForecast(range, settings.forecastMetric), deps.clock.now());
    } catch (error) {
      errors.push({ facet: TOTAL_FACET, message: `The source's forecast was not refreshed: ${describe(error)}`, cause: error });
    }
  }
  return { ran: true, synced, errors };
}

function describe(error: unknown): string {
  return isFinOpsError(error) ? error.message : `an unexpected ${errorName(error)}; the details are in the logs.`;
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

/** Turns source rows into facts, merging any repeated (day, team, value) exactly. */
function mergeRows(facet: Facet, rows: Awaited<ReturnType<CostSource['getDailyCosts']>>): CostFact[] {
  const merged = new Map<string, { date: PlainDate; team: string; value: string; currency: string; estimated: boolean; costs: Record<CostMetric, bigint> }>();
  for (const row of rows) {
    const [team, value] = row.keys;
    const key = `${row.date}\u0000${team}\u0000${value}`;
    const existing = merged.get(key);
    if (existing) {
      for (const metric of COST_METRICS) existing.costs[metric] += row.costs[metric];
      existing.estimated ||= row.estimated;
    } else {
      merged.set(key, { date: row.date, team, value, currency: row.currency, estimated: row.estimated, costs: { ...row.costs } });
    }
  }
  return [...merged.values()].map((fact) => ({ ...fact, facet }));
}
