/**
 * Without a model (no BEDROCK_MODEL_ID), questions and `explain` are answered by the
 * deterministic explainer, announced as such, with figures equal to what `cost` and `top`
 * show for the same period, team and service.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandEngine } from '../../../src/app/engine.js';
import { TOTAL_FACET } from '../../../src/core/cost-model.js';
import { formatAmount } from '../../../src/core/money.js';
import type { Reply } from '../../../src/core/reply.js';
import { renderText } from '../../../src/render/text.js';
import { testDatabaseKind } from '../../support/test-database.js';
import { centsIn, replyField } from '../../support/world.js';
import { type AiWorld, aiEngine, answerText, contextLines, LAST_7_DAYS, openAiWorld, slack, tableOf, usageRows } from './ai-world.js';

const RDS = 'Amazon Relational Database Service';
const NO_MODEL = 'Written without an AI model (BEDROCK_MODEL_ID is not set) · AI cost: none · Cost Explorer requests: none (answered from the synced data)';

/** The explanation's paragraph that starts with `*heading*`. */
function paragraph(reply: Reply, heading: string): string {
  const found = answerText(reply)
    .split('\n\n')
    .find((text) => text.startsWith(`*${heading}*`));
  if (found === undefined) throw new Error(`no paragraph "${heading}" in\n${renderText(reply)}`);
  return found;
}

/**
 * The drivers sentence names the three largest movers in the direction of the net change,
 * each as `top` shows it ("name +USD 1.00 (+2.0%)"), and their sum.
 */
function expectDriversOf(sentence: string, top: Reply, tableIndex: number): void {
  const net = centsIn(replyField(top, 'Change'));
  const rows = tableOf(top, tableIndex).rows.filter((row) => (net >= 0n ? row[1]!.startsWith('+') : row[1]!.startsWith('-'))).slice(0, 3);
  expect(rows.length).toBeGreaterThan(0);
  for (const row of rows) expect(sentence).toContain(`${row[0]} ${row[1]} (${row[2]})`);
  const together = rows.reduce((sum, row) => sum + centsIn(row[1]!), 0n);
  const stated = /, ([+-]USD [\d,]+\.\d\d) together of the net ([+-]USD [\d,]+\.\d\d)\./.exec(sentence)!;
  expect(centsIn(stated[1]!)).toBe(together);
  expect(centsIn(stated[2]!)).toBe(net);
}

describe(`explanations without a model on ${testDatabaseKind}`, () => {
  let world: AiWorld;
  let engine: CommandEngine;

  beforeAll(async () => {
    world = await openAiWorld();
    engine = aiEngine(world, { modelId: null });
  });
  afterAll(async () => world.dispose());

  it('answers "why did our spend go up last week?" from the data, says no model wrote it, and its totals are `top 7d`’s', async () => {
    const reply = await engine.handle('why did our spend go up last week?', slack());
    expect(reply.kind, renderText(reply)).toBe('answer');
    expect(reply.title).toBe('Explanation from the data');
    const top = await engine.handle('top 7d', slack());
    const opening = paragraph(reply, 'What changed.');
    const [total, change, previous] = [...opening.matchAll(/USD [\d,]+\.\d\d/g)].map((match) => centsIn(match[0]));
    expect(total).toBe(centsIn(replyField(top, 'Total')));
    expect(previous).toBe(centsIn(replyField(top, /^Previous/)));
    const net = centsIn(replyField(top, 'Change'));
    expect(change).toBe(net < 0n ? -net : net);
    expect(opening).toContain(`${net < 0n ? 'down' : 'up'} USD`);
    expectDriversOf(paragraph(reply, 'By service.'), top, 1);
    expectDriversOf(paragraph(reply, 'By team.'), top, 0);
    const [basis, cost] = contextLines(reply);
    expect(basis!.startsWith(`Basis: ${LAST_7_DAYS} · unblended cost in USD · data through 2026-11-21`), basis).toBe(true);
    expect(cost).toBe(NO_MODEL);
    expect(answerText(reply)).not.toContain('Here is the built-in explanation');
  });

  it('explains 30 days for one team by its services and usage types, as `top 30d for search` ranks them', async () => {
    const reply = await engine.handle('explain 30d for search', slack());
    expect(reply.title).toBe('Explanation from the data');
    const top = await engine.handle('top 30d for search', slack());
    const cost = await engine.handle('cost 30d for search', slack());
    const opening = paragraph(reply, 'What changed.');
    expect(opening).toMatch(/^\*What changed\.\* Spend for search over last 30 days \(2026-10-23 – 2026-11-21\) was /);
    expect(centsIn(opening)).toBe(centsIn(replyField(cost, 'Total')));
    expect(centsIn(opening)).toBe(centsIn(replyField(top, 'Total')));
    expectDriversOf(paragraph(reply, 'By service.'), top, 0);
    expectDriversOf(paragraph(reply, 'By usage type.'), top, 1);
    expect(answerText(reply)).not.toContain('*By team.*');
    // The month-end sentence is the team's forecast.
    const forecast = await engine.handle('forecast for search', slack());
    expect(paragraph(reply, 'Month end.')).toContain(`ends near ${replyField(forecast, 'Forecast')}`);
    expect(contextLines(reply)[0]).toContain('last 30 days (2026-10-23 – 2026-11-21)');
  });

  it('adds a sentence for a service the question names, equal to `cost 30d by service` for it, with its highest day', async () => {
    const reply = await engine.handle('how much did RDS cost over the past 30 days?', slack());
    const sentence = paragraph(reply, `${RDS}.`);
    const byService = await engine.handle('cost 30d by service', slack());
    const row = tableOf(byService).rows.find((candidate) => candidate[0] === RDS);
    expect(row, renderText(byService)).toBeDefined();
    expect(sentence).toMatch(new RegExp(`^\\*${RDS}\\.\\* ${row![1]!.replace(/[.$]/g, '\\$&')} over the period, (up|down) `));
    const days = await world.store.sumByDay(TOTAL_FACET, { range: { start: '2026-10-23', end: '2026-11-22' }, metric: 'UnblendedCost', value: RDS });
    const highest = days.reduce((best, day) => (day.amount > best.amount ? day : best));
    expect(sentence).toContain(`Its highest day was ${highest.key} at ${formatAmount(highest.amount, 'USD')}.`);
    // The rest of the explanation is the organisation's over the same 30 days.
    expect(centsIn(paragraph(reply, 'What changed.'))).toBe(centsIn(replyField(byService, 'Total')));
  });

  it('reads the team and period from the question, and keeps a confined channel to its team', async () => {
    const reply = await engine.handle('what happened to payments spend yesterday?', slack());
    expect(paragraph(reply, 'What changed.')).toMatch(/^\*What changed\.\* Spend for payments over yesterday \(2026-11-21\) was /);
    const cost = await engine.handle('cost yesterday for payments', slack());
    expect(centsIn(paragraph(reply, 'What changed.'))).toBe(centsIn(replyField(cost, 'Total')));

    const confined = aiEngine(world, { modelId: null, channelTeams: new Map([['C-SEARCH', ['search']]]) });
    const own = await confined.handle('why did spend go up last week?', slack({ conversation: 'C-SEARCH' }));
    expect(paragraph(own, 'What changed.')).toMatch(/^\*What changed\.\* Spend for search over last 7 days/);
    const other = await confined.handle('why did payments spend go up last week?', slack({ conversation: 'C-SEARCH' }));
    expect(other.kind).toBe('error');
    expect(renderText(other).trim()).toBe('This conversation can see `search` only.');
  });

  it('records each explanation as a fallback without cost, and `ai-usage` says no model is configured', async () => {
    await world.forgetAi();
    await engine.handle('explain', slack({ user: 'UCAROL' }));
    const rows = await usageRows(world);
    expect(rows.map((row) => [row.model, row.requester, row.outcome, row.costNanoUsd, row.inputTokens])).toEqual([['deterministic', 'slack:UCAROL', 'fallback', 0n, 0]]);
    const usage = await engine.handle('ai-usage', slack());
    expect(replyField(usage, 'AI cost')).toBe('USD 0.00');
    expect(renderText(usage)).toContain('No model is configured (BEDROCK_MODEL_ID)');
  });
});
