/**
 * Tool results as the model reads them: a reply rendered as compact text (no sparklines, no
 * decoration), and every result cleaned of control characters and capped line by line,
 * since tag values and resource names inside it are written by whoever tagged the resources.
 */
import { plainMentions, type Reply } from '../../core/reply.js';
import type { ToolOutput } from './tools.js';

/** Longest line a tool result carries. */
const MAX_LINE = 400;

/** A handler's reply as tool output; its basis is the footer that names period, metric and freshness. */
export function replyAsData(reply: Reply): ToolOutput {
  const lines: string[] = [reply.title];
  let basis: string | undefined;
  for (const block of reply.blocks) {
    switch (block.type) {
      case 'text':
        lines.push(block.text);
        break;
      case 'fields':
        for (const field of block.fields) lines.push(`${field.label}: ${field.value}`);
        break;
      case 'table':
        lines.push(block.columns.map((column) => column.title).join(' | '));
        for (const row of block.rows) lines.push(row.join(' | '));
        if (block.footer) lines.push(block.footer.join(' | '));
        break;
      case 'context':
        if (block.text.includes('data through')) {
          basis = block.text;
          lines.push(`Basis: ${block.text}`);
        } else lines.push(block.text);
        break;
      case 'sparkline':
        break;
    }
  }
  return { text: lines.join('\n'), basis };
}

/** A whole tool result (or error sentence) cleaned line by line, as {@link cleanLine} does. */
export function cleanText(text: string): string {
  return text.split('\n').map(cleanLine).join('\n');
}

/**
 * Removes control characters (C0 but tab and newline, DEL, C1), bidirectional marks,
 * overrides and isolates, line and paragraph separators, and the invisible Unicode tag
 * characters (U+E0000–U+E007F, which models read as text), and caps the length.
 */
export function cleanLine(line: string): string {
  // eslint-disable-next-line no-control-regex
  // Mentions as plain @ids: the model never sees (nor can echo) a mention marker.
  const clean = plainMentions(line).replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\u{E0000}-\u{E007F}]/gu, '').replace(/\*([^*\n]+)\*/g, '$1');
  return clean.length > MAX_LINE ? `${clean.slice(0, MAX_LINE - 1)}…` : clean;
}
