/**
 * The PostgreSQL implementation of {@link CostStore}: daily facts, sync state and the paid
 * request ledger. Sums are done by the database in exact `numeric` and parsed into exact
 * amounts, so nothing passes through a float.
 */
import { randomUUID } from 'node:crypto';
import { and, count, eq, gt, gte, sql, sum } from 'drizzle-orm';
import { type CostFact, type CostMetric, type Facet, type KeyedAmount, TOTAL_FACET } from '../../core/cost-model.js';
import { amountToDecimalString, parseAmount } from '../../core/money.js';
import type { DateRange, PlainDate } from '../../core/period.js';
import type { ApiRequestLedger, ApiRequestRecord, CostStore, DailyKeyedAmount, FactQuery, SourceForecast, SyncState } from '../../ports.js';
import { replaceFactRange, sumFacts, sumFactsByDay, sumFactsByDayAndKey } from './cost-facts.js';
import { databaseUnavailable, isConnectionError, selectRows, type Db } from './database.js';
import { acquireLease, releaseLease } from './job-lease.js';
import { accountNames, apiRequests, costFacts, sourceForecasts, syncState } from './schema.js';

const SYNC_LEASE = 'cost-sync';
const SYNC_LEASE_MS = 15 * 60_000;
/** Longest sync error kept (it is shown in answers' footers). */
const MAX_ERROR_LENGTH = 300;

/** Cost facts and sync state in PostgreSQL (or PGlite). */
export class PgCostStore implements CostStore, ApiRequestLedger {
  private readonly instanceId = randomUUID();

  constructor(private readonly db: Db) {}

  async replaceFacts(facet: Facet, range: DateRange, facts: readonly CostFact[]): Promise<void> {
    await guard(() => replaceFactRange(this.db, facet, range, facts));
  }

  async sumBy(facet: Facet, by: 'value' | 'team', query: FactQuery): Promise<KeyedAmount[]> {
    return guard(() => sumFacts(this.db, facet, by, query));
  }

  async sumByDay(facet: Facet, query: FactQuery): Promise<KeyedAmount[]> {
    return guard(() => sumFactsByDay(this.db, facet, query));
  }

  async sumByDayAndKey(facet: Facet, by: 'team' | 'value' | 'team-value', query: FactQuery): Promise<DailyKeyedAmount[]> {
    return guard(() => sumFactsByDayAndKey(this.db, facet, by, query));
  }

  async currency(): Promise<string | undefined> {
    const rows = await guard(() => this.db.select({ currency: costFacts.currency }).from(costFacts).limit(1));
    return rows[0]?.currency;
  }

  async listTeams(): Promise<string[]> {
    // A loose index scan: one index probe per team instead of reading every fact.
    const rows = await guard(() =>
      selectRows<{ team: string }>(
        this.db,
        sql`with recursive teams(team) as (
              select min(team) from cost_facts where facet = ${TOTAL_FACET}
              union all
              select (select min(team) from cost_facts where facet = ${TOTAL_FACET} and team > teams.team)
              from teams where teams.team is not null
            )
            select team from teams where team is not null`,
      ),
    );
    return rows.map((row) => row.team).sort();
  }

  async getSyncStates(): Promise<SyncState[]> {
    const rows = await guard(() => this.db.select().from(syncState));
    return rows.map((row) => ({
      facet: row.facet as Facet,
      syncedUntil: row.syncedUntil ?? undefined,
      syncedFrom: row.syncedFrom ?? undefined,
      failures: row.failures,
      lastAttemptAt: row.lastAttemptAt ?? undefined,
      lastSuccessAt: row.lastSuccessAt ?? undefined,
      lastError: row.lastError ?? undefined,
    }));
  }

  async recordSyncAttempt(facet: Facet, at: Date, outcome: { syncedUntil: PlainDate; syncedFrom: PlainDate | undefined } | { error: string }): Promise<void> {
    if ('error' in outcome) {
      const lastError = outcome.error.length > MAX_ERROR_LENGTH ? `${outcome.error.slice(0, MAX_ERROR_LENGTH - 1)}…` : outcome.error;
      await guard(() =>
        this.db
          .insert(syncState)
          .values({ facet, lastAttemptAt: at, lastError, failures: 1 })
          .onConflictDoUpdate({ target: syncState.facet, set: { lastAttemptAt: at, lastError, failures: sql`${syncState.failures} + 1` } }),
      );
      return;
    }
    const update = {
      lastAttemptAt: at,
      lastSuccessAt: at,
      lastError: null,
      failures: 0,
      syncedUntil: outcome.syncedUntil,
      ...(outcome.syncedFrom === undefined ? {} : { syncedFrom: outcome.syncedFrom }),
    };
    await guard(() => this.db.insert(syncState).values({ facet, ...update }).onConflictDoUpdate({ target: syncState.facet, set: update }));
  }

  async withSyncLock<T>(work: (renew: () => Promise<boolean>) => Promise<T>): Promise<T | undefined> {
    // A holder per call: a second sync in this same process must not share the lease.
    const holder = `${this.instanceId}/${randomUUID()}`;
    const acquired = await guard(() => acquireLease(this.db, SYNC_LEASE, holder, SYNC_LEASE_MS));
    if (!acquired) return undefined;
    try {
      return await work(() => acquireLease(this.db, SYNC_LEASE, holder, SYNC_LEASE_MS).catch(() => false));
    } finally {
      await releaseLease(this.db, SYNC_LEASE, holder).catch(() => undefined);
    }
  }

  async estimatedFrom(facet: Facet, since: PlainDate): Promise<PlainDate | undefined> {
    const rows = await guard(() =>
      this.db
        .select({ day: sql<string | null>`to_char(min(${costFacts.usageDate}), 'YYYY-MM-DD')` })
        .from(costFacts)
        .where(and(eq(costFacts.facet, facet), gte(costFacts.usageDate, since), eq(costFacts.estimated, true))),
    );
    return rows[0]?.day ?? undefined;
  }

  async record(entry: ApiRequestRecord): Promise<void> {
    await guard(() =>
      this.db.insert(apiRequests).values({
        requestedAt: entry.at,
        operation: entry.operation,
        attempts: entry.attempts,
        outcome: entry.outcome,
        detail: entry.detail,
      }),
    );
  }

  async saveSourceForecast(forecast: SourceForecast, fetchedAt: Date): Promise<void> {
    const values = {
      metric: forecast.metric,
      periodStart: forecast.range.start,
      periodEnd: forecast.range.end,
      currency: forecast.currency,
      mean: amountToDecimalString(forecast.mean),
      low: amountToDecimalString(forecast.low),
      high: amountToDecimalString(forecast.high),
      fetchedAt,
    };
    const { metric: _metric, periodStart: _start, ...update } = values;
    await guard(() =>
      this.db.insert(sourceForecasts).values(values).onConflictDoUpdate({ target: [sourceForecasts.metric, sourceForecasts.periodStart], set: update }),
    );
  }

  async sourceForecast(metric: CostMetric, start: PlainDate): Promise<SourceForecast | undefined> {
    const rows = await guard(() =>
      this.db
        .select()
        .from(sourceForecasts)
        .where(and(eq(sourceForecasts.metric, metric), eq(sourceForecasts.periodStart, start))),
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      range: { start: row.periodStart, end: row.periodEnd },
      metric,
      currency: row.currency,
      mean: parseAmount(row.mean),
      low: parseAmount(row.low),
      high: parseAmount(row.high),
    };
  }

  async saveAccountNames(names: ReadonlyMap<string, string>): Promise<void> {
    if (names.size === 0) return;
    const rows = [...names].map(([accountId, name]) => ({ accountId, name, updatedAt: new Date() }));
    await guard(() =>
      this.db
        .insert(accountNames)
        .values(rows)
        .onConflictDoUpdate({ target: accountNames.accountId, set: { name: sql`excluded.name`, updatedAt: sql`excluded.updated_at` } }),
    );
  }

  async accountNames(): Promise<ReadonlyMap<string, string>> {
    const rows = await guard(() => this.db.select({ id: accountNames.accountId, name: accountNames.name }).from(accountNames));
    return new Map(rows.map((row) => [row.id, row.name]));
  }

  async countApiRequests(since: Date): Promise<{ requests: number; attempts: number }> {
    const rows = await guard(() =>
      this.db
        .select({ requests: count(), attempts: sum(apiRequests.attempts) })
        .from(apiRequests)
        // Nothing was sent (and nothing billed) when a request failed before leaving, e.g. without credentials.
        .where(and(gte(apiRequests.requestedAt, since), gt(apiRequests.attempts, 0))),
    );
    return { requests: Number(rows[0]?.requests ?? 0), attempts: Number(rows[0]?.attempts ?? 0) };
  }
}

async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isConnectionError(error)) throw databaseUnavailable(error);
    throw error;
  }
}
