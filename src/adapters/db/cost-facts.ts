/**
 * Queries on daily cost facts and their rollups, as plain functions taking the database
 * first (a transaction can be passed instead). Sums are done by the database in exact
 * `numeric` and parsed into exact amounts, so nothing passes through a float.
 *
 * Organisation-wide sums read `cost_rollups` (one row per facet value, or team, and day);
 * sums for one team or one value read `cost_facts` through its team index.
 */
import { and, eq, gte, lt, sql, sum, type SQL } from 'drizzle-orm';
import type { CostFact, Facet, KeyedAmount } from '../../core/cost-model.js';
import { amountToDecimalString, parseAmount } from '../../core/money.js';
import type { DateRange } from '../../core/period.js';
import type { DailyKeyedAmount, FactQuery } from '../../ports.js';
import type { Db } from './database.js';
import { costFacts, costRollups } from './schema.js';

const INSERT_BATCH = 5_000;

const FACT_METRIC = {
  UnblendedCost: costFacts.unblendedCost,
  AmortizedCost: costFacts.amortizedCost,
  NetUnblendedCost: costFacts.netUnblendedCost,
} as const;

const ROLLUP_METRIC = {
  UnblendedCost: costRollups.unblendedCost,
  AmortizedCost: costRollups.amortizedCost,
  NetUnblendedCost: costRollups.netUnblendedCost,
} as const;

/**
 * Replaces every fact of `facet` in `range`, and the range's rollups, in one transaction:
 * a re-sync never duplicates or loses a day, and readers never see half of one.
 */
export async function replaceFactRange(db: Db, facet: Facet, range: DateRange, facts: readonly CostFact[]): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.delete(costFacts).where(and(eq(costFacts.facet, facet), gte(costFacts.usageDate, range.start), lt(costFacts.usageDate, range.end)));
    for (let i = 0; i < facts.length; i += INSERT_BATCH) {
      await tx.execute(insertFactsStatement(facet, facts.slice(i, i + INSERT_BATCH)));
    }
    await tx.delete(costRollups).where(and(eq(costRollups.facet, facet), gte(costRollups.usageDate, range.start), lt(costRollups.usageDate, range.end)));
    for (const grouping of ['value', 'team'] as const) {
      const key = grouping === 'value' ? sql.raw('value') : sql.raw('team');
      await tx.execute(sql`
        insert into ${costRollups} (facet, grouping, usage_date, key, currency, unblended_cost, amortized_cost, net_unblended_cost)
        select facet, ${grouping}, usage_date, ${key}, min(currency), sum(unblended_cost), sum(amortized_cost), sum(net_unblended_cost)
        from ${costFacts}
        where facet = ${facet} and usage_date >= ${range.start} and usage_date < ${range.end}
        group by facet, usage_date, ${key}`);
    }
  });
}

/** Sums a facet over a range, grouped by facet value or by team. */
export async function sumFacts(db: Db, facet: Facet, by: 'value' | 'team', query: FactQuery): Promise<KeyedAmount[]> {
  if (query.team === undefined && query.value === undefined) {
    const rows = await db
      .select({ key: costRollups.key, amount: sum(ROLLUP_METRIC[query.metric]) })
      .from(costRollups)
      .where(rollupFilter(facet, by, query.range))
      .groupBy(costRollups.key);
    return rows.map((row) => ({ key: row.key, amount: parseAmount(row.amount ?? '0') }));
  }
  const key = by === 'team' ? costFacts.team : costFacts.value;
  const rows = await db
    .select({ key, amount: sum(FACT_METRIC[query.metric]) })
    .from(costFacts)
    .where(factFilter(facet, query))
    .groupBy(key);
  return rows.map((row) => ({ key: row.key, amount: parseAmount(row.amount ?? '0') }));
}

/** Daily totals of a facet over a range, oldest first (days without facts are absent). */
export async function sumFactsByDay(db: Db, facet: Facet, query: FactQuery): Promise<KeyedAmount[]> {
  if (query.team === undefined && query.value === undefined) {
    const rows = await db
      .select({ key: sql<string>`to_char(${costRollups.usageDate}, 'YYYY-MM-DD')`, amount: sum(ROLLUP_METRIC[query.metric]) })
      .from(costRollups)
      .where(rollupFilter(facet, 'team', query.range))
      .groupBy(costRollups.usageDate)
      .orderBy(costRollups.usageDate);
    return rows.map((row) => ({ key: row.key, amount: parseAmount(row.amount ?? '0') }));
  }
  const rows = await db
    .select({ key: sql<string>`to_char(${costFacts.usageDate}, 'YYYY-MM-DD')`, amount: sum(FACT_METRIC[query.metric]) })
    .from(costFacts)
    .where(factFilter(facet, query))
    .groupBy(costFacts.usageDate)
    .orderBy(costFacts.usageDate);
  return rows.map((row) => ({ key: row.key, amount: parseAmount(row.amount ?? '0') }));
}

/** Daily sums by team, value or both, oldest first; organisation-wide team or value sums read the rollups. */
export async function sumFactsByDayAndKey(db: Db, facet: Facet, by: 'team' | 'value' | 'team-value', query: FactQuery): Promise<DailyKeyedAmount[]> {
  if (by !== 'team-value' && query.team === undefined && query.value === undefined) {
    const rows = await db
      .select({ date: sql<string>`to_char(${costRollups.usageDate}, 'YYYY-MM-DD')`, key: costRollups.key, amount: ROLLUP_METRIC[query.metric] })
      .from(costRollups)
      .where(rollupFilter(facet, by, query.range))
      .orderBy(costRollups.usageDate, costRollups.key);
    return rows.map((row) => ({ date: row.date, team: by === 'team' ? row.key : '', value: by === 'value' ? row.key : '', amount: parseAmount(row.amount) }));
  }
  const team = by === 'value' ? sql<string>`''` : costFacts.team;
  const value = by === 'team' ? sql<string>`''` : costFacts.value;
  const rows = await db
    .select({ date: sql<string>`to_char(${costFacts.usageDate}, 'YYYY-MM-DD')`, team, value, amount: sum(FACT_METRIC[query.metric]) })
    .from(costFacts)
    .where(factFilter(facet, query))
    .groupBy(costFacts.usageDate, team, value)
    .orderBy(costFacts.usageDate, team, value);
  return rows.map((row) => ({ date: row.date, team: row.team, value: row.value, amount: parseAmount(row.amount ?? '0') }));
}

/**
 * One INSERT for a whole batch: each column travels as one array parameter and `unnest`
 * turns them back into rows, which is much cheaper than a wide VALUES list.
 */
function insertFactsStatement(facet: Facet, facts: readonly CostFact[]): SQL {
  const column = <T>(pick: (fact: CostFact) => T) => sql.param(facts.map(pick));
  return sql`insert into ${costFacts} (facet, usage_date, team, value, currency, unblended_cost, amortized_cost, net_unblended_cost, estimated)
    select ${facet}, * from unnest(
      ${column((fact) => fact.date)}::date[],
      ${column((fact) => fact.team)}::text[],
      ${column((fact) => fact.value)}::text[],
      ${column((fact) => fact.currency)}::text[],
      ${column((fact) => amountToDecimalString(fact.costs.UnblendedCost))}::numeric[],
      ${column((fact) => amountToDecimalString(fact.costs.AmortizedCost))}::numeric[],
      ${column((fact) => amountToDecimalString(fact.costs.NetUnblendedCost))}::numeric[],
      ${column((fact) => fact.estimated)}::boolean[]
    )`;
}

function factFilter(facet: Facet, query: FactQuery): SQL | undefined {
  return and(
    eq(costFacts.facet, facet),
    gte(costFacts.usageDate, query.range.start),
    lt(costFacts.usageDate, query.range.end),
    query.team === undefined ? undefined : eq(costFacts.team, query.team),
    query.value === undefined ? undefined : eq(costFacts.value, query.value),
  );
}

function rollupFilter(facet: Facet, grouping: 'value' | 'team', range: DateRange): SQL | undefined {
  return and(eq(costRollups.facet, facet), eq(costRollups.grouping, grouping), gte(costRollups.usageDate, range.start), lt(costRollups.usageDate, range.end));
}
