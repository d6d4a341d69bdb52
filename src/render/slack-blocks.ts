/**
 * Renders a reply as Slack Block Kit JSON that Slack never rejects: every text is escaped,
 * non-empty and within its limit, and a message stays within 50 blocks and 12,000
 * characters of JSON. When a reply is too big, the end goes first, but the title, the last
 * context line (period, metric, freshness), a table's total row and the buttons stay, and
 * a line says what was cut. Pure: no I/O, no Slack packages (see slack-kit.ts).
 */
import type { Reply, ReplyBlock, ReplyButton } from '../core/reply.js';
import { contextBlock, cost, fairShares, fitItems, type Item, moreBlock, mrkdwn, SLACK_LIMITS, tableSections, type SlackActionsBlock, type SlackBlock, type SlackButtonElement, type SlackDividerBlock } from './slack-kit.js';
import { cutMrkdwn, fit, packLines, tableLines, unbold, unmarked } from './slack-text.js';

export { SLACK_LIMITS } from './slack-kit.js';
export type { SlackActionsBlock, SlackBlock, SlackButtonElement, SlackContextBlock, SlackDividerBlock, SlackHeaderBlock, SlackMrkdwn, SlackPlainText, SlackSectionBlock } from './slack-kit.js';

/** A button under a message; `value` comes back verbatim in the action payload. */
export type SlackButton = ReplyButton;

/** Options of {@link renderSlackMessage}. */
export interface SlackMessageOptions {
  /** Shown last, at most 25. */
  readonly buttons?: readonly SlackButton[];
  /**
   * A context line under the reply, kept like its footer: mrkdwn the caller has already
   * escaped, since it may mention someone on purpose ("Shared by <@U123>").
   */
  readonly note?: string;
}

/**
 * A reply as a message: `blocks`, and `text`, the plain notification line (title, and for
 * errors and help their first sentence). Throws only on programming errors in the
 * buttons: a value over 2,000 characters, an empty, over-long or repeated action id, an
 * empty label, or buttons too large for a message.
 */
export function renderSlackMessage(reply: Reply, options: SlackMessageOptions = {}): { text: string; blocks: SlackBlock[] } {
  const items = replyItems(reply);
  const note = cutMrkdwn(options.note?.trim() ?? '', SLACK_LIMITS.contextText);
  if (note !== '') items.push({ blocks: [contextBlock([note])], keep: true });
  const actions = buttonsBlock(options.buttons ?? []);
  if (actions) items.push({ blocks: [actions], keep: true });
  const budget = { blocks: SLACK_LIMITS.messageBlocks, chars: SLACK_LIMITS.totalBlockChars - 1 };
  // A context line that cannot be kept beside huge buttons is dropped like the rest.
  const blocks = fitItems(items, budget) ?? fitItems(items.map((item) => ({ ...item, keep: item.keep === true && item.blocks[0]?.type !== 'context' })), budget);
  if (!blocks) throw new Error('renderSlackMessage: the buttons leave no room for the title');
  const text = fallbackText(reply);
  return { text, blocks: blocks.length > 0 ? blocks : [{ type: 'section', text: mrkdwn(text) }] };
}

/**
 * The App Home tab: each reply as in a message, with dividers between them and an optional
 * footer line. Within 100 blocks and 24,000 characters of JSON, shared fairly: a small
 * reply is shown whole, big ones share the rest; a reply that cannot fit at all is counted
 * in "… and N more sections".
 */
export function renderSlackHomeView(sections: readonly Reply[], options: { footer?: string } = {}): { type: 'home'; blocks: SlackBlock[] } {
  const footer = options.footer?.trim() ? contextBlock([fit(options.footer, SLACK_LIMITS.contextText)]) : undefined;
  const divider: SlackDividerBlock = { type: 'divider' };
  const rendered = sections.map(replyItems);
  const overhead = [...Array<SlackBlock>(Math.max(0, sections.length - 1)).fill(divider), moreBlock(sections.length, 'section'), ...(footer ? [footer] : [])];
  const full = rendered.map((items) => items.flatMap((item) => item.blocks));
  const blockShares = fairShares(full.map((blocks) => blocks.length), SLACK_LIMITS.homeBlocks - overhead.length);
  const charShares = fairShares(full.map(cost), SLACK_LIMITS.homeBlockChars - 1 - cost(overhead));
  const blocks: SlackBlock[] = [];
  let omitted = 0;
  rendered.forEach((items, index) => {
    const fitted = fitItems(items, { blocks: blockShares[index]!, chars: charShares[index]! });
    if (!fitted || fitted.length === 0) {
      omitted++;
    } else {
      if (blocks.length > 0) blocks.push(divider);
      blocks.push(...fitted);
    }
  });
  if (omitted > 0) blocks.push(moreBlock(omitted, 'section'));
  if (footer) blocks.push(footer);
  return { type: 'home', blocks };
}

function replyItems(reply: Reply): Item[] {
  const items: Item[] = [];
  const title = fit(unmarked(reply.title).trim(), SLACK_LIMITS.headerText);
  if (reply.kind !== 'error' && title !== '') items.push({ blocks: [{ type: 'header', text: { type: 'plain_text', text: title, emoji: true } }], keep: true });
  const last = reply.blocks.findLastIndex((block) => block.type === 'context');
  let run: string[] = [];
  const flush = () => {
    for (let i = 0; i < run.length; i += SLACK_LIMITS.contextElements) items.push({ blocks: [contextBlock(run.slice(i, i + SLACK_LIMITS.contextElements))] });
    run = [];
  };
  reply.blocks.forEach((block, index) => {
    if (block.type === 'context') {
      const text = fit(block.text, SLACK_LIMITS.contextText);
      if (text.trim() === '') return;
      if (index === last) {
        flush();
        items.push({ blocks: [contextBlock([text])], keep: true });
      } else {
        run.push(text);
      }
      return;
    }
    flush();
    items.push(...blockItems(block));
  });
  flush();
  return items;
}

function blockItems(block: Exclude<ReplyBlock, { type: 'context' }>): Item[] {
  switch (block.type) {
    case 'text': {
      const lines = block.text.split('\n').map((line) => fit(line, SLACK_LIMITS.sectionText));
      return packLines(lines, SLACK_LIMITS.sectionText).map((text) => ({ blocks: [{ type: 'section', text: mrkdwn(text) }] }));
    }
    case 'fields': {
      const fields = block.fields.map(({ label, value }) => fieldText(label, value)).filter((text) => text !== '');
      const items: Item[] = [];
      for (let i = 0; i < fields.length; i += SLACK_LIMITS.fieldsPerSection) {
        items.push({ blocks: [{ type: 'section', fields: fields.slice(i, i + SLACK_LIMITS.fieldsPerSection).map(mrkdwn) }] });
      }
      return items;
    }
    case 'table': {
      const table = tableLines(block);
      const blocks = tableSections(table);
      return blocks.length > 0 ? [{ blocks, table }] : [];
    }
    case 'sparkline': {
      const text = fit(`${block.label}  ${block.line}`.trim(), SLACK_LIMITS.sectionText);
      return text === '' ? [] : [{ blocks: [{ type: 'section', text: mrkdwn(text) }] }];
    }
    case 'actions': {
      const actions = buttonsBlock(block.buttons);
      return actions ? [{ blocks: [actions] }] : [];
    }
  }
}

/** `*label*` over the value; the label loses its own bold markers, which would double up. */
function fieldText(rawLabel: string, rawValue: string): string {
  const label = fit(unbold(rawLabel).trim(), 300);
  const head = label === '' ? '' : `*${label}*`;
  const value = fit(rawValue.trim(), SLACK_LIMITS.fieldText - head.length - 1);
  return [head, value].filter((part) => part !== '').join('\n');
}

function buttonsBlock(buttons: readonly SlackButton[]): SlackActionsBlock | undefined {
  if (buttons.length === 0) return undefined;
  const ids = new Set<string>();
  const elements = buttons.slice(0, SLACK_LIMITS.actionsElements).map((button): SlackButtonElement => {
    const { actionId, value } = button;
    if (actionId === '' || actionId.length > SLACK_LIMITS.actionId || ids.has(actionId)) throw new Error(`button action id ${JSON.stringify(actionId.slice(0, 40))} is empty, repeated or over ${SLACK_LIMITS.actionId} characters`);
    if (value.length > SLACK_LIMITS.buttonValue) throw new Error(`button ${actionId}: value of ${value.length} characters; Slack allows ${SLACK_LIMITS.buttonValue}`);
    const text = fit(unmarked(button.text).trim(), SLACK_LIMITS.buttonText);
    if (text === '') throw new Error(`button ${actionId} has no label`);
    ids.add(actionId);
    return { type: 'button', text: { type: 'plain_text', text, emoji: true }, action_id: actionId, ...(value === '' ? {} : { value }), ...(button.style ? { style: button.style } : {}) };
  });
  const block: SlackActionsBlock = { type: 'actions', elements };
  if (cost([block]) > SLACK_LIMITS.buttonsChars) throw new Error(`buttons take ${cost([block])} characters of JSON; at most ${SLACK_LIMITS.buttonsChars}`);
  return block;
}

/** The notification line: plain text, escaped (the top-level text is parsed as mrkdwn). */
function fallbackText(reply: Reply): string {
  const title = unmarked(reply.title).trim();
  const first = reply.blocks.find((block) => block.type === 'text');
  const sentence = first && (reply.kind !== 'answer' || title === '') ? firstSentence(unmarked(first.text)) : '';
  const line = [title, sentence].filter((part) => part !== '').join(': ').replace(/\s+/g, ' ');
  return fit(line || 'FinOps bot', SLACK_LIMITS.fallbackText);
}

function firstSentence(text: string): string {
  const line = text.trim().split('\n')[0] ?? '';
  return /^.*?[.!?](?=\s|$)/.exec(line)?.[0] ?? line;
}
