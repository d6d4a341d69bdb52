import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  CHART_FONT_FAMILY,
  CHART_HEIGHT,
  CHART_WIDTH,
  currencyAffixes,
  dayLabel,
  labelledDays,
} from '../../../src/adapters/chart/daily-stack-spec.js';
import { FontMetrics } from '../../../src/adapters/chart/font-metrics.js';
import { VegaChartRenderer, renderSvg } from '../../../src/adapters/chart/vega-chart-renderer.js';
import type { DailyStackChart } from '../../../src/core/chart.js';
import { addDays, type PlainDate } from '../../../src/core/period.js';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const SERVICES = [
  'Amazon Elastic Compute Cloud - Compute',
  'Amazon Relational Database Service',
  'Amazon Simple Storage Service',
  'AWS Lambda',
  'Amazon CloudFront',
  'Other',
];

const renderer = new VegaChartRenderer();

function daysFrom(first: PlainDate, count: number): PlainDate[] {
  return Array.from({ length: count }, (_, i) => addDays(first, i));
}

/** 30 days of five services and Other, with weekend dips and a step up in the last week. */
function realisticChart(title = 'AWS spend, last 30 days: top services'): DailyStackChart {
  const days = daysFrom('2025-10-14', 30);
  const base = [5200, 2100, 900, 450, 300, 700];
  return {
    title,
    currency: 'USD',
    days,
    series: SERVICES.map((name, k) => ({
      name,
      values: days.map((_, i) => {
        const weekend = i % 7 >= 5 ? 0.8 : 1;
        const step = i > 20 && k === 0 ? 1.4 : 1;
        return Math.round(base[k]! * (1 + 0.15 * Math.sin(i / 3 + k)) * weekend * step * 100) / 100;
      }),
    })),
  };
}

function expectPng(png: Uint8Array, scale = 2): void {
  expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
  // IHDR is the first chunk: length (4), "IHDR" (4), then width and height, big-endian.
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  expect(String.fromCharCode(...png.subarray(12, 16))).toBe('IHDR');
  expect(view.getUint32(16)).toBe(CHART_WIDTH * scale);
  expect(view.getUint32(20)).toBe(CHART_HEIGHT * scale);
}

/** The text of every <text> element of an SVG, in document order. */
function svgTexts(svg: string): string[] {
  return [...svg.matchAll(/<text\b[^>]*>([^<]*)<\/text>/g)].map((match) => match[1]!);
}

describe('VegaChartRenderer', () => {
  it('renders a 30-day chart of five services and Other as a 1440×720 PNG', async () => {
    const png = await renderer.renderPng(realisticChart());

    expectPng(png);
    expect(png.byteLength).toBeGreaterThan(5_000);
    expect(png.byteLength).toBeLessThan(500_000);
  });

  it('draws the title, the series in their given order, day labels and amounts in the shipped font', async () => {
    const svg = await renderSvg(realisticChart());
    const texts = svgTexts(svg);

    expect(texts).toContain('AWS spend, last 30 days: top services');
    expect(texts).toContain('Daily spend (USD)');
    // Legend entries appear in the order the chart gives, "Other" last.
    expect(texts.filter((text) => SERVICES.includes(text))).toEqual(SERVICES);
    // Weekly day labels from the first day, formatted without the clock or the time zone.
    expect(texts).toEqual(expect.arrayContaining(['Oct 14', 'Oct 21', 'Oct 28', 'Nov 4', 'Nov 11']));
    expect(texts).toEqual(expect.arrayContaining(['$0', '$4k', '$8k', '$12k']));
    const families = new Set([...svg.matchAll(/font-family="([^"]*)"/g)].map((match) => match[1]));
    expect([...families]).toEqual([CHART_FONT_FAMILY]);
    // "Other" is grey.
    expect(svg).toContain('#b8bcc4');
  });

  it('really draws text: a different title gives a different image', async () => {
    const short = await renderer.renderPng(realisticChart('A'));
    const long = await renderer.renderPng(realisticChart('Spend of the platform team over the last thirty days'));

    expectPng(short);
    expectPng(long);
    expect(Buffer.from(short).equals(Buffer.from(long))).toBe(false);
  });

  it('is deterministic: the same chart gives the same bytes', async () => {
    const first = await renderer.renderPng(realisticChart());
    const second = await renderer.renderPng(realisticChart());

    expect(Buffer.from(first).equals(Buffer.from(second))).toBe(true);
  });

  it('draws at the scale it is given', async () => {
    expectPng(await new VegaChartRenderer({ scale: 1 }).renderPng(realisticChart()), 1);
  });

  describe('edge cases render a valid PNG', () => {
    const days = daysFrom('2025-12-28', 7);
    const cases: Record<string, DailyStackChart> = {
      'no days': { title: 'Nothing yet', currency: 'USD', days: [], series: [] },
      'days but no series': { title: 'No series', currency: 'USD', days, series: [] },
      'a single day': { title: 'One day', currency: 'EUR', days: ['2025-12-31'], series: [{ name: 'Amazon EC2', values: [123.45] }] },
      'all zeros': { title: 'Quiet week', currency: 'USD', days, series: [{ name: 'AWS Lambda', values: days.map(() => 0) }] },
      'credits below zero': {
        title: 'Credits',
        currency: 'USD',
        days,
        series: [
          { name: 'Amazon EC2', values: days.map(() => 400) },
          { name: 'Credits', values: days.map((_, i) => (i % 2 === 0 ? -250 : 0)) },
        ],
      },
      'long names and title': {
        title: 'A very long title '.repeat(10),
        currency: 'USD',
        days,
        series: Array.from({ length: 9 }, (_, k) => ({
          name: k === 8 ? 'Other' : `Amazon Service With An Extremely Long Name ${k} - Usage Type Detail`.repeat(3),
          values: days.map(() => 10 * (k + 1)),
        })),
      },
      'missing and broken values': {
        title: 'Gaps',
        currency: '',
        days,
        series: [{ name: 'S3', values: [1, Number.NaN, Number.POSITIVE_INFINITY, 4] }],
      },
      'an unknown currency and odd characters': {
        title: 'Spend <&> "quoted" é 日本',
        currency: 'XYZ',
        days,
        series: [{ name: 'Team "a" & <b>', values: days.map(() => 0.5) }],
      },
    };

    for (const [name, chart] of Object.entries(cases)) {
      it(name, async () => {
        const png = await renderer.renderPng(chart);
        expectPng(png);
        expect(png.byteLength).toBeGreaterThan(1_000);
      });
    }

    it('credits are drawn below zero with a minus sign on the axis', async () => {
      const texts = svgTexts(await renderSvg(cases['credits below zero']!));
      expect(texts.some((text) => text.startsWith('\u2212$'))).toBe(true);
    });

    it('long legend names are cut with an ellipsis', async () => {
      const texts = svgTexts(await renderSvg(cases['long names and title']!));
      expect(texts.filter((text) => text.startsWith('Amazon Service')).every((text) => text.endsWith('\u2026'))).toBe(true);
      expect(texts).toContain('Other');
    });

    it('no days: says there is nothing to show', async () => {
      expect(svgTexts(await renderSvg(cases['no days']!))).toContain('No spend to show for this period');
    });
  });
});

describe('daily stack spec helpers', () => {
  it('labels days from their text', () => {
    expect(dayLabel('2025-11-03')).toBe('Nov 3');
    expect(dayLabel('2026-01-31')).toBe('Jan 31');
    expect(dayLabel('not a day')).toBe('not a day');
  });

  it('labels at most ten days: every day, every other day, then weekly', () => {
    expect(labelledDays(daysFrom('2025-11-01', 10))).toHaveLength(10);
    expect(labelledDays(daysFrom('2025-11-01', 14))).toEqual(daysFrom('2025-11-01', 14).filter((_, i) => i % 2 === 0));
    expect(labelledDays(daysFrom('2025-11-01', 30))).toEqual(['2025-11-01', '2025-11-08', '2025-11-15', '2025-11-22', '2025-11-29']);
    expect(labelledDays(daysFrom('2025-01-01', 400)).length).toBeLessThanOrEqual(10);
    expect(labelledDays([])).toEqual([]);
  });

  it('writes a currency as a symbol before the amount, else its code after it', () => {
    expect(currencyAffixes('USD')).toEqual({ prefix: '$', suffix: '' });
    expect(currencyAffixes('eur')).toEqual({ prefix: '€', suffix: '' });
    expect(currencyAffixes('CHF')).toEqual({ prefix: '', suffix: ' CHF' });
    expect(currencyAffixes('not-a-code')).toEqual({ prefix: '', suffix: ' NOT-A-CODE' });
    expect(currencyAffixes('')).toEqual({ prefix: '', suffix: '' });
  });
});

/**
 * A minimal font: unitsPerEm 1000, advances 500 / 650 / 700 for glyphs 0–2 (glyph 3 shares
 * the last one), 'A' → 1, 'B' → 2 and 'x' → 3, mapped by a format 4 or a format 12 cmap.
 */
function syntheticFont(cmapFormat: 4 | 12): Uint8Array {
  const u16 = (...values: number[]) => values.flatMap((v) => [(v >> 8) & 0xff, v & 0xff]);
  const u32 = (...values: number[]) => values.flatMap((v) => [...u16(v >>> 16), ...u16(v & 0xffff)]);
  const head = new Array<number>(54).fill(0);
  head.splice(18, 2, ...u16(1000));
  const hhea = new Array<number>(36).fill(0);
  hhea.splice(34, 2, ...u16(3));
  const hmtx = u16(500, 0, 650, 0, 700, 0);
  const subtable = cmapFormat === 4
    ? [
        // Segments: 'A'–'B' by delta, 'x' through the glyph id array, the closing 0xFFFF.
        ...u16(4, 0, 0, 6, 0, 0, 0),
        ...u16(66, 120, 0xffff, 0),
        ...u16(65, 120, 0xffff),
        ...u16((1 - 65) & 0xffff, 0, 1),
        ...u16(0, 4, 0),
        ...u16(3),
      ]
    : [...u16(12, 0), ...u32(0, 0, 2), ...u32(65, 66, 1), ...u32(120, 120, 3)];
  const cmap = [...u16(0, 1), ...u16(3, cmapFormat === 4 ? 1 : 10), ...u32(12), ...subtable];
  const tables: [string, number[]][] = [['cmap', cmap], ['head', head], ['hhea', hhea], ['hmtx', hmtx]];
  const directory = 12 + 16 * tables.length;
  const bytes = [...u32(0x00010000), ...u16(tables.length, 0, 0, 0)];
  let offset = directory;
  for (const [tag, table] of tables) {
    bytes.push(...[...tag].map((char) => char.charCodeAt(0)), ...u32(0, offset, table.length));
    offset += table.length;
  }
  for (const [, table] of tables) bytes.push(...table);
  return new Uint8Array(bytes);
}

describe('FontMetrics', () => {
  for (const format of [4, 12] as const) {
    it(`reads advance widths through a format ${format} cmap`, () => {
      const font = FontMetrics.fromFontFile(syntheticFont(format));
      expect(font.advanceEm(65)).toBe(0.65);
      expect(font.advanceEm(66)).toBe(0.7);
      expect(font.advanceEm(120)).toBe(0.7); // past the last long metric
      expect(font.advanceEm(67)).toBe(0.6); // no glyph
      expect(font.width('AB', 10)).toBeCloseTo(13.5);
    });
  }

  it('measures Inter as resvg draws it', async () => {
    const path = createRequire(import.meta.url).resolve('@expo-google-fonts/inter/400Regular/Inter_400Regular.ttf');
    const font = FontMetrics.fromFontFile(readFileSync(path));
    const { Resvg } = await import('@resvg/resvg-js');
    for (const text of ['MMMMMMMMMM', 'iiiiiiiiii', 'Amazon Relational Database Service', '$12k 0123456789']) {
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="2000" height="100"><text x="0" y="60" font-family="Inter" font-size="40">${text}</text></svg>`;
      const drawn = new Resvg(svg, { font: { fontFiles: [path], loadSystemFonts: false, defaultFontFamily: 'Inter' } }).getBBox();
      // The ink box lacks the side bearings of the first and last glyphs, and resvg kerns.
      expect(drawn).toBeDefined();
      const measured = font.width(text, 40);
      expect(measured).toBeGreaterThan(drawn!.width);
      expect(measured).toBeLessThan(drawn!.width * 1.08 + 8);
    }
  });

  it('refuses bytes that are not a font', () => {
    expect(() => FontMetrics.fromFontFile(new Uint8Array(64))).toThrow();
  });
});
