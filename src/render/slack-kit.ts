/**
 * Block Kit as this project uses it: the block types, Slack's limits, and fitting blocks
 * into a budget of blocks and JSON characters by dropping from the end while keeping what
 * matters. Pure: no I/O, no Slack packages (the types match the shape of @slack/types'
 * KnownBlock).
 */
import { fit, packLines, type TableLines } from './slack-text.js';

/**
 * Slack's limits, plus our own JSON budgets (Slack's message limit is not documented
 * exactly; 12,000 characters is safely inside it) and the most room buttons may take.
 */
export const SLACK_LIMITS = {
  messageBlocks: 50,
  homeBlocks: 100,
  sectionText: 3000,
  fieldsPerSection: 10,
  fieldText: 2000,
  headerText: 150,
  contextElements: 10,
  contextText: 3000,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  actionId: 255,
  totalBlockChars: 12_000,
  homeBlockChars: 24_000,
  buttonsChars: 6_000,
  fallbackText: 300,
} as const;

/** Text shown as typed (headers, button labels); `emoji` turns :shortcodes: into emoji. */
export interface SlackPlainText { type: 'plain_text'; text: string; emoji?: boolean }
/** `verbatim: true`: Slack still applies *bold*, `code` and escapes, but links or mentions nothing on its own. */
export interface SlackMrkdwn { type: 'mrkdwn'; text: string; verbatim?: boolean }
// The blocks, as plain JSON shapes, mutable like @slack/types' so they pass to Bolt as they are.
export interface SlackHeaderBlock { type: 'header'; text: SlackPlainText }
export interface SlackSectionBlock { type: 'section'; text?: SlackMrkdwn; fields?: SlackMrkdwn[] }
export interface SlackContextBlock { type: 'context'; elements: SlackMrkdwn[] }
export interface SlackButtonElement { type: 'button'; text: SlackPlainText; action_id: string; value?: string; style?: 'primary' | 'danger' }
export interface SlackActionsBlock { type: 'actions'; elements: SlackButtonElement[] }
export interface SlackDividerBlock { type: 'divider' }
/** A block this renderer emits. */
export type SlackBlock = SlackHeaderBlock | SlackSectionBlock | SlackContextBlock | SlackActionsBlock | SlackDividerBlock;

/** Blocks that are kept or dropped together; a table can also be shortened. */
export interface Item {
  readonly blocks: SlackBlock[];
  /** Kept whatever else is dropped: the header, the last context line, a note, the buttons. */
  readonly keep?: boolean;
  readonly table?: TableLines;
}

export interface Budget {
  readonly blocks: number;
  /** Measured by {@link cost}: JSON.stringify of the blocks is one character more. */
  readonly chars: number;
}

export function mrkdwn(text: string): SlackMrkdwn {
  return { type: 'mrkdwn', text, verbatim: true };
}

export function contextBlock(texts: readonly string[]): SlackContextBlock {
  return { type: 'context', elements: texts.map(mrkdwn) };
}

/** "… and 3 more blocks": says what was cut. */
export function moreBlock(count: number, unit: 'block' | 'section'): SlackContextBlock {
  return contextBlock([`… and ${count} more ${count === 1 ? unit : `${unit}s`}`]);
}

/** Lines (not yet escaped) in as few code blocks as fit in sections, each its own fence. */
export function fenceSections(lines: readonly string[]): SlackBlock[] {
  const fence = '```\n\n```'.length;
  const escaped = lines.map((line) => fit(line, SLACK_LIMITS.sectionText - fence));
  return packLines(escaped, SLACK_LIMITS.sectionText, fence).map((chunk) => ({ type: 'section', text: mrkdwn(`\`\`\`\n${chunk}\n\`\`\``) }));
}

/** A table with its first `shown` rows, "… and N more rows" when some are left out, then the rule and total. */
export function tableSections(table: TableLines, shown = table.rows.length): SlackBlock[] {
  const more = table.rows.length - shown;
  const marker = more > 0 ? [`… and ${more} more ${more === 1 ? 'row' : 'rows'}`] : [];
  return fenceSections([table.head, ...table.rows.slice(0, shown), ...marker, ...table.tail]);
}

/**
 * Everything if it fits. Otherwise the kept items, and the others in order until one does
 * not fit; what follows is counted in one "… and N more blocks". A table is never dropped
 * while there is room for its shortest form (header, "… and N more rows", total): room for
 * that is set aside, and it shows as many rows as fit. Undefined when even the kept items
 * do not fit.
 */
export function fitItems(items: readonly Item[], budget: Budget): SlackBlock[] | undefined {
  const all = items.flatMap((item) => item.blocks);
  if (fits(all, budget)) return all;
  return cutItems(items, budget, true) ?? cutItems(items, budget, false);
}

function cutItems(items: readonly Item[], budget: Budget, reserveTables: boolean): SlackBlock[] | undefined {
  const shortest = (item: Item) => (reserveTables && item.table ? tableSections(item.table, 0) : []);
  const total = items.reduce((sum, item) => sum + item.blocks.length, 0);
  const reserved = [...items.flatMap((item) => (item.keep ? item.blocks : shortest(item))), moreBlock(total, 'block')];
  let room = { blocks: budget.blocks - reserved.length, chars: budget.chars - cost(reserved) };
  if (room.blocks < 0 || room.chars < 0) return undefined;
  const out: SlackBlock[] = [];
  const take = (blocks: readonly SlackBlock[]) => {
    out.push(...blocks);
    room = { blocks: room.blocks - blocks.length, chars: room.chars - cost(blocks) };
  };
  let dropped = 0;
  let cutAt: number | undefined;
  for (const item of items) {
    if (item.keep) {
      out.push(...item.blocks);
      continue;
    }
    const held = shortest(item);
    room = { blocks: room.blocks + held.length, chars: room.chars + cost(held) };
    const open = cutAt === undefined || held.length > 0;
    if (open && fits(item.blocks, room)) {
      take(item.blocks);
      continue;
    }
    const partial = open && item.table ? fitTable(item.table, room) : undefined;
    if (partial) take(partial);
    else dropped += item.blocks.length;
    cutAt ??= out.length;
  }
  if (dropped > 0) out.splice(cutAt!, 0, moreBlock(dropped, 'block'));
  return out;
}

/** The table with the most rows that fit in `room`, short of all of them. */
function fitTable(table: TableLines, room: Budget): SlackBlock[] | undefined {
  let best: SlackBlock[] | undefined;
  let low = 0;
  let high = table.rows.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const blocks = tableSections(table, middle);
    if (fits(blocks, room)) [best, low] = [blocks, middle + 1];
    else high = middle - 1;
  }
  return best;
}

function fits(blocks: readonly SlackBlock[], room: Budget): boolean {
  return blocks.length <= room.blocks && cost(blocks) <= room.chars;
}

/** JSON size of blocks in a list, each with its comma: JSON.stringify(list).length − 1. */
export function cost(blocks: readonly SlackBlock[]): number {
  return blocks.reduce((sum, block) => sum + JSON.stringify(block).length + 1, 0);
}

/** Max-min fair split of `total`: needs below the equal share are met, the rest share the remainder. */
export function fairShares(needs: readonly number[], total: number): number[] {
  const shares = needs.map(() => 0);
  let left = Math.max(0, total);
  const order = needs.map((_, index) => index).sort((a, b) => needs[a]! - needs[b]!);
  order.forEach((index, position) => {
    shares[index] = Math.min(needs[index]!, Math.floor(left / (order.length - position)));
    left -= shares[index]!;
  });
  return shares;
}
