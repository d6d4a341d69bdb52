/**
 * Month-end forecast from daily history: what has been spent, plus each remaining day at
 * the typical spend of its weekday. Medians keep one-day spikes from inflating the figure;
 * the range comes from how far recent days strayed from that typical spend.
 */
import { type Amount, amountFromEstimate, amountToNumber } from './money.js';
import { isoWeekday, type PlainDate } from './period.js';

/** A forecast with an 80% range and the method that produced it. */
export interface Forecast {
  readonly actual: Amount;
  readonly mean: Amount;
  readonly low: Amount;
  readonly high: Amount;
  readonly remainingDays: number;
  /** One sentence a reader can check the figure against. */
  readonly method: string;
}

/** Days of history used for the typical spend of each weekday. */
export const BASELINE_DAYS = 28;
/** Days of history whose deviations set the range. */
export const SPREAD_DAYS = 56;
/** z-score of a two-sided 80% interval. */
const Z80 = 1.2816;

/**
 * Forecasts `actual` (spend so far, exact) plus the `remaining` days, from `history`: the
 * daily totals before the first remaining day, oldest first, with no gaps.
 */
export function forecastRemaining(
  actual: Amount,
  history: readonly { date: PlainDate; amount: Amount }[],
  remaining: readonly PlainDate[],
): Forecast {
  if (remaining.length === 0) {
    return { actual, mean: actual, low: actual, high: actual, remainingDays: 0, method: 'The period is complete: the figure is actual spend.' };
  }
  if (history.length < 14) {
    throw new RangeError('at least 14 days of history are needed to forecast');
  }
  const recent = history.slice(-BASELINE_DAYS);
  const typical = new Map<number, number>();
  for (let weekday = 1; weekday <= 7; weekday++) {
    const values = recent.filter((day) => isoWeekday(day.date) === weekday).map((day) => amountToNumber(day.amount));
    typical.set(weekday, median(values.length > 0 ? values : recent.map((day) => amountToNumber(day.amount))));
  }
  const expected = remaining.reduce((sum, date) => sum + typical.get(isoWeekday(date))!, 0);
  const residuals = history.slice(-SPREAD_DAYS).map((day) => amountToNumber(day.amount) - typical.get(isoWeekday(day.date))!);
  // Each remaining day strays on its own (variance n·σ²), and the weekday baseline itself,
  // a median of about four samples, is off by a shared amount (variance n²·σ²/4).
  const n = remaining.length;
  const samplesPerWeekday = Math.max(1, Math.floor(recent.length / 7));
  const spread = Z80 * standardDeviation(residuals) * Math.sqrt(n + (n * n) / samplesPerWeekday);
  const remainingMean = amountFromEstimate(expected);
  return {
    actual,
    mean: actual + remainingMean,
    // Spend cannot fall below zero, but credits can make a day's net cost negative already.
    low: actual + amountFromEstimate(expected >= 0 ? Math.max(0, expected - spread) : expected - spread),
    high: actual + amountFromEstimate(expected + spread),
    remainingDays: remaining.length,
    method:
      `Spend so far plus ${remaining.length} remaining day${remaining.length === 1 ? '' : 's'} at the median of the same weekday ` +
      `over the last ${Math.min(BASELINE_DAYS, history.length)} days; the 80% range comes from the last ` +
      `${Math.min(SPREAD_DAYS, history.length)} days' deviations from it and the uncertainty of the baseline itself.`,
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function standardDeviation(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (values.length - 1);
  return Math.sqrt(variance);
}
