/**
 * Chart data, independent of how a chart is drawn: the digest builds it from stored costs,
 * a renderer turns it into a PNG. Values are in currency units as plain numbers: a chart
 * only needs to draw them, never to add them up (figures in text come from exact amounts).
 */
import type { PlainDate } from './period.js';

/** Daily spend stacked by a few series (top services and "Other"). */
export interface DailyStackChart {
  readonly title: string;
  /** ISO currency code shown on the value axis, e.g. USD. */
  readonly currency: string;
  /** The days on the horizontal axis, oldest first. */
  readonly days: readonly PlainDate[];
  /** One entry per stacked series; `values[i]` belongs to `days[i]`. */
  readonly series: readonly { readonly name: string; readonly values: readonly number[] }[];
}
