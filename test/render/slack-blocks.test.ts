/**
 * The Slack renderer: each reply block as Block Kit, escaping (a tag value never pings or
 * links), and Slack's limits on synthetic giant replies and on the real engine's biggest
 * answers over the demo organisation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgCostStore } from '../../src/adapters/db/cost-store.js';
import { DemoCostSource } from '../../src/adapters/demo/demo-cost-source.js';
import type { CommandEngine } from '../../src/app/engine.js';
import { syncCosts } from '../../src/app/sync-costs.js';
import { errorReply, mention, type Reply, type ReplyBlock } from '../../src/core/reply.js';
import { renderSlackHomeView, renderSlackMessage, SLACK_LIMITS, type SlackBlock, type SlackButton } from '../../src/render/slack-blocks.js';
import { renderText } from '../../src/render/text.js';
import { openTestDatabase, type TestDatabase } from '../support/test-database.js';
import { engineFor, FixedClock, testSyncSettings } from '../support/world.js';

type Table = Extract<ReplyBlock, { type: 'table' }>;

/** Every text object in the blocks, with where it is. */
function textsOf(blocks: readonly SlackBlock[]): Array<{ where: string; text: string }> {
  return blocks.flatMap((block, index) => {
    const where = `block ${index} (${block.type})`;
    switch (block.type) {
      case 'header':
        return [{ where, text: block.text.text }];
      case 'section':
        return [...(block.text ? [block.text.text] : []), ...(block.fields ?? []).map((field) => field.text)].map((text) => ({ where, text }));
      case 'context':
        return block.elements.map((element) => ({ where, text: element.text }));
      case 'actions':
        return block.elements.map((element) => ({ where, text: element.text.text }));
      case 'divider':
        return [];
    }
  });
}

/**
 * Everything Slack would reject or misrender in `blocks`: counts, lengths, empty texts,
 * unbalanced code fences, and `&`, `<`, `>` that are not escaped.
 */
function checkSlackLimits(blocks: readonly SlackBlock[], limits: { maxBlocks: number; maxChars: number }): string[] {
  const problems: string[] = [];
  const over = (where: string, what: string, length: number, max: number) => length > max && problems.push(`${where}: ${what} is ${length} > ${max}`);
  over('message', 'block count', blocks.length, limits.maxBlocks);
  over('message', 'JSON length', JSON.stringify(blocks).length, limits.maxChars);
  blocks.forEach((block, index) => {
    const where = `block ${index} (${block.type})`;
    switch (block.type) {
      case 'header':
        over(where, 'header text', block.text.text.length, SLACK_LIMITS.headerText);
        if (block.text.type !== 'plain_text') problems.push(`${where}: header text is not plain_text`);
        break;
      case 'section':
        if (!block.text && !block.fields?.length) problems.push(`${where}: section with neither text nor fields`);
        if (block.text) over(where, 'section text', block.text.text.length, SLACK_LIMITS.sectionText);
        over(where, 'field count', block.fields?.length ?? 0, SLACK_LIMITS.fieldsPerSection);
        for (const field of block.fields ?? []) over(where, 'field text', field.text.length, SLACK_LIMITS.fieldText);
        if (block.text && (block.text.text.match(/```/g) ?? []).length % 2 !== 0) problems.push(`${where}: unbalanced code fence`);
        break;
      case 'context':
        if (block.elements.length === 0) problems.push(`${where}: context without elements`);
        over(where, 'context elements', block.elements.length, SLACK_LIMITS.contextElements);
        for (const element of block.elements) over(where, 'context text', element.text.length, SLACK_LIMITS.contextText);
        break;
      case 'actions': {
        if (block.elements.length === 0) problems.push(`${where}: actions without elements`);
        over(where, 'buttons', block.elements.length, SLACK_LIMITS.actionsElements);
        const ids = new Set(block.elements.map((element) => element.action_id));
        if (ids.size !== block.elements.length) problems.push(`${where}: repeated action ids`);
        for (const button of block.elements) {
          over(where, 'button text', button.text.text.length, SLACK_LIMITS.buttonText);
          over(where, 'button value', button.value?.length ?? 0, SLACK_LIMITS.buttonValue);
          over(where, 'action id', button.action_id.length, SLACK_LIMITS.actionId);
        }
        break;
      }
      case 'divider':
        break;
      default:
        problems.push(`${where}: unknown block type`);
    }
  });
  for (const { where, text } of textsOf(blocks)) {
    if (text.trim() === '') problems.push(`${where}: empty text`);
    if (/[<>]|&(?!amp;|lt;|gt;)/.test(text)) problems.push(`${where}: unescaped markup in ${JSON.stringify(text.slice(0, 80))}`);
  }
  return problems;
}

const MESSAGE = { maxBlocks: SLACK_LIMITS.messageBlocks, maxChars: SLACK_LIMITS.totalBlockChars };
const HOME = { maxBlocks: SLACK_LIMITS.homeBlocks, maxChars: SLACK_LIMITS.homeBlockChars };

const sections = (blocks: readonly SlackBlock[]) => blocks.filter((block) => block.type === 'section');
const contexts = (blocks: readonly SlackBlock[]) => blocks.flatMap((block) => (block.type === 'context' ? block.elements.map((element) => element.text) : []));

/** The lines inside every code fence, in order. */
function fencedLines(blocks: readonly SlackBlock[]): string[] {
  return sections(blocks).flatMap((block) => {
    const text = block.text?.text ?? '';
    const match = /^```\n([\s\S]*)\n```$/.exec(text);
    return match ? match[1]!.split('\n') : [];
  });
}

const FOOTER = 'last 30 days (2026-10-23 – 2026-11-21) · unblended cost in USD · data through 2026-11-21';

function answer(title: string, ...blocks: ReplyBlock[]): Reply {
  return { kind: 'answer', title, blocks: [...blocks, { type: 'context', text: FOOTER }] };
}

function bigTable(rows: number, cellLength: number): Table {
  return {
    type: 'table',
    columns: [
      { title: 'Usage type', align: 'left' },
      { title: 'Cost', align: 'right' },
      { title: 'Share', align: 'right' },
    ],
    rows: Array.from({ length: rows }, (_, index) => [`row-${index}-${'x'.repeat(cellLength)}`, `USD ${index},000.00`, '0.1%']),
    footer: ['Total', 'USD 9,999,999.00', '100.0%'],
  };
}

/** Checks a (possibly cut) rendering of {@link bigTable}: rows in order, an exact count of the rest, the total last. */
function expectTableKept(blocks: readonly SlackBlock[], rows: number): void {
  const lines = fencedLines(blocks);
  const shown = lines.filter((line) => line.startsWith('row-'));
  shown.forEach((line, index) => expect(line.startsWith(`row-${index}-`)).toBe(true));
  const more = lines.map((line) => /^… and (\d+) more rows?$/.exec(line)).find(Boolean);
  expect(shown.length + Number(more?.[1] ?? 0)).toBe(rows);
  expect(lines.at(-1)).toMatch(/^Total\s+USD 9,999,999\.00\s+100\.0%$/);
  expect(lines.at(-2)).toMatch(/^-+ {2}-+ {2}-+$/);
}

describe('renderSlackMessage, block by block', () => {
  it('renders the title as a plain-text header with emoji, and the footer as a context line', () => {
    const { blocks, text } = renderSlackMessage(answer('Cost by service, last 30 days'));
    expect(blocks).toEqual([
      { type: 'header', text: { type: 'plain_text', text: 'Cost by service, last 30 days', emoji: true } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: FOOTER, verbatim: true }] },
    ]);
    expect(text).toBe('Cost by service, last 30 days');
  });

  it('gives an error no header, and a notification line with its first sentence', () => {
    const { blocks, text } = renderSlackMessage(errorReply("I can't group by `colour`. It is not a dimension.", 'Dimensions: `service`, `account`.'));
    expect(blocks.map((block) => block.type)).toEqual(['section', 'context']);
    expect(blocks[0]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: "I can't group by `colour`. It is not a dimension.", verbatim: true } });
    expect(text).toBe("Sorry: I can't group by colour.");
  });

  it('keeps `code` spans and *bold* in text, and splits long text at line ends', () => {
    const { blocks } = renderSlackMessage(answer('T', { type: 'text', text: 'Spend rose *12%* in `payments`' }));
    expect(sections(blocks)[0]!.text!.text).toBe('Spend rose *12%* in `payments`');
    const lines = Array.from({ length: 100 }, (_, index) => `${String(index).padStart(2, '0')} ${'y'.repeat(96)}`);
    const long = sections(renderSlackMessage(answer('T', { type: 'text', text: lines.join('\n') })).blocks);
    expect(long.map((block) => block.text!.text.split('\n').length)).toEqual([30, 30, 30, 10]);
    expect(long.map((block) => block.text!.text).join('\n')).toBe(lines.join('\n'));
  });

  it('renders fields as *label* over value, ten per section', () => {
    const fields = Array.from({ length: 25 }, (_, index) => ({ label: `*Label ${index}*`, value: `USD ${index}.00` }));
    const found = sections(renderSlackMessage(answer('T', { type: 'fields', fields })).blocks);
    expect(found.map((block) => block.fields!.length)).toEqual([10, 10, 5]);
    expect(found[0]!.fields![3]).toEqual({ type: 'mrkdwn', text: '*Label 3*\nUSD 3.00', verbatim: true });
  });

  it('renders a table as a code block aligned like the text renderer, total after a rule, without markers', () => {
    const table: Table = {
      type: 'table',
      columns: [
        { title: 'Service', align: 'left' },
        { title: 'Cost', align: 'right' },
        { title: 'Share', align: 'right' },
      ],
      rows: [
        ['Amazon EC2', 'USD 1,234.56', '99.4%'],
        ['S3', 'USD 7.00', '0.6%'],
      ],
      footer: ['*Total*', '*USD 1,241.56*', '100.0%'],
    };
    const { blocks } = renderSlackMessage(answer('T', table));
    const expected = renderText({ kind: 'answer', title: 'T', blocks: [table] }).trimEnd().split('\n').slice(2);
    expect(sections(blocks)).toHaveLength(1);
    expect(sections(blocks)[0]!.text!.text).toBe(`\`\`\`\n${expected.join('\n')}\n\`\`\``);
    expect(fencedLines(blocks)).toEqual([
      'Service             Cost   Share',
      'Amazon EC2  USD 1,234.56   99.4%',
      'S3              USD 7.00    0.6%',
      '----------  ------------  ------',
      'Total       USD 1,241.56  100.0%',
    ]);
    const code = renderSlackMessage(answer('T', { type: 'table', columns: [{ title: 'Command', align: 'left' }], rows: [['`help [x]`']] })).blocks;
    expect(fencedLines(code)).toEqual(['Command', 'help [x]']);
  });

  it('cuts a long cell at 60 characters so the amounts after it stay in view, but never the last column', () => {
    const table: Table = { type: 'table', columns: [{ title: 'Team', align: 'left' }, { title: 'Cost', align: 'right' }, { title: 'Note', align: 'left' }], rows: [['t'.repeat(80), 'USD 1.00', 'n'.repeat(200)]] };
    expect(fencedLines(renderSlackMessage(answer('T', table)).blocks)[1]).toBe(`${'t'.repeat(59)}…  USD 1.00  ${'n'.repeat(200)}`);
  });

  it('splits a long table over several sections, each its own fence, showing every row', () => {
    const { blocks } = renderSlackMessage(answer('T', bigTable(80, 40)));
    expect(sections(blocks).length).toBeGreaterThan(1);
    for (const block of sections(blocks)) expect(block.text!.text).toMatch(/^```\n[\s\S]+\n```$/);
    expectTableKept(blocks, 80);
    expect(fencedLines(blocks).some((line) => line.startsWith('…'))).toBe(false);
    expect(checkSlackLimits(blocks, MESSAGE)).toEqual([]);
  });

  it('renders a sparkline as label and line', () => {
    const { blocks } = renderSlackMessage(answer('T', { type: 'sparkline', label: 'Daily', line: '▁▃▆█' }));
    expect(sections(blocks)[0]!.text!.text).toBe('Daily  ▁▃▆█');
  });

  it('merges consecutive context lines into one block and keeps the last one on its own', () => {
    const reply: Reply = { kind: 'help', title: 'Help', blocks: [{ type: 'context', text: 'a' }, { type: 'context', text: 'b' }, { type: 'text', text: 'c' }, { type: 'context', text: 'd' }] };
    const { blocks } = renderSlackMessage(reply);
    expect(blocks.map((block) => (block.type === 'context' ? block.elements.map((element) => element.text) : block.type))).toEqual(['header', ['a', 'b'], 'section', ['d']]);
  });

  it('skips empty texts, which Slack rejects', () => {
    const reply = answer('T', { type: 'text', text: '' }, { type: 'fields', fields: [{ label: '', value: '' }] }, { type: 'context', text: ' ' }, { type: 'sparkline', label: '', line: '' });
    const { blocks } = renderSlackMessage(reply);
    expect(blocks.map((block) => block.type)).toEqual(['header', 'context']);
    expect(renderSlackMessage({ kind: 'error', title: 'Sorry', blocks: [] }).blocks).toEqual([{ type: 'section', text: { type: 'mrkdwn', text: 'Sorry', verbatim: true } }]);
  });
});

describe('mentions', () => {
  it('names the people the bot means, and no one that text from users, AWS or a model tries to name', () => {
    // What a reply may carry from data: a reject reason, a Name tag, a model's answer copying the marker's look.
    const forged = 'peak season \u27e6@S0ALLENG1\u27e7 \u27e6\ue001\ue002@U0CEO0001\u27e7 <@U0CEO0001> <!channel>';
    const reply: Reply = { kind: 'answer', title: 'Rightsizing', blocks: [{ type: 'text', text: `Rejected by ${mention('U0ALICE01')} for group ${mention('S0LEADS01')}: ${forged}` }] };
    const slack = JSON.stringify(renderSlackMessage(reply));
    expect(slack).toContain('Rejected by <@U0ALICE01> for group <!subteam^S0LEADS01>: peak season @S0ALLENG1 @U0CEO0001 &lt;@U0CEO0001&gt; &lt;!channel&gt;');
    expect(slack.match(/<[@!]/g)).toHaveLength(2);
    expect(slack).not.toMatch(/[\u27e6\u27e7\ue000-\uf8ff]/);
    expect(renderText(reply)).toContain('Rejected by @U0ALICE01 for group @S0LEADS01: peak season @S0ALLENG1 @U0CEO0001 <@U0CEO0001> <!channel>');
  });
});

describe('escaping', () => {
  const hostile = '<!channel> & <https://evil.example|click>';
  const reply: Reply = {
    kind: 'answer',
    title: `Cost for ${hostile}`,
    blocks: [
      { type: 'text', text: `Team ${hostile}` },
      { type: 'fields', fields: [{ label: hostile, value: hostile }] },
      { type: 'table', columns: [{ title: 'Tag <b>', align: 'left' }], rows: [[hostile]], footer: ['a & b'] },
      { type: 'sparkline', label: hostile, line: '▁█' },
      { type: 'context', text: hostile },
      { type: 'context', text: `data through 2026-11-21 · ${hostile}` },
    ],
  };

  it('shows <!channel>, & and <url|text> from the reply literally everywhere, never as markup', () => {
    const message = renderSlackMessage(reply);
    const json = JSON.stringify(message);
    expect(json).not.toMatch(/[<>]/);
    expect(json).not.toMatch(/&(?!amp;|lt;|gt;)/);
    const escaped = '&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;';
    expect(message.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: `Cost for ${escaped}`, emoji: true } });
    expect(sections(message.blocks).find((block) => block.fields)!.fields![0]!.text).toBe(`*${escaped}*\n${escaped}`);
    expect(fencedLines(message.blocks)).toEqual(['Tag &lt;b&gt;', escaped, '-'.repeat(41), 'a &amp; b']);
    expect(contexts(message.blocks)).toEqual([escaped, `data through 2026-11-21 · ${escaped}`]);
    expect(message.text).toBe(`Cost for ${escaped}`);
    expect(checkSlackLimits(message.blocks, MESSAGE)).toEqual([]);
  });

  it('keeps a note the caller escaped (a deliberate mention) as a context line before the buttons', () => {
    const buttons: SlackButton[] = [{ text: 'Share', actionId: 'share', value: 'cost 7d & more' }];
    const { blocks } = renderSlackMessage(answer('T'), { note: 'Shared by <@U123> · `/finops cost 7d`', buttons });
    expect(blocks.slice(-2)).toEqual([
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'Shared by <@U123> · `/finops cost 7d`', verbatim: true }] },
      { type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Share', emoji: true }, action_id: 'share', value: 'cost 7d & more' }] },
    ]);
    const long = renderSlackMessage(answer('T'), { note: `${'&amp;'.repeat(599)}<@U123>` }).blocks;
    const note = contexts(long).at(-1)!;
    expect(note.length).toBeLessThanOrEqual(SLACK_LIMITS.contextText);
    expect(note).toMatch(/^(&amp;)+…$/);
  });

  it('makes a plain notification line: no markers, escaped, at most 300 characters', () => {
    expect(renderSlackMessage(answer('Tag coverage of `Team` & *more*')).text).toBe('Tag coverage of Team &amp; more');
    const text = renderSlackMessage(errorReply(`${'<'.repeat(400)}.`)).text;
    expect(text.length).toBeLessThanOrEqual(SLACK_LIMITS.fallbackText);
    expect(text).toMatch(/^Sorry: (&lt;)+…$/);
  });
});

describe('buttons', () => {
  it('puts the buttons in one actions block at the end, with their style', () => {
    const { blocks } = renderSlackMessage(answer('T'), { buttons: [{ text: 'Approve', actionId: 'approve', value: 'r-1', style: 'primary' }, { text: 'Reject', actionId: 'reject', value: 'r-1', style: 'danger' }] });
    expect(blocks.at(-1)).toEqual({
      type: 'actions',
      elements: [
        { type: 'button', text: { type: 'plain_text', text: 'Approve', emoji: true }, action_id: 'approve', value: 'r-1', style: 'primary' },
        { type: 'button', text: { type: 'plain_text', text: 'Reject', emoji: true }, action_id: 'reject', value: 'r-1', style: 'danger' },
      ],
    });
  });

  it('refuses what cannot be cut meaningfully: a value over 2,000 characters, a bad or repeated action id, no label', () => {
    const render = (button: Partial<SlackButton>, more: SlackButton[] = []) => () => renderSlackMessage(answer('T'), { buttons: [...more, { text: 'Go', actionId: 'go', value: 'v', ...button }] });
    expect(render({ value: 'v'.repeat(2000) })).not.toThrow();
    expect(render({ value: 'v'.repeat(2001) })).toThrow(/2001/);
    expect(render({ actionId: 'a'.repeat(256) })).toThrow(/action id/);
    expect(render({}, [{ text: 'Go', actionId: 'go', value: 'v' }])).toThrow(/repeated/);
    expect(render({ text: '  ' })).toThrow(/label/);
  });
});

/** Synthetic replies far beyond anything Slack accepts. */
const GIANTS: Array<{ name: string; reply: Reply; buttons?: SlackButton[] }> = [
  { name: 'a table of 2,000 rows with long cells', reply: answer('Big table', { type: 'fields', fields: [{ label: 'Total', value: 'USD 9,999,999.00' }] }, bigTable(2000, 200)) },
  { name: '500 fields', reply: answer('Fields', { type: 'fields', fields: Array.from({ length: 500 }, (_, index) => ({ label: `Field ${index} <&>`, value: `${index} ${'v&'.repeat(1500)}` })) }) },
  { name: 'a 50,000-character text', reply: answer('Text', { type: 'text', text: Array.from({ length: 500 }, (_, index) => `${String(index).padStart(3, '0')} ${'t'.repeat(95)}`).join('\n') }) },
  { name: 'a 5,000-character line', reply: answer('Line', { type: 'text', text: '<'.repeat(5000) }) },
  { name: '100 context blocks', reply: answer('Contexts', ...Array.from({ length: 99 }, (_, index): ReplyBlock => ({ type: 'context', text: `note ${index} ${'c'.repeat(index === 0 ? 5000 : 150)}` }))) },
  { name: 'a 400-character title', reply: answer(`${'T'.repeat(398)} &`) },
  {
    name: '30 buttons with 200-character labels',
    reply: answer('Buttons', bigTable(300, 20)),
    buttons: Array.from({ length: 30 }, (_, index) => ({ text: `${index} ${'b'.repeat(200)}`, actionId: `action-${index}`, value: `value-${index}` })),
  },
  {
    name: 'everything at once',
    reply: answer(
      'x'.repeat(400),
      { type: 'text', text: 'w'.repeat(50_000) },
      { type: 'fields', fields: Array.from({ length: 500 }, (_, index) => ({ label: `F${index}`, value: 'v'.repeat(2500) })) },
      bigTable(2000, 200),
      ...Array.from({ length: 99 }, (): ReplyBlock => ({ type: 'context', text: 'k'.repeat(4000) })),
    ),
    buttons: Array.from({ length: 30 }, (_, index) => ({ text: 'b'.repeat(200), actionId: `a${index}`, value: `${index}` })),
  },
];

describe('limits on giant replies', () => {
  for (const { name, reply, buttons } of GIANTS) {
    it(`keeps ${name} within every limit, with its title, footer and buttons`, () => {
      const { blocks, text } = renderSlackMessage(reply, buttons ? { buttons } : {});
      expect(checkSlackLimits(blocks, MESSAGE)).toEqual([]);
      expect(text.length).toBeLessThanOrEqual(SLACK_LIMITS.fallbackText);
      expect(blocks[0]!.type).toBe('header');
      const footerAt = blocks.findLastIndex((block) => block.type === 'context' && block.elements.some((element) => element.text === FOOTER));
      expect(footerAt).toBe(blocks.length - (buttons ? 2 : 1));
      if (buttons) {
        const actions = blocks.at(-1)!;
        expect(actions.type === 'actions' && actions.elements.map((button) => button.action_id)).toEqual(buttons.slice(0, 25).map((button) => button.actionId));
      }
      if (reply.blocks.some((block) => block.type === 'table')) expectTableKept(blocks, (reply.blocks.find((block) => block.type === 'table') as Table).rows.length);
    });
  }

  it('cuts a 400-character title to 150 with "…"', () => {
    const header = renderSlackMessage(answer('T'.repeat(400))).blocks[0]!;
    expect(header.type === 'header' && header.text.text).toBe(`${'T'.repeat(149)}…`);
  });

  it('says exactly how many rows of a cut table are left out, and keeps the total', () => {
    const { blocks } = renderSlackMessage(answer('Big', bigTable(2000, 200)));
    const lines = fencedLines(blocks);
    const shown = lines.filter((line) => line.startsWith('row-')).length;
    expect(shown).toBeGreaterThan(10);
    expect(lines).toContain(`… and ${2000 - shown} more rows`);
    expectTableKept(blocks, 2000);
  });

  it('says exactly how many blocks of a cut text are left out, and shows its first lines in order', () => {
    const lines = Array.from({ length: 500 }, (_, index) => `${String(index).padStart(3, '0')} ${'t'.repeat(95)}`);
    const { blocks } = renderSlackMessage(answer('Text', { type: 'text', text: lines.join('\n') }));
    const shown = sections(blocks).map((block) => block.text!.text);
    expect(shown.join('\n')).toBe(lines.slice(0, shown.length * 30).join('\n'));
    // 100 characters a line: 30 lines a section, 17 sections in all.
    expect(contexts(blocks)).toContain(`… and ${17 - shown.length} more blocks`);
  });

  it('cuts an over-long line with "…" and never inside an entity', () => {
    const { blocks } = renderSlackMessage(answer('Line', { type: 'text', text: '<'.repeat(5000) }));
    expect(sections(blocks)[0]!.text!.text).toBe(`${'&lt;'.repeat(749)}…`);
  });

  it('keeps 25 of 30 buttons, labels cut to 75 characters with "…"', () => {
    const buttons = GIANTS.find((giant) => giant.name.startsWith('30 buttons'))!.buttons!;
    const actions = renderSlackMessage(answer('T'), { buttons }).blocks.at(-1)!;
    if (actions.type !== 'actions') throw new Error('no actions block');
    expect(actions.elements).toHaveLength(25);
    expect(actions.elements[0]!.text.text).toBe(`0 ${'b'.repeat(72)}…`);
  });
});

describe('renderSlackHomeView', () => {
  it('renders each reply with its own header, dividers between them, and the footer last', () => {
    const view = renderSlackHomeView([answer('This month'), errorReply('No forecast yet.'), answer('Top teams')], { footer: 'Ask me with `/finops help` & more' });
    expect(view.type).toBe('home');
    expect(view.blocks.map((block) => block.type)).toEqual(['header', 'context', 'divider', 'section', 'divider', 'header', 'context', 'context']);
    expect(contexts(view.blocks).at(-1)).toBe('Ask me with `/finops help` &amp; more');
    expect(checkSlackLimits(view.blocks, HOME)).toEqual([]);
  });

  it('shares 100 blocks and 24,000 characters between giant replies, each keeping its title, total and footer', () => {
    const replies = Array.from({ length: 6 }, (_, index) => answer(`Section ${index}`, { type: 'text', text: 'p\n'.repeat(3000) }, bigTable(2000, 100)));
    const view = renderSlackHomeView([answer('Small one'), ...replies], { footer: 'footer' });
    expect(checkSlackLimits(view.blocks, HOME)).toEqual([]);
    const headers = view.blocks.flatMap((block) => (block.type === 'header' ? [block.text.text] : []));
    expect(headers).toEqual(['Small one', ...replies.map((reply) => reply.title)]);
    expect(contexts(view.blocks).filter((text) => text === FOOTER)).toHaveLength(7);
    expect(view.blocks.filter((block) => block.type === 'divider')).toHaveLength(6);
    expect(contexts(view.blocks).at(-1)).toBe('footer');
  });

  it('counts the replies that cannot fit at all', () => {
    const replies = Array.from({ length: 60 }, (_, index) => answer(`Section ${index}`));
    const view = renderSlackHomeView(replies);
    expect(checkSlackLimits(view.blocks, HOME)).toEqual([]);
    const shown = view.blocks.filter((block) => block.type === 'header').length;
    expect(contexts(view.blocks).at(-1)).toBe(`… and ${60 - shown} more sections`);
  });
});

describe('the real engine’s biggest answers', () => {
  let test: TestDatabase;
  let engine: CommandEngine;
  const replies = new Map<string, Reply>();
  const COMMANDS = [
    'help',
    'help cost',
    'cost 90d by usage-type',
    'cost 90d by account',
    'cost 30d by tag:Environment',
    'top 30d',
    'top 90d',
    'tags',
    'tags Environment',
    'status',
    'forecast',
    'cost 7d by colour',
    'frobnicate',
  ];

  beforeAll(async () => {
    test = await openTestDatabase();
    const store = new PgCostStore(test.database.db);
    const clock = new FixedClock(new Date('2026-11-22T12:00:00Z'));
    await syncCosts({ source: new DemoCostSource(), store, clock }, testSyncSettings(100));
    engine = engineFor(store, clock);
    for (const command of COMMANDS) replies.set(command, await engine.handle(command, { channel: 'console' }));
  });
  afterAll(async () => test?.dispose());

  for (const command of COMMANDS) {
    it(`renders "${command}" within every limit, whole`, () => {
      const reply = replies.get(command)!;
      const { blocks, text } = renderSlackMessage(reply);
      expect(checkSlackLimits(blocks, MESSAGE)).toEqual([]);
      expect(text.length).toBeGreaterThan(0);
      expect(blocks[0]!.type).toBe(reply.kind === 'error' ? 'section' : 'header');
      if (reply.kind === 'error') expect(text).toMatch(/^Sorry: /);
      // Nothing is cut: every cell of every table is there, whole, and the reply's last context line ends the message.
      expect(JSON.stringify(blocks)).not.toMatch(/…/);
      const fenced = fencedLines(blocks).join('\n');
      for (const block of reply.blocks) {
        if (block.type !== 'table') continue;
        for (const cell of [...block.rows, ...(block.footer ? [block.footer] : [])].flat()) expect(fenced).toContain(cell.replaceAll('`', '').replaceAll('&', '&amp;'));
      }
      const lastContext = reply.blocks.findLast((block) => block.type === 'context');
      if (lastContext) expect(contexts(blocks).at(-1)).toBe(lastContext.text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;'));
    });
  }

  it('renders them all on one App Home within its limits', () => {
    const view = renderSlackHomeView([...replies.values()], { footer: 'Ask me with `/finops help`' });
    expect(checkSlackLimits(view.blocks, HOME)).toEqual([]);
    expect(contexts(view.blocks).at(-1)).toBe('Ask me with `/finops help`');
  });
});
