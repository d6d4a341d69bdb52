/**
 * The text around an AI answer: the grounding check of its amounts, its Markdown in the
 * reply's markup, the thread history given to the model, and how tool results are cleaned.
 */
import { describe, expect, it } from 'vitest';
import { historyMessages } from '../../../src/app/ai/model-run.js';
import { amountsIn, untracedAmounts } from '../../../src/app/ai/grounding.js';
import { toChatMarkdown } from '../../../src/app/ai/markdown.js';
import { cleanLine } from '../../../src/app/ai/tool-text.js';
import type { ConversationTurn, ModelMessage } from '../../../src/ports.js';

const TOOLS = ['Total: USD 12,345.67\nPrevious: USD 9,876.54\nChange: +USD 2,469.13 (+25.0%)', 'payments | -USD 3.00 | -1.2% | USD 1,234,567.89 | USD 1,234,570.89'];

describe('untracedAmounts', () => {
  it('traces amounts the tools printed, exactly or in another currency notation', () => {
    expect(untracedAmounts('Spend was USD 12,345.67, up $2,469.13 from $9,876.54.', TOOLS)).toEqual([]);
    expect(untracedAmounts('Payments fell by $3.00; it was USD 1,234,567.89.', TOOLS)).toEqual([]);
  });

  it('traces amounts rounded the way people round: whole units, thousands and millions with the decimals written', () => {
    expect(untracedAmounts('about $12,346 this week', TOOLS)).toEqual([]);
    expect(untracedAmounts('about $12k this week', TOOLS)).toEqual([]);
    expect(untracedAmounts('about $12.3k this week', TOOLS)).toEqual([]);
    expect(untracedAmounts('about $12.35 thousand', TOOLS)).toEqual([]);
    expect(untracedAmounts('nearly $1.2m, or $1.23 million, or USD 1,234,568', TOOLS)).toEqual([]);
    expect(untracedAmounts('a $2.5k rise', TOOLS)).toEqual([]);
  });

  it('flags a rounding that is not one of a printed amount', () => {
    expect(untracedAmounts('about $12,345 this week', TOOLS)).toEqual(['$12,345']);
    expect(untracedAmounts('about $12.4k this week', TOOLS)).toEqual(['$12.4k']);
    expect(untracedAmounts('about $13k this week', TOOLS)).toEqual(['$13k']);
    expect(untracedAmounts('nearly $1.3m', TOOLS)).toEqual(['$1.3m']);
  });

  it('treats negatives by their size, and flags each unsupported amount once', () => {
    expect(untracedAmounts('down -$3.00, or $-3.00', TOOLS)).toEqual([]);
    expect(untracedAmounts('RDS was $987.65 and then $987.65 again; EC2 €4,000.00', TOOLS)).toEqual(['$987.65', '€4,000.00']);
    expect(untracedAmounts('We spent USD 500.00.', [])).toEqual(['USD 500.00']);
  });

  it('ignores numbers that are not money', () => {
    expect(untracedAmounts('up 25.0% over 7 days, 3 teams, 2026-11-21', TOOLS)).toEqual([]);
    expect(amountsIn('$5 more and $7 million')).toEqual([
      { text: '$5', cents: 500, step: 100 },
      { text: '$7 million', cents: 700_000_000, step: 100_000_000 },
    ]);
  });
});

describe('toChatMarkdown', () => {
  it.each([
    ['Spend was **USD 12.00**.', 'Spend was *USD 12.00*.'],
    ['## Drivers', '*Drivers*'],
    ['### **Next step**', '*Next step*'],
    ['- one\n* two\n+ three', '• one\n• two\n• three'],
    ['  - nested **bold**', '  • nested *bold*'],
    ['**Total** first', '*Total* first'],
    ['See [the docs](https://example.com/a_b).', 'See the docs (https://example.com/a_b).'],
    ['a __very__ big rise', 'a _very_ big rise'],
    ['run `cost 30d by service`', 'run `cost 30d by service`'],
    ['[link](javascript:alert(1))', '[link](javascript:alert(1))'],
    ['plain *slack* text', 'plain *slack* text'],
  ])('%j → %j', (markdown, chat) => {
    expect(toChatMarkdown(markdown)).toBe(chat);
  });
});

describe('historyMessages', () => {
  const at = new Date('2026-11-22T12:00:00Z');
  const turn = (role: ConversationTurn['role'], text: string): ConversationTurn => ({ role, text, at });
  const texts = (messages: ModelMessage[]) => messages.map((message) => [message.role, message.content.map((block) => (block.type === 'text' ? block.text : '?'))]);

  it('gives earlier turns as alternating messages, oldest first', () => {
    const turns = [turn('user', 'q1'), turn('assistant', 'a1'), turn('user', 'q2'), turn('assistant', 'a2')];
    expect(texts(historyMessages(turns, 1_000))).toEqual([
      ['user', ['q1']],
      ['assistant', ['a1']],
      ['user', ['q2']],
      ['assistant', ['a2']],
    ]);
  });

  it('keeps the newest turns that fit the characters, starting with a question and ending with an answer', () => {
    const turns = [turn('user', 'q'.repeat(10)), turn('assistant', 'a'.repeat(10)), turn('user', 'Q'.repeat(10)), turn('assistant', 'A'.repeat(10))];
    expect(texts(historyMessages(turns, 40))).toHaveLength(4);
    expect(texts(historyMessages(turns, 39))).toEqual([
      ['user', ['Q'.repeat(10)]],
      ['assistant', ['A'.repeat(10)]],
    ]);
    expect(historyMessages(turns, 19)).toEqual([]);
    expect(historyMessages(turns, 0)).toEqual([]);
    // The newest answer alone is too long: nothing older is given either.
    expect(historyMessages([...turns.slice(0, 3), turn('assistant', 'x'.repeat(100))], 60)).toEqual([]);
  });

  it('drops a leading answer and a trailing question, and merges turns of the same role', () => {
    expect(texts(historyMessages([turn('assistant', 'a0'), turn('user', 'q1'), turn('user', 'q1b'), turn('assistant', 'a1'), turn('user', 'q2')], 1_000))).toEqual([
      ['user', ['q1', 'q1b']],
      ['assistant', ['a1']],
    ]);
    expect(historyMessages([turn('user', 'q')], 1_000)).toEqual([]);
    expect(historyMessages([], 1_000)).toEqual([]);
  });
});

describe('cleanLine', () => {
  it('removes control, bidi and invisible tag characters, keeps tabs and other scripts, and caps the length', () => {
    expect(cleanLine('pay\u0000ments\u0007\u001b[31m\u007f\u0085\u009b')).toBe('payments[31m');
    expect(cleanLine('\u202eevil\u202c \u2066isolated\u2069 \u200fmarked\u200e \u061c')).toBe('evil isolated marked ');
    expect(cleanLine('a\u2028b\u2029c')).toBe('abc');
    expect(cleanLine('ok\u{E0049}\u{E0067}\u{E006E}\u{E007F}')).toBe('ok');
    expect(cleanLine('tab\there · Zürich · 東京 · 💸')).toBe('tab\there · Zürich · 東京 · 💸');
    expect(cleanLine('*bold* text')).toBe('bold text');
    const long = cleanLine('x'.repeat(1_000));
    expect(long).toHaveLength(400);
    expect(long.endsWith('…')).toBe(true);
  });
});
