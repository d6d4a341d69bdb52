/**
 * Draws digest charts as PNG with no native build step: Vega-Lite compiles the chart's spec,
 * Vega renders it to SVG (no canvas: renderer 'none'), and resvg (prebuilt per platform)
 * rasterises the SVG with the Inter font shipped by an npm package, never with system fonts,
 * so the image is the same on a laptop and in a container that has no fonts at all.
 *
 * Vega, Vega-Lite and resvg are loaded on the first chart (importing Vega alone takes
 * about 0.2 s), so the bot starts without them.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { DailyStackChart } from '../../core/chart.js';
import type { ChartRenderer } from '../../ports.js';
import { CHART_FONT_FAMILY, dailyStackSpec } from './daily-stack-spec.js';
import { FontMetrics } from './font-metrics.js';

/** The font files, from @expo-google-fonts/inter (TTF: resvg reads no WOFF). */
const FONT_FILES = {
  regular: '@expo-google-fonts/inter/400Regular/Inter_400Regular.ttf',
  semiBold: '@expo-google-fonts/inter/600SemiBold/Inter_600SemiBold.ttf',
} as const;

/** Pixels per CSS pixel of the PNG: 2 keeps text sharp on high-density screens. */
const DEFAULT_SCALE = 2;

export interface VegaChartRendererOptions {
  /** Pixels per CSS pixel of the PNG (default 2: a 720×360 chart becomes 1440×720). */
  readonly scale?: number;
}

/** The text item fields Vega's text measurement reads. */
interface TextItem {
  readonly fontSize?: number | string | null;
  readonly fontWeight?: number | string | null;
  readonly limit?: number | string | null;
}

interface Engine {
  readonly vega: typeof import('vega');
  readonly compile: typeof import('vega-lite').compile;
  readonly Resvg: typeof import('@resvg/resvg-js').Resvg;
  readonly fontFiles: string[];
}

let engine: Promise<Engine> | undefined;

/** Loads Vega, Vega-Lite, resvg and the font once, on first use. */
function loadEngine(): Promise<Engine> {
  engine ??= (async () => {
    const require = createRequire(import.meta.url);
    const regular = require.resolve(FONT_FILES.regular);
    const semiBold = require.resolve(FONT_FILES.semiBold);
    const [vega, vegaLite, resvg, regularBytes, semiBoldBytes] = await Promise.all([
      import('vega'),
      import('vega-lite'),
      import('@resvg/resvg-js'),
      readFile(regular),
      readFile(semiBold),
    ]);
    measureTextWith(vega, FontMetrics.fromFontFile(regularBytes), FontMetrics.fromFontFile(semiBoldBytes));
    return { vega, compile: vegaLite.compile, Resvg: resvg.Resvg, fontFiles: [regular, semiBold] };
  })().catch((error: unknown) => {
    engine = undefined; // let a later chart try again
    throw error;
  });
  return engine;
}

/**
 * Makes Vega measure text with the shipped font's own widths. Without a canvas Vega guesses
 * 0.8 em per character, far wider than Inter, which spreads legends out and cuts labels
 * short. `textMetrics` is exported by Vega at run time (as used by vl-convert) but not typed.
 */
function measureTextWith(vega: typeof import('vega'), regular: FontMetrics, semiBold: FontMetrics): void {
  const metrics = (vega as unknown as { textMetrics?: { width: (item: TextItem, text: unknown) => number } }).textMetrics;
  if (!metrics) return;
  metrics.width = (item, text) => {
    const size = item.fontSize != null ? Number(item.fontSize) || 0 : 11;
    if (size <= 0) return 0;
    const line = text == null ? '' : String(text).trim();
    const weight = item.fontWeight;
    const font = weight === 'bold' || Number(weight) >= 600 ? semiBold : regular;
    const width = font.width(line, size);
    // Vega truncates to `limit` with this same function, so the measured width of a text
    // with a limit is at most the limit (what is drawn after truncation).
    const limit = Number(item.limit) || 0;
    return limit > 0 ? Math.min(width, limit) : width;
  };
}

/** The chart as SVG text, as Vega draws it before rasterising (font family: Inter). */
export async function renderSvg(chart: DailyStackChart): Promise<string> {
  const { vega, compile } = await loadEngine();
  const { spec } = compile(dailyStackSpec(chart));
  const view = new vega.View(vega.parse(spec), { renderer: 'none', logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export class VegaChartRenderer implements ChartRenderer {
  private readonly scale: number;

  constructor(options: VegaChartRendererOptions = {}) {
    this.scale = options.scale ?? DEFAULT_SCALE;
  }

  async renderPng(chart: DailyStackChart): Promise<Uint8Array> {
    const svg = await renderSvg(chart);
    const { Resvg, fontFiles } = await loadEngine();
    // Rasterised on the main thread (about 40 ms at scale 2). resvg's renderAsync would free
    // the event loop, but the thread pool's malloc arenas kept some 30 MB more resident.
    const image = new Resvg(svg, {
      background: '#ffffff',
      fitTo: { mode: 'zoom', value: this.scale },
      font: {
        fontFiles,
        loadSystemFonts: false,
        defaultFontFamily: CHART_FONT_FAMILY,
        sansSerifFamily: CHART_FONT_FAMILY,
      },
    }).render();
    const png = image.asPng();
    return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
  }
}
