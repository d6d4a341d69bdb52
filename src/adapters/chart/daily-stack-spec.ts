/**
 * The Vega-Lite spec of a daily stacked spend chart. Pure: it reads only the chart, so the
 * same chart always gives the same spec (days are labelled from their 'YYYY-MM-DD' text,
 * never through the clock or the local time zone).
 *
 * Negative values (credits, refunds) are drawn as they are: Vega stacks them below zero,
 * apart from the positive spend, and the zero line is marked.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { DailyStackChart } from '../../core/chart.js';

/** The family name of the font the renderer ships (Vega writes it into the SVG). */
export const CHART_FONT_FAMILY = 'Inter';

/** Size of the chart in CSS pixels, padding included (the PNG is drawn at a multiple). */
export const CHART_WIDTH = 720;
export const CHART_HEIGHT = 360;

const PADDING = 16;
/** At most this many day labels on the horizontal axis. */
const MAX_DAY_LABELS = 10;
/** Label steps, in days, the horizontal axis may use: every day, every other day, weekly… */
const DAY_LABEL_STEPS = [1, 2, 7, 14, 28];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Categorical colours for services (Tableau 10 without its grey, which "Other" gets). */
const SERIES_COLOURS = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2', '#eeca3b', '#ff9da6', '#9d755d'];
const OTHER_COLOUR = '#b8bcc4';

const TEXT = '#1f2937';
const MUTED = '#6b7280';
const GRID = '#e5e7eb';

interface Row {
  readonly day: string;
  readonly series: string;
  readonly value: number;
  readonly order: number;
}

/** "Nov 3" for '2025-11-03'; any other text is shown as it is. */
export function dayLabel(day: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  const month = match ? MONTHS[Number(match[2]) - 1] : undefined;
  return match && month ? `${month} ${Number(match[3])}` : day;
}

/** The days that get a label: the first one, then every `step` days, at most ten in all. */
export function labelledDays(days: readonly string[]): string[] {
  const step = DAY_LABEL_STEPS.find((candidate) => Math.ceil(days.length / candidate) <= MAX_DAY_LABELS)
    ?? Math.ceil(days.length / MAX_DAY_LABELS);
  return days.filter((_, index) => index % step === 0);
}

/**
 * How the value axis writes amounts: a symbol before the number when the currency has a
 * short one ("$12k", "€1.5k"), else the code after it ("12k CHF").
 */
export function currencyAffixes(currency: string): { prefix: string; suffix: string } {
  const code = currency.trim().toUpperCase();
  let symbol: string | undefined;
  try {
    symbol = new Intl.NumberFormat('en-US', { style: 'currency', currency: code, currencyDisplay: 'narrowSymbol' })
      .formatToParts(0)
      .find((part) => part.type === 'currency')?.value;
  } catch {
    symbol = undefined; // not an ISO 4217 code: show it as it is
  }
  if (symbol && symbol !== code && symbol.length <= 2) return { prefix: symbol, suffix: '' };
  return { prefix: '', suffix: code ? ` ${code}` : '' };
}

/** A Vega expression that formats `datum.value` as an amount: "$12.5k", "$250", "−$1.2k". */
function amountLabelExpr(currency: string): string {
  const { prefix, suffix } = currencyAffixes(currency);
  const magnitude = "abs(datum.value) >= 1000 ? replace(format(abs(datum.value), '.3~s'), 'G', 'B') : format(abs(datum.value), ',.2~f')";
  return `(datum.value < 0 ? '\u2212' : '') + ${JSON.stringify(prefix)} + (${magnitude}) + ${JSON.stringify(suffix)}`;
}

function isOther(name: string): boolean {
  return name.trim().toLowerCase() === 'other';
}

/** A finite number, or 0 for a missing or broken value. */
function finite(value: number | undefined): number {
  return value !== undefined && Number.isFinite(value) ? value : 0;
}

/** Series names once each, in the given order (a repeated name shares its colour). */
function seriesNames(chart: DailyStackChart): string[] {
  return [...new Set(chart.series.map((series) => series.name))];
}

function seriesColours(names: readonly string[]): string[] {
  let next = 0;
  return names.map((name) => (isOther(name) ? OTHER_COLOUR : SERIES_COLOURS[next++ % SERIES_COLOURS.length]!));
}

function rows(chart: DailyStackChart): Row[] {
  const out: Row[] = [];
  chart.days.forEach((day, dayIndex) => {
    chart.series.forEach((series, order) => {
      const value = finite(series.values[dayIndex]);
      // Zero-height bars draw nothing; the axis domains are given, so no day or series is lost.
      if (value !== 0) out.push({ day, series: series.name, value, order });
    });
  });
  return out;
}

const config = {
  background: '#ffffff',
  font: CHART_FONT_FAMILY,
  padding: PADDING,
  view: { stroke: null },
  title: {
    anchor: 'start',
    color: TEXT,
    fontSize: 16,
    fontWeight: 600,
    subtitleColor: MUTED,
    subtitleFontSize: 12,
    subtitlePadding: 4,
    offset: 14,
    limit: CHART_WIDTH - 2 * PADDING,
  },
  axis: {
    labelColor: MUTED,
    labelFontSize: 11,
    titleColor: MUTED,
    domainColor: GRID,
    tickColor: GRID,
    gridColor: GRID,
  },
  legend: {
    labelColor: TEXT,
    labelFontSize: 11,
    symbolType: 'square',
    symbolSize: 100,
    symbolStrokeWidth: 0,
  },
} as const;

/** The Vega-Lite spec of `chart`, CHART_WIDTH × CHART_HEIGHT with padding. */
export function dailyStackSpec(chart: DailyStackChart): TopLevelSpec {
  const data = rows(chart);
  const names = seriesNames(chart);
  const title = {
    text: chart.title,
    subtitle: `Daily spend (${chart.currency.trim().toUpperCase() || 'no currency'})`,
  };
  const frame = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    autosize: { type: 'fit', contains: 'padding' },
    config,
    title,
  } as const;

  if (chart.days.length === 0 || names.length === 0) {
    return {
      ...frame,
      data: { values: [{}] },
      mark: {
        type: 'text',
        text: 'No spend to show for this period',
        color: MUTED,
        fontSize: 13,
        x: { expr: 'width / 2' },
        y: { expr: 'height / 2' },
      },
    };
  }

  const legendColumns = names.length <= 3 ? names.length : names.length <= 6 ? 2 : 3;
  const legendColumnWidth = (CHART_WIDTH - 2 * PADDING) / legendColumns;
  const days = [...chart.days];

  return {
    ...frame,
    data: { values: data },
    layer: [
      {
        // 80% of a day's band, but no wider than 56 px (a week or a single day would be slabs).
        mark: { type: 'bar', width: { expr: "min(bandwidth('x') * 0.8, 56)" } },
        encoding: {
          x: {
            field: 'day',
            type: 'ordinal',
            title: null,
            scale: { domain: days },
            axis: {
              values: labelledDays(days),
              labelExpr: `${JSON.stringify(Object.fromEntries(days.map((day) => [day, dayLabel(day)])))}[datum.value]`,
              labelAngle: 0,
              labelPadding: 6,
              domain: true,
              ticks: false,
            },
          },
          y: {
            field: 'value',
            type: 'quantitative',
            aggregate: 'sum',
            stack: 'zero',
            title: null,
            // All zeros: a unit domain draws an empty but well-formed axis.
            scale: data.length > 0 ? { nice: true } : { domain: [0, 1] },
            axis: {
              labelExpr: amountLabelExpr(chart.currency),
              tickCount: 5,
              domain: false,
              ticks: false,
              labelPadding: 6,
            },
          },
          color: {
            field: 'series',
            type: 'nominal',
            scale: { domain: names, range: seriesColours(names) },
            legend: {
              title: null,
              orient: 'bottom',
              direction: 'horizontal',
              columns: legendColumns,
              columnPadding: 16,
              rowPadding: 6,
              labelLimit: Math.max(60, Math.floor(legendColumnWidth - 40)),
              offset: 12,
            },
          },
          order: { field: 'order', type: 'quantitative' },
        },
      },
      {
        data: { values: [{}] },
        mark: { type: 'rule', color: '#9ca3af', strokeWidth: 1 },
        encoding: { y: { datum: 0 } },
      },
    ],
  };
}
