/**
 * Copies daily cost facts from the cost source into the store, so every command answers
 * from PostgreSQL and the number of paid Cost Explorer requests stays flat however many
 * people ask.
 *
 * One sync sends one request per facet (plus pages), each grouped by the team tag and one
 * other dimension, one request for the names of the accounts, and one for the source's
 * forecast of the rest of the month. The first sync backfills `backfillDays`; later ones re-fetch the
 * last `revisionDays` days, because AWS revises recent days for about 48 hours. A sync runs
 * only when the data is missing a complete day, at most once per `retryAfterMs` after a
 * failure, and only on the one instance that holds the sync lease.
 */
import { type CostFact, type CostMetric, type Facet, COST_METRICS, TOTAL_FACET } from '../core/cost-model.js';
import { isFinOpsError } from '../core/errors.js';
import { addDays, maxDate, minDate, startOfNextMonth, todayIn, type PlainDate } from '../core/period.js';
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
  /** Wait this long after a failed attempt before trying again. */
  readonly retryAfterMs: number;
  /**
   * Longest range fetched and stored at once. A backfill goes oldest first in windows of
   * this size, each in its own transaction, so memory stays flat and an interrupted
   * backfill resumes where it stopped.
   */
  readonly windowDays: number;
  /** Metric of the source's month-end forecast fetched with each sync; none when undefined. */
  readonly forecastMetric?: CostMetric | undefined;
}

/** Sensible defaults: 400 days of history, 3 days re-fetched, an hour between failed tries. */
export const DEFAULT_SYNC_SETTINGS: Omit<SyncSettings, 'facets' | 'teamTag'> = {
  backfillDays: 400,
  revisionDays: 3,
  retryAfterMs: 60 * 60_000,
  windowDays: 31,
};

/** What a sync did. */
export interface SyncReport {
  readonly ran: boolean;
  /** Why nothing ran, when it did not. */
  readonly skipped?: 'fresh' | 'locked' | 'backing-off';
  readonly synced: { facet: Facet; start: PlainDate; end: PlainDate; facts: number }[];
  readonly errors: { facet: Facet; message: string }[];
}

/** Everything a sync needs from the outside. */
export interface SyncDeps {
  readonly source: CostSource;
  readonly store: CostStore;
  readonly clock: Clock;
}

/**
 * Syncs every facet that is missing complete days. Cost Explorer days are UTC days, so
 * "complete" means before today in UTC.
 */
export async function syncCosts(deps: SyncDeps, settings: SyncSettings, options: { force?: boolean } = {}): Promise<SyncReport> {
  const needed = await facetsNeedingSync(deps, settings, options.force ?? false);
  if (needed.kind !== 'sync') return { ran: false, skipped: needed.kind, synced: [], errors: [] };
  const result = await deps.store.withSyncLock(async () => {
    // Another instance may have synced while we waited: look again under the lock.
    const again = await facetsNeedingSync(deps, settings, options.force ?? false);
    if (again.kind !== 'sync') return { ran: false, skipped: again.kind, synced: [], errors: [] } satisfies SyncReport;
    return runSync(deps, settings, again.states);
  });
  return result ?? { ran: false, skipped: 'locked', synced: [], errors: [] };
}

/** True when some facet lacks a complete day (what `serve` checks at start). */
export async function isStale(deps: Pick<SyncDeps, 'store' | 'clock'>, facets: readonly Facet[]): Promise<boolean> {
  const today = todayIn('UTC', deps.clock.now());
  const states = new Map((await deps.store.getSyncStates()).map((state) => [state.facet, state]));
  return facets.some((facet) => (states.get(facet)?.syncedUntil ?? '0000-01-01') < today);
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

async function facetsNeedingSync(
  deps: SyncDeps,
  settings: SyncSettings,
  force: boolean,
): Promise<{ kind: 'sync'; states: Map<Facet, SyncState> } | { kind: 'fresh' | 'backing-off' }> {
  const now = deps.clock.now();
  const today = todayIn('UTC', now);
  const states = new Map((await deps.store.getSyncStates()).map((state) => [state.facet, state]));
  const stale = settings.facets.filter((facet) => force || (states.get(facet)?.syncedUntil ?? '0000-01-01') < today);
  if (stale.length === 0) return { kind: 'fresh' };
  // A failure (throttling, permissions) is about the source, not one facet: back off as a whole.
  const lastFailure = Math.max(0, ...[...states.values()].filter((state) => state.lastError).map((state) => state.lastAttemptAt?.getTime() ?? 0));
  if (!force && now.getTime() - lastFailure < settings.retryAfterMs) return { kind: 'backing-off' };
  return { kind: 'sync', states };
}

async function runSync(deps: SyncDeps, settings: SyncSettings, states: Map<Facet, SyncState>): Promise<SyncReport> {
  const today = todayIn('UTC', deps.clock.now());
  const earliest = addDays(today, -settings.backfillDays);
  const synced: SyncReport['synced'] = [];
  const errors: SyncReport['errors'] = [];
  // The total facet first: if the source is throttling, the most used figures are the freshest.
  const ordered = [...settings.facets].sort((a, b) => Number(b === TOTAL_FACET) - Number(a === TOTAL_FACET));
  for (const facet of ordered) {
    const syncedUntil = states.get(facet)?.syncedUntil;
    const start = syncedUntil ? maxDate(earliest, minDate(addDays(syncedUntil, -settings.revisionDays), today)) : earliest;
    if (start >= today) continue;
    try {
      let facts = 0;
      for (let windowStart = start; windowStart < today; windowStart = addDays(windowStart, settings.windowDays)) {
        const range = { start: windowStart, end: minDate(addDays(windowStart, settings.windowDays), today) };
        const rows = await deps.source.getDailyCosts({
          range,
          groupBy: [{ type: 'TAG', key: settings.teamTag }, groupingFor(facet)],
        });
        const windowFacts = mergeRows(facet, rows);
        await deps.store.replaceFacts(facet, range, windowFacts);
        await deps.store.recordSyncAttempt(facet, deps.clock.now(), { syncedUntil: range.end });
        facts += windowFacts.length;
      }
      synced.push({ facet, start, end: today, facts });
    } catch (error) {
      const message = isFinOpsError(error) ? error.message : `Sync of ${facet} failed: ${error instanceof Error ? error.message : String(error)}`;
      errors.push({ facet, message });
      await deps.store.recordSyncAttempt(facet, deps.clock.now(), { error: message }).catch(() => undefined);
      // Throttling or missing permissions will fail every other facet too: stop spending requests.
      if (isFinOpsError(error, 'cost_source_throttled') || isFinOpsError(error, 'cost_source_denied')) break;
    }
  }
  const accounts = synced.find((entry) => entry.facet === 'account');
  if (accounts) {
    // Names are for reading only: a failure here is reported but loses no cost data.
    try {
      await deps.store.saveAccountNames(await deps.source.getAccountNames({ start: accounts.start, end: accounts.end }));
    } catch (error) {
      errors.push({ facet: 'account', message: `Account names were not refreshed: ${isFinOpsError(error) ? error.message : String(error)}` });
    }
  }
  if (settings.forecastMetric && errors.length === 0) {
    const range = { start: today, end: startOfNextMonth(today) };
    try {
      await deps.store.saveSourceForecast(await deps.source.getForecast(range, settings.forecastMetric), deps.clock.now());
    } catch (error) {
      errors.push({ facet: TOTAL_FACET, message: `The source's forecast was not refreshed: ${isFinOpsError(error) ? error.message : String(error)}` });
    }
  }
  return { ran: true, synced, errors };
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
