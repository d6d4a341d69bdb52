/**
 * Advance widths read from a TrueType/OpenType font file, so that Vega lays text out (legend
 * columns, label truncation, title limits) with the widths the rasteriser will really draw,
 * instead of its canvas-less estimate of 0.8 em per character. Kerning is ignored: it only
 * ever makes the drawn text a little narrower than measured.
 */

/** Width of a character the font has no glyph for, in em. */
const MISSING_GLYPH_EM = 0.6;

export class FontMetrics {
  private readonly cache = new Map<number, number>();

  private constructor(
    private readonly unitsPerEm: number,
    private readonly advances: readonly number[],
    private readonly glyphOf: (codePoint: number) => number,
  ) {}

  /** Reads the `head`, `hhea`, `hmtx` and `cmap` tables of a TTF/OTF file. */
  static fromFontFile(bytes: Uint8Array): FontMetrics {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const tables = readTableDirectory(view);
    const head = requireTable(tables, 'head');
    const hhea = requireTable(tables, 'hhea');
    const hmtx = requireTable(tables, 'hmtx');
    const cmap = requireTable(tables, 'cmap');

    const unitsPerEm = view.getUint16(head + 18);
    const metricCount = view.getUint16(hhea + 34);
    const advances: number[] = [];
    for (let i = 0; i < metricCount; i++) advances.push(view.getUint16(hmtx + 4 * i));
    if (unitsPerEm === 0 || advances.length === 0) throw new Error('font has no horizontal metrics');
    return new FontMetrics(unitsPerEm, advances, readCmap(view, cmap));
  }

  /** Width of one character in em (a code point the font lacks counts as 0.6 em). */
  advanceEm(codePoint: number): number {
    let em = this.cache.get(codePoint);
    if (em === undefined) {
      const glyph = this.glyphOf(codePoint);
      // Glyphs past the last long metric share its advance (monospaced tail of hmtx).
      const units = glyph === 0 ? undefined : (this.advances[glyph] ?? this.advances[this.advances.length - 1]);
      em = units === undefined ? MISSING_GLYPH_EM : units / this.unitsPerEm;
      this.cache.set(codePoint, em);
    }
    return em;
  }

  /** Width of `text` at `fontSize` pixels. */
  width(text: string, fontSize: number): number {
    let em = 0;
    for (const char of text) em += this.advanceEm(char.codePointAt(0)!);
    return em * fontSize;
  }
}

function readTableDirectory(view: DataView): Map<string, number> {
  const tables = new Map<string, number>();
  const count = view.getUint16(4);
  for (let i = 0; i < count; i++) {
    const record = 12 + 16 * i;
    const tag = String.fromCharCode(
      view.getUint8(record),
      view.getUint8(record + 1),
      view.getUint8(record + 2),
      view.getUint8(record + 3),
    );
    tables.set(tag, view.getUint32(record + 8));
  }
  return tables;
}

function requireTable(tables: Map<string, number>, tag: string): number {
  const offset = tables.get(tag);
  if (offset === undefined) throw new Error(`font has no '${tag}' table`);
  return offset;
}

/** A code point → glyph id lookup from the best Unicode subtable (format 12, else format 4). */
function readCmap(view: DataView, cmap: number): (codePoint: number) => number {
  const count = view.getUint16(cmap + 2);
  let format4: number | undefined;
  for (let i = 0; i < count; i++) {
    const record = cmap + 4 + 8 * i;
    const platform = view.getUint16(record);
    const encoding = view.getUint16(record + 2);
    const subtable = cmap + view.getUint32(record + 4);
    const format = view.getUint16(subtable);
    const unicode = platform === 0 || (platform === 3 && (encoding === 1 || encoding === 10));
    if (!unicode) continue;
    if (format === 12) return format12(view, subtable);
    if (format === 4) format4 ??= subtable;
  }
  if (format4 === undefined) throw new Error('font has no Unicode cmap');
  return format4Lookup(view, format4);
}

function format12(view: DataView, table: number): (codePoint: number) => number {
  const groups = view.getUint32(table + 12);
  return (codePoint) => {
    let lo = 0;
    let hi = groups - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const group = table + 16 + 12 * mid;
      const start = view.getUint32(group);
      const end = view.getUint32(group + 4);
      if (codePoint < start) hi = mid - 1;
      else if (codePoint > end) lo = mid + 1;
      else return view.getUint32(group + 8) + (codePoint - start);
    }
    return 0;
  };
}

function format4Lookup(view: DataView, table: number): (codePoint: number) => number {
  const segX2 = view.getUint16(table + 6);
  const ends = table + 14;
  const starts = ends + segX2 + 2;
  const deltas = starts + segX2;
  const rangeOffsets = deltas + segX2;
  return (codePoint) => {
    if (codePoint > 0xffff) return 0;
    for (let seg = 0; seg < segX2; seg += 2) {
      if (view.getUint16(ends + seg) < codePoint) continue;
      const start = view.getUint16(starts + seg);
      if (start > codePoint) return 0;
      const delta = view.getUint16(deltas + seg);
      const rangeOffset = view.getUint16(rangeOffsets + seg);
      if (rangeOffset === 0) return (codePoint + delta) & 0xffff;
      const glyph = view.getUint16(rangeOffsets + seg + rangeOffset + 2 * (codePoint - start));
      return glyph === 0 ? 0 : (glyph + delta) & 0xffff;
    }
    return 0;
  };
}
