/**
 * AI answers with tool use, end to end through the engine: the real Bedrock adapter over a
 * mocked SDK client, the real tools over the synced demo organisation, the real ledgers.
 */
import { ConverseCommand, type ConverseCommandInput } from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it } from 'vitest';
import { DEFAULT_AI_LIMITS } from '../../../src/app/ai/agent.js';
import { TOOL_NAMES } from '../../../src/app/ai/tools.js';
import { costOf, formatNanoUsd, priceOf } from '../../../src/core/ai-pricing.js';
import { renderText } from '../../../src/render/text.js';
import { testDatabaseKind } from '../../support/test-database.js';
import { centsIn, replyField } from '../../support/world.js';
import {
  aiEngine,
  answerText,
  contextLines,
  converseInputs,
  LAST_7_DAYS,
  lastToolResults,
  useAiWorld,
  slack,
  SONNET,
  textTurn,
  toolField,
  toolResultsIn,
  toolTurn,
  usageRows,
} from './ai-world.js';

describe(`AI answers with tools on ${testDatabaseKind}`, () => {
  const ai = useAiWorld();

  it('runs top_movers, then cost_breakdown, then answers with a figure from the tools, with its basis and its exact cost', async () => {
    const engine = aiEngine(ai.world);
    const usages = [
      { inputTokens: 1_840, outputTokens: 61, cacheWriteInputTokens: 2_903 },
      { inputTokens: 2_377, outputTokens: 48, cacheReadInputTokens: 2_903 },
      { inputTokens: 3_012, outputTokens: 187, cacheReadInputTokens: 2_903 },
    ];
    let quoted = '';
    ai.mock
      .on(ConverseCommand)
      .resolvesOnce(toolTurn([{ id: 'tooluse_top', name: 'top_movers', input: { period: '7d' } }], usages[0], 'Let me look at what moved.'))
      .resolvesOnce(toolTurn([{ id: 'tooluse_cost', name: 'cost_breakdown', input: { period: '7d', by: 'service' } }], usages[1]))
      .callsFakeOnce(async (input: ConverseCommandInput) => {
        // The figure the model quotes is the one the top_movers result it was sent carries.
        const top = toolResultOf(input, 'tooluse_top');
        quoted = toolField(top, 'Total');
        return textTurn(`Spend over the last 7 days was **${quoted}**.\n\n## Drivers\n- see the services above`, usages[2]);
      });

    const reply = await engine.handle('why did our spend go up last week?', slack());

    expect(reply.title, renderText(reply)).toBe('AI answer');
    const top = await engine.handle('top 7d', slack());
    expect(quoted).toMatch(/^USD [\d,]+\.\d\d$/);
    expect(centsIn(quoted)).toBe(centsIn(replyField(top, 'Total')));
    // The model's Markdown in the reply's markup, the figure intact.
    expect(answerText(reply)).toBe(`Let me look at what moved.\n\nSpend over the last 7 days was *${quoted}*.\n\n*Drivers*\n• see the services above`);

    const [basis, cost, ...others] = contextLines(reply);
    expect(others).toEqual([]);
    expect(basis).toMatch(/^Basis: /);
    expect(basis).toContain(LAST_7_DAYS);
    expect(basis).toContain('unblended cost in USD');
    expect(basis).toContain('data through 2026-11-21');

    const total = { input: 1_840 + 2_377 + 3_012, output: 61 + 48 + 187, cacheRead: 2 * 2_903, cacheWrite: 2_903 };
    const dollars = formatNanoUsd(costOf(total, priceOf(SONNET)!));
    expect(dollars).toMatch(/^USD 0\.\d{4}$|^USD \d+\.\d\d$/);
    expect(cost).toBe(
      `AI cost: ${SONNET} · 3 model turns, 2 tool calls · 7,229 input tokens (+5,806 read from cache, 2,903 written to it), 296 output · ${dollars} · Cost Explorer requests: none (answered from the synced data)`,
    );

    const usage = await engine.handle('ai-usage 7d', slack());
    expect(replyField(usage, 'Answers')).toBe('1');
    expect(replyField(usage, 'AI cost')).toBe(dollars);
    const [row] = await usageRows(ai.world);
    expect(row).toMatchObject({ model: SONNET, requester: 'slack:U1', outcome: 'answered', toolCalls: 2, costNanoUsd: costOf(total, priceOf(SONNET)!) });

    const sent = converseInputs(ai.mock);
    expect(sent).toHaveLength(3);
    expect(lastToolResults(sent[1]).map((result) => [result.toolUseId, result.status])).toEqual([['tooluse_top', 'success']]);
    expect(lastToolResults(sent[2]).map((result) => [result.toolUseId, result.status])).toEqual([['tooluse_cost', 'success']]);
    // The cost_breakdown result is the `cost 7d by service` answer's total.
    const breakdown = await engine.handle('cost 7d by service', slack());
    expect(centsIn(toolField(lastToolResults(sent[2])[0]!.text, 'Total'))).toBe(centsIn(replyField(breakdown, 'Total')));
    for (const input of sent) {
      expect(input.modelId).toBe(SONNET);
      expect(input.inferenceConfig?.maxTokens).toBe(DEFAULT_AI_LIMITS.maxTokens);
      expect(input.system).toEqual([{ text: expect.stringContaining('You are FinOps') }, { cachePoint: { type: 'default' } }]);
      expect(input.toolConfig?.tools?.at(-1)).toEqual({ cachePoint: { type: 'default' } });
      expect(input.toolConfig?.tools?.slice(0, -1).map((tool) => tool.toolSpec?.name)).toEqual([...TOOL_NAMES]);
      // Every request starts with the question, framed with today and the data's freshness.
      expect(input.messages?.[0]?.content?.[0]?.text).toMatch(/^Today is 2026-11-22 \(UTC\)\. Cost data is through 2026-11-21\. This conversation may see every team\./);
    }
    // The conversation grows by the model's turn and the results of its tools, nothing else.
    expect(sent[2]!.messages!.map((message) => message.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user']);
  });

  it('gives the model an error with a sentence for bad arguments, an unknown tool or team, and goes on to its answer', async () => {
    const logs: unknown[] = [];
    const engine = aiEngine(ai.world, { logs });
    const calls = [
      { id: 'tu_period', name: 'top_movers', input: { period: 'fortnight' } },
      { id: 'tu_extra', name: 'cost_breakdown', input: { period: '7d', colour: 'red' } },
      { id: 'tu_unknown', name: 'delete_instances', input: { ids: ['i-0123456789abcdef0'] } },
      { id: 'tu_team', name: 'top_movers', input: { period: '7d', team: 'no-such-team' } },
      { id: 'tu_type', name: 'cost_breakdown', input: { period: 7 } },
      { id: 'tu_text', name: 'month_end_forecast', input: '{"team": ' },
    ];
    ai.mock
      .on(ConverseCommand)
      .resolvesOnce(toolTurn(calls))
      .resolvesOnce(textTurn('I could not read those figures; try `top 7d`.'));

    const reply = await engine.handle('ask how much did we spend in the fortnight?', slack());

    expect(reply.title).toBe('AI answer');
    expect(answerText(reply)).toBe('I could not read those figures; try `top 7d`.');
    const results = lastToolResults(converseInputs(ai.mock)[1]);
    expect(results.map((result) => result.toolUseId)).toEqual(calls.map((call) => call.id));
    expect(results.every((result) => result.status === 'error')).toBe(true);
    const text = Object.fromEntries(results.map((result) => [result.toolUseId, result.text]));
    expect(text.tu_period).toBe('`fortnight` is not a period I know. Periods: today, yesterday, 7d, 30d, 90d, mtd, last-month, YYYY-MM, YYYY-MM-DD..YYYY-MM-DD.');
    expect(text.tu_extra).toBe('Invalid arguments for cost_breakdown: ✖ Unrecognized key: "colour"');
    expect(text.tu_unknown).toBe(`There is no tool named "delete_instances". The tools are: ${TOOL_NAMES.join(', ')}.`);
    expect(text.tu_team).toMatch(/^I don't know the team `no-such-team`\. Teams are values of the `Team` tag: .*`payments`/);
    expect(text.tu_type).toMatch(/^Invalid arguments for cost_breakdown: ✖ Invalid input: expected string, received number\n\s*→ at period$/);
    expect(text.tu_text).toBe('Invalid arguments for month_end_forecast: ✖ Invalid input: expected object, received string');
    for (const result of results) expect(result.text).not.toMatch(/\n\s+at |ZodError|Error:/);
    // No figures came back, so the basis says so; each refusal was logged.
    expect(contextLines(reply)[0]).toBe('Basis: no cost figures were read for this answer · data through 2026-11-21, synced 2026-11-22 12:00 UTC · source: demo organisation');
    expect(logs.filter((entry) => (entry as { message: string }).message === 'AI tool call refused')).toHaveLength(calls.length);
    const [row] = await usageRows(ai.world);
    expect(row).toMatchObject({ outcome: 'answered', toolCalls: calls.length });
  });

  it('flags an amount in the answer that no tool returned', async () => {
    const engine = aiEngine(ai.world);
    ai.mock
      .on(ConverseCommand)
      .resolvesOnce(toolTurn([{ id: 'tu_1', name: 'top_movers', input: { period: '7d' } }]))
      .callsFakeOnce(async (input: ConverseCommandInput) => {
        const total = toolField(toolResultOf(input, 'tu_1'), 'Total');
        return textTurn(`The week cost ${total}; RDS alone was $987,654.32.`);
      });
    const reply = await engine.handle('why did spend go up last week?', slack());
    expect(contextLines(reply)[0]).toBe('⚠ I could not trace $987,654.32 to the data the tools returned; treat it with care.');
    expect(contextLines(reply)[1]).toContain(LAST_7_DAYS);
  });
});

/** The text of the tool result with id `id` that the request carries. */
function toolResultOf(input: ConverseCommandInput, id: string): string {
  const found = toolResultsIn(input.messages).find((result) => result.toolUseId === id);
  if (!found) throw new Error(`no tool result ${id} in the request`);
  return found.text;
}
