/**
 * Text helpers for the Slack renderer: escaping, cutting to a length without breaking an
 * entity, and the monospaced table that Block Kit lacks. Pure: no I/O.
 */
import { MARKER_CHARS, MENTION, plainMentions, type ReplyBlock } from '../core/reply.js';

/**
 * Widest table cell, in characters, except in the last column: one long tag value must not
 * push the amounts after it off screen, while a long last cell (help's descriptions) moves nothing.
 */
const MAX_CELL_WIDTH = 60;

/**
 * Escapes `&`, `<` and `>` as Slack requires, so `<!channel>` or `<https://x|y>` taken from
 * cost data shows literally instead of pinging or linking. Drops control characters other
 * than tab and newline: they mean nothing on screen and JSON would spell each as six.
 */
export function escapeSlack(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    // A person the reply names on purpose (never longer than its marker, so a cut stays within
    // its limit); anything else that looks like a marker came from data and is dropped.
    .replace(MENTION, (_, id: string) => (/^[UW][A-Z0-9]+$/.test(id) ? `<@${id}>` : /^S[A-Z0-9]+$/.test(id) ? `<!subteam^${id}>` : `@${id}`))
    .replace(MARKER_CHARS, '');
}

/**
 * Escapes a text and cuts it to at most `max` characters (after escaping), ending with "…"
 * when cut. Cuts between code points of the original, so never inside an entity.
 */
export function fit(raw: string, max: number): string {
  const escaped = escapeSlack(raw);
  if (escaped.length <= max) return escaped;
  let out = '';
  for (const char of raw) {
    const next = escapeSlack(char);
    if (out.length + next.length > max - 1) break;
    out += next;
  }
  return `${out}…`;
}

/**
 * Cuts mrkdwn that is already escaped to at most `max` characters, ending with "…", without
 * leaving half an entity (`&am`), half a `<…>` mention or half a surrogate pair.
 */
export function cutMrkdwn(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1);
  if (cut.lastIndexOf('&') > cut.lastIndexOf(';')) cut = cut.slice(0, cut.lastIndexOf('&'));
  if (cut.lastIndexOf('<') > cut.lastIndexOf('>')) cut = cut.slice(0, cut.lastIndexOf('<'));
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/** Removes *bold* markers, as render/text.ts does. */
export function unbold(text: string): string {
  return text.replace(/\*([^*\n]+)\*/g, '$1');
}

/** Text with no markup at all (for plain_text objects and notifications): no *bold*, no backticks. */
export function unmarked(text: string): string {
  return unbold(text).replaceAll('`', '');
}

/**
 * Packs already escaped lines, each short enough, into as few chunks as possible whose
 * joined text plus `overhead` is at most `max`. Whitespace-only chunks are left out, since
 * Slack rejects empty text.
 */
export function packLines(lines: readonly string[], max: number, overhead = 0): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let length = 0;
  for (const line of lines) {
    if (current.length > 0 && length + 1 + line.length + overhead > max) {
      chunks.push(current.join('\n'));
      current = [];
    }
    length = current.length === 0 ? line.length : length + 1 + line.length;
    current.push(line);
  }
  if (current.length > 0) chunks.push(current.join('\n'));
  return chunks.filter((chunk) => chunk.trim() !== '');
}

/** The lines of a table, aligned as in render/text.ts but not yet escaped. */
export interface TableLines {
  readonly head: string;
  readonly rows: readonly string[];
  /** The rule and the footer row, when the table has a footer. */
  readonly tail: readonly string[];
}

/**
 * Aligns a table for a code block: right-aligned amounts, a rule above the total. Inside a
 * fence *bold* and backticks would show literally, so they go, and so do mentions and a line
 * break in a cell; cells before the last column are cut at {@link MAX_CELL_WIDTH}.
 */
export function tableLines(table: Extract<ReplyBlock, { type: 'table' }>): TableLines {
  const cell = (text: string, index: number) => {
    // Slack shows no mention inside a fence: people are plain @ids there (and align).
    const chars = [...plainMentions(unmarked(text)).replace(/\s*\n\s*/g, ' ')];
    const cut = index < table.columns.length - 1 && chars.length > MAX_CELL_WIDTH;
    return cut ? `${chars.slice(0, MAX_CELL_WIDTH - 1).join('')}…` : chars.join('');
  };
  const all = [table.columns.map((column) => column.title), ...table.rows, ...(table.footer ? [table.footer] : [])].map((row) => row.map(cell));
  const widths = table.columns.map((_, index) => Math.max(...all.map((row) => width(row[index] ?? ''))));
  const format = (row: readonly string[]) =>
    row
      .map((text, index) => {
        const gap = ' '.repeat(Math.max(0, (widths[index] ?? 0) - width(text)));
        return table.columns[index]?.align === 'right' ? gap + text : text + gap;
      })
      .join('  ')
      .trimEnd();
  const rows = all.slice(1, 1 + table.rows.length).map(format);
  const tail = table.footer ? [widths.map((w) => '-'.repeat(w)).join('  '), format(all[all.length - 1]!)] : [];
  return { head: format(all[0]!), rows, tail };
}

function width(text: string): number {
  return [...text].length;
}
