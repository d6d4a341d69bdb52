/**
 * Daily cost series for the anomaly scan: every series of a kind (per team, per team ×
 * service, per service, per account, and the team × dimension series the root cause reads)
 * in one store read each, laid out on one day axis. Each series keeps the exact amounts
 * (for the figures an alert shows) and USD numbers (for the detector, which only weighs).
 */
import { median } from '../../core/anomaly.js';
import type { CostMetric, Facet } from '../../core/cost-model.js';
import { type Amount, amountToNumber, sumAmounts } from '../../core/money.js';
import { type DateRange, eachDay, type PlainDate } from '../../core/period.js';
import type { CostStore } from '../../ports.js';

/** One daily series. */
export interface CostSeries {
  readonly team: string;
  readonly value: string;
  /** Exact daily amounts, one per day of the axis (0 on days without spend). */
  readonly amounts: Amount[];
  /** The same in USD, for the detector. */
  readonly usd: Float64Array;
}

/** Series of one grouping, by `team\u0000value`, on a shared day axis. */
export interface SeriesSet {
  readonly days: readonly PlainDate[];
  readonly series: ReadonlyMap<string, CostSeries>;
}

/** The key of a series in a {@link SeriesSet}. */
export function seriesKey(team: string, value: string): string {
  return `${team}\u0000${value}`;
}

/** Reads every series of `facet` grouped `by` over `range` (only one team's, or one value's, with `filter`). */
export async function loadSeries(
  store: CostStore,
  facet: Facet,
  by: 'team' | 'value' | 'team-value',
  range: DateRange,
  metric: CostMetric,
  filter: { readonly team?: string | undefined; readonly value?: string | undefined } = {},
): Promise<SeriesSet> {
  const days = eachDay(range);
  const position = new Map(days.map((day, index) => [day, index]));
  const series = new Map<string, CostSeries>();
  for (const row of await store.sumByDayAndKey(facet, by, { range, metric, team: filter.team, value: filter.value })) {
    const index = position.get(row.date);
    if (index === undefined) continue;
    const key = seriesKey(row.team, row.value);
    let entry = series.get(key);
    if (!entry) {
      entry = { team: row.team, value: row.value, amounts: days.map(() => 0n), usd: new Float64Array(days.length) };
      series.set(key, entry);
    }
    entry.amounts[index] = row.amount;
    entry.usd[index] = amountToNumber(row.amount);
  }
  return { days, series };
}

/** Exact sum of a series over some day indices. */
export function sumAt(series: CostSeries, indices: readonly number[]): Amount {
  return sumAmounts(indices.map((index) => series.amounts[index] ?? 0n));
}

/**
 * How far a series rose above its usual level on some days: the sum, over those days, of
 * the day's value minus the median of the same weekday in the four weeks before (as many
 * of them as the axis holds).
 */
export function riseAt(series: CostSeries, indices: readonly number[]): number {
  let rise = 0;
  for (const index of indices) {
    const usual: number[] = [];
    for (let weeks = 1; weeks <= 4 && index - 7 * weeks >= 0; weeks++) usual.push(series.usd[index - 7 * weeks]!);
    rise += series.usd[index]! - median(Float64Array.from(usual), usual.length);
  }
  return rise;
}

/** The series of `set` that `pick` selects, with their rise on `indices`, biggest first. */
export function risesOf(set: SeriesSet, indices: readonly number[], pick: (series: CostSeries) => string | undefined): { key: string; rise: number }[] {
  const rises = new Map<string, number>();
  for (const series of set.series.values()) {
    const key = pick(series);
    if (key === undefined) continue;
    rises.set(key, (rises.get(key) ?? 0) + riseAt(series, indices));
  }
  return [...rises].map(([key, rise]) => ({ key, rise })).sort((a, b) => b.rise - a.rise || a.key.localeCompare(b.key));
}
