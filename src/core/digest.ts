/**
 * The pure part of digests: which days a digest reports on, how they are named, the usual
 * level a period is compared with, and the stacked chart. Reading the store and composing
 * the reply happen in the app layer.
 */
import type { DailyStackChart } from './chart.js';
import { type Amount, amountToNumber, sumAmounts } from './money.js';
import { addDays, type DateRange, eachDay, isoWeekday, type PlainDate } from './period.js';

/** How often a digest is posted. */
export type Cadence = 'daily' | 'weekly';

/** Weeks of history the usual level is the median of. */
export const USUAL_WEEKS = 4;
/** Days the digest chart covers, ending with the digest's last day. */
export const CHART_DAYS = 30;
/** Services drawn on their own in the chart; the rest are stacked as "Other". */
export const CHART_SERIES = 5;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/**
 * The period a digest reports on: daily → `lastCompleteDay` itself; weekly → the latest
 * complete Monday–Sunday week ending on or before it. The key names the period (a weekly
 * one by its Monday), so a digest can be delivered exactly once per period.
 */
export function digestPeriod(cadence: Cadence, lastCompleteDay: PlainDate): { range: DateRange; key: string } {
  if (cadence === 'daily') return { range: { start: lastCompleteDay, end: addDays(lastCompleteDay, 1) }, key: `daily:${lastCompleteDay}` };
  const sunday = addDays(lastCompleteDay, -(isoWeekday(lastCompleteDay) % 7));
  const monday = addDays(sunday, -6);
  return { range: { start: monday, end: addDays(sunday, 1) }, key: `weekly:${monday}` };
}

/** "Sat 21 Nov 2026". */
export function formatDay(date: PlainDate): string {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  return `${WEEKDAYS[isoWeekday(date) - 1]!.slice(0, 3)} ${day} ${MONTHS[month - 1]} ${year}`;
}

/** "16–22 Nov 2026", "26 Oct – 1 Nov 2026", "28 Dec 2026 – 3 Jan 2027"; one day as {@link formatDay}. */
export function formatDays(range: DateRange): string {
  const last = addDays(range.end, -1);
  if (last === range.start) return formatDay(range.start);
  const [y1, m1, d1] = range.start.split('-').map(Number) as [number, number, number];
  const [y2, m2, d2] = last.split('-').map(Number) as [number, number, number];
  const end = `${d2} ${MONTHS[m2 - 1]} ${y2}`;
  if (y1 !== y2) return `${d1} ${MONTHS[m1 - 1]} ${y1} – ${end}`;
  if (m1 !== m2) return `${d1} ${MONTHS[m1 - 1]} – ${end}`;
  return `${d1}–${end}`;
}

/** "November". */
export function monthName(date: PlainDate): string {
  return MONTH_NAMES[Number(date.slice(5, 7)) - 1]!;
}

/** "Saturday". */
export function weekdayName(date: PlainDate): string {
  return WEEKDAYS[isoWeekday(date) - 1]!;
}

/** Median of exact amounts (the mean of the middle two for an even count), or undefined for none. */
export function medianAmount(amounts: readonly Amount[]): Amount | undefined {
  if (amounts.length === 0) return undefined;
  const sorted = [...amounts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2n;
}

/** Exact sum of the days of `range` in `byDay` (absent days count as zero). */
export function sumDays(byDay: ReadonlyMap<PlainDate, Amount>, range: DateRange): Amount {
  return sumAmounts(eachDay(range).map((day) => byDay.get(day) ?? 0n));
}

/**
 * The ranges whose median is the usual level of `period`: for a daily digest the same
 * weekday in each of the previous four weeks, for a weekly one the previous four weeks.
 */
export function usualRanges(period: DateRange): DateRange[] {
  return Array.from({ length: USUAL_WEEKS }, (_, index) => {
    const weeksBack = 7 * (index + 1);
    return { start: addDays(period.start, -weeksBack), end: addDays(period.end, -weeksBack) };
  });
}

/**
 * The usual level of `period`: the median of {@link usualRanges}, or undefined when any of
 * them reaches before `historyStart` (days never fetched would drag the median down).
 */
export function usualLevel(byDay: ReadonlyMap<PlainDate, Amount>, period: DateRange, historyStart: PlainDate): Amount | undefined {
  const ranges = usualRanges(period);
  if (ranges.some((range) => range.start < historyStart)) return undefined;
  return medianAmount(ranges.map((range) => sumDays(byDay, range)));
}

/**
 * Daily spend over `days` stacked by the largest `series` and one "Other" for the rest of
 * each day's total (only when something was left out). Values are numbers for drawing; the
 * stack of each day adds up to that day's exact total before conversion.
 */
export function stackChart(input: {
  readonly title: string;
  readonly currency: string;
  readonly days: readonly PlainDate[];
  readonly totals: ReadonlyMap<PlainDate, Amount>;
  readonly series: readonly { readonly name: string; readonly byDay: ReadonlyMap<PlainDate, Amount> }[];
  readonly withOther: boolean;
}): DailyStackChart {
  const series = input.series.map((entry) => ({ name: entry.name, values: input.days.map((day) => amountToNumber(entry.byDay.get(day) ?? 0n)) }));
  if (input.withOther) {
    const other = input.days.map((day) => {
      const shown = sumAmounts(input.series.map((entry) => entry.byDay.get(day) ?? 0n));
      return amountToNumber((input.totals.get(day) ?? 0n) - shown);
    });
    series.push({ name: 'Other', values: other });
  }
  return { title: input.title, currency: input.currency, days: [...input.days], series };
}
