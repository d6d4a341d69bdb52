/**
 * Renders a reply as plain text for a terminal or a log: aligned tables, a rule above
 * totals, footers indented. A reply never contains an empty line, so scripts can split a
 * stream of replies on blank lines. Pure: no I/O.
 */
import { plainMentions, type Reply, type ReplyBlock } from '../core/reply.js';

/** Renders a whole reply, ending with a newline. */
export function renderText(reply: Reply): string {
  const lines: string[] = [];
  if (reply.kind !== 'error') lines.push(reply.title, '='.repeat(Math.min(displayWidth(reply.title), 78)));
  for (const block of reply.blocks) lines.push(...renderBlock(block));
  return `${lines.join('\n')}\n`;
}

function renderBlock(block: ReplyBlock): string[] {
  switch (block.type) {
    case 'text':
      return [plain(block.text)];
    case 'fields': {
      const width = Math.max(...block.fields.map((field) => displayWidth(plain(field.label))));
      return block.fields.map((field) => `${pad(plain(field.label), width)}  ${plain(field.value)}`);
    }
    case 'sparkline':
      return [`${block.label}  ${block.line}`];
    case 'table':
      return renderTable(block);
    case 'context':
      return [`  ${plain(block.text)}`];
    case 'actions':
      // Buttons need a chat app; the reply says how to act on it elsewhere.
      return [];
  }
}

function renderTable(table: Extract<ReplyBlock, { type: 'table' }>): string[] {
  const all = [table.columns.map((column) => column.title), ...table.rows, ...(table.footer ? [table.footer] : [])].map((row) => row.map(plain));
  const widths = table.columns.map((_, index) => Math.max(...all.map((row) => displayWidth(row[index] ?? ''))));
  const format = (row: readonly string[]) =>
    row
      .map((cell, index) => (table.columns[index]?.align === 'right' ? padStart(cell, widths[index]!) : pad(cell, widths[index]!)))
      .join('  ')
      .trimEnd();
  const lines = [format(all[0]!), ...all.slice(1, 1 + table.rows.length).map(format)];
  if (table.footer) lines.push(widths.map((width) => '-'.repeat(width)).join('  '), format(all[all.length - 1]!));
  return lines;
}

/** Removes *bold* markers; keeps `code` spans, which read well in a terminal. */
function plain(text: string): string {
  return plainMentions(text.replace(/\*([^*\n]+)\*/g, '$1'));
}

function displayWidth(text: string): number {
  return [...text].length;
}

function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - displayWidth(text)));
}

function padStart(text: string, width: number): string {
  return ' '.repeat(Math.max(0, width - displayWidth(text))) + text;
}
