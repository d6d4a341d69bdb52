/**
 * What happens when the model does not simply answer: it is cut short, refused by a
 * guardrail, keeps calling tools, fails (throttling, 5xx, access denied) or takes too long;
 * and the limits enforced in code (question length, answers per hour). Every fallback is the
 * deterministic explanation, with figures equal to the commands' for the same period.
 */
import {
  AccessDeniedException,
  ConverseCommand,
  type ConverseCommandInput,
  InternalServerException,
  ServiceUnavailableException,
  ThrottlingException,
} from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it } from 'vitest';
import { DEFAULT_AI_LIMITS } from '../../../src/app/ai/agent.js';
import type { CommandEngine } from '../../../src/app/engine.js';
import type { Reply } from '../../../src/core/reply.js';
import { renderText } from '../../../src/render/text.js';
import { testDatabaseKind } from '../../support/test-database.js';
import { centsIn, FixedClock, replyField } from '../../support/world.js';
import { aiEngine, answerText, contextLines, converseInputs, LAST_7_DAYS, useAiWorld, slack, textsOf, textTurn, toolTurn, usageRows } from './ai-world.js';

const QUESTION = 'why did our spend go up last week?';
const LAST_ROUND = 'That was the last round of data lookups: answer now with the results you have.';

describe(`when the model does not simply answer, on ${testDatabaseKind}`, () => {
  const ai = useAiWorld();

  /** The reply is the deterministic explanation of the last 7 days, its figures those of `top 7d`, saying why. */
  async function expectExplanationOfLastWeek(engine: CommandEngine, reply: Reply, reason: string | RegExp): Promise<void> {
    const text = renderText(reply);
    expect(reply.kind, text).toBe('answer');
    expect(reply.title).toBe('Explanation from the data');
    expect(text).not.toMatch(/\n\s+at |\$metadata|\$fault|Error:/);
    const answer = answerText(reply);
    if (typeof reason === 'string') expect(answer.startsWith(`${reason} Here is the built-in explanation from the data instead.\n\n`), answer).toBe(true);
    else expect(answer).toMatch(reason);
    const top = await engine.handle('top 7d', slack());
    const opening = /\*What changed\.\* Spend over last 7 days \(2026-11-15 – 2026-11-21\) was (USD [\d,]+\.\d\d), (?:up|down) (USD [\d,]+\.\d\d) \([^)]*\) from (USD [\d,]+\.\d\d) in the previous period/.exec(answer);
    expect(opening, answer).not.toBeNull();
    expect(centsIn(opening![1]!)).toBe(centsIn(replyField(top, 'Total')));
    expect(centsIn(opening![3]!)).toBe(centsIn(replyField(top, /^Previous/)));
    const change = centsIn(replyField(top, 'Change'));
    expect(centsIn(opening![2]!)).toBe(change < 0n ? -change : change);
    expect(contextLines(reply).find((line) => line.startsWith('Basis: '))).toContain(LAST_7_DAYS);
  }

  it('keeps an answer cut short at max_tokens, with a note saying so', async () => {
    const engine = aiEngine(ai.world, { limits: { maxTokens: 300 } });
    ai.mock.on(ConverseCommand).resolvesOnce(textTurn('Spend rose mainly because of', { outputTokens: 300 }, 'max_tokens'));
    const reply = await engine.handle(QUESTION, slack());
    expect(reply.title).toBe('AI answer');
    expect(answerText(reply)).toBe('Spend rose mainly because of');
    expect(contextLines(reply)[0]).toBe('⚠ The answer reached its length limit (300 tokens) and was cut short.');
    expect(converseInputs(ai.mock)[0]!.inferenceConfig).toEqual({ maxTokens: 300 });
  });

  it('answers with the built-in explanation when a guardrail intervenes', async () => {
    const engine = aiEngine(ai.world);
    ai.mock.on(ConverseCommand).resolvesOnce(textTurn('Sorry, the model cannot answer that.', {}, 'guardrail_intervened'));
    const reply = await engine.handle(QUESTION, slack());
    await expectExplanationOfLastWeek(engine, reply, 'The model declined to answer this (a content filter stopped it).');
    expect(answerText(reply)).not.toContain('Sorry, the model cannot answer that.');
  });

  it('stops a model that keeps calling tools after maxToolRounds rounds of tool calls and explains from the data', async () => {
    const engine = aiEngine(ai.world, { limits: { maxToolRounds: 3 } });
    let call = 0;
    ai.mock.on(ConverseCommand).callsFake(async () => toolTurn([{ id: `tu_${++call}`, name: 'top_movers', input: { period: '7d' } }]));
    const reply = await engine.handle(QUESTION, slack());
    const sent = converseInputs(ai.mock);
    // Three rounds of tools run; the fourth call is the model's last chance to answer.
    expect(sent).toHaveLength(4);
    await expectExplanationOfLastWeek(engine, reply, 'The model needed more than 3 rounds of data lookups.');
    // The results of the third round, sent with the fourth and last call, say it is the last one; earlier ones do not.
    const resultsMessage = (input: ConverseCommandInput) => input.messages!.at(-1)!;
    expect(textsOf(resultsMessage(sent[3]!))).toEqual([LAST_ROUND]);
    expect(resultsMessage(sent[3]!).content!.filter((block) => block.toolResult).map((block) => block.toolResult!.toolUseId)).toEqual(['tu_3']);
    expect(textsOf(resultsMessage(sent[2]!))).toEqual([]);
    const [row] = await usageRows(ai.world);
    expect(row).toMatchObject({ outcome: 'fallback', toolCalls: 3, inputTokens: 400, outputTokens: 80 });
    expect(contextLines(reply).at(-1)).toContain('4 model turns, 3 tool calls');
  });

  it.each([
    ['throttling', () => new ThrottlingException({ message: 'Too many requests, please wait', $metadata: { httpStatusCode: 429 } }), 'Amazon Bedrock is busy right now (it is throttling requests).'],
    [
      'a 503',
      () => new ServiceUnavailableException({ message: 'Service unavailable', $metadata: { httpStatusCode: 503 } }),
      'Amazon Bedrock did not answer (it timed out or is unavailable).',
    ],
    [
      'a 500',
      () => new InternalServerException({ message: 'Internal failure', $metadata: { httpStatusCode: 500 } }),
      'Amazon Bedrock did not answer (it timed out or is unavailable).',
    ],
    [
      'access denied',
      () => new AccessDeniedException({ message: 'User: arn:aws:iam::123456789012:role/finops is not authorized', $metadata: { httpStatusCode: 403 } }),
      // The operator's details (model id, IAM hint) go to the log, not to the person asking.
      'The AI model is not available to this bot; an operator can find why in its log.',
    ],
  ])('answers from the data when Bedrock fails with %s, records the fallback and shows no AWS detail', async (_name, error, reason) => {
    const logs: unknown[] = [];
    const engine = aiEngine(ai.world, { logs });
    ai.mock.on(ConverseCommand).rejects(error());
    const reply = await engine.handle(QUESTION, slack());
    await expectExplanationOfLastWeek(engine, reply, reason);
    expect(renderText(reply)).not.toMatch(/arn:aws|123456789012|Too many requests|Internal failure|BEDROCK_MODEL_ID is|bedrock:InvokeModel/);
    expect(contextLines(reply).at(-1)).toContain('0 input tokens, 0 output · USD 0.00');
    const rows = await usageRows(ai.world);
    expect(rows.map((row) => [row.outcome, row.requester, row.costNanoUsd])).toEqual([['fallback', 'slack:U1', 0n]]);
    expect(logs).toContainEqual(expect.objectContaining({ level: 'warn', message: 'AI model call failed; answering with the built-in explanation' }));
  });

  it('answers from the data, saying it took too long, when the model does not answer within timeoutMs', async () => {
    const engine = aiEngine(ai.world, { limits: { timeoutMs: 1_000 } });
    // Like the SDK: the request ends when the caller's signal aborts it.
    ai.mock.on(ConverseCommand).callsFake(
      () =>
        new Promise((_resolve, reject) => {
          const signal = (ai.mock.send.lastCall.args as unknown[])[1] as { abortSignal?: AbortSignal } | undefined;
          const abort = () => reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' }));
          if (signal?.abortSignal?.aborted) abort();
          signal?.abortSignal?.addEventListener('abort', abort);
        }),
    );
    const started = Date.now();
    const reply = await engine.handle(QUESTION, slack());
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    await expectExplanationOfLastWeek(engine, reply, 'The model took longer than 1.0 s.');
    expect((await usageRows(ai.world)).map((row) => row.outcome)).toEqual(['fallback']);
  });

  it('refuses a question over maxQuestionChars without calling the model', async () => {
    const engine = aiEngine(ai.world, { limits: { maxQuestionChars: 100 } });
    const reply = await engine.handle(`ask why ${'really '.repeat(20)}did spend go up?`, slack());
    expect(reply.kind).toBe('error');
    expect(renderText(reply)).toMatch(/^That question is 1\d\d characters long; I take up to 100\. Please shorten it\./);
    expect(converseInputs(ai.mock)).toHaveLength(0);
    expect(await usageRows(ai.world)).toHaveLength(0);
    ai.mock.on(ConverseCommand).resolves(textTurn('Fine.'));
    expect((await engine.handle(`ask ${'x'.repeat(96)}?`, slack())).title).toBe('AI answer');
  });

  it('gives one person answersPerHour AI answers an hour, then the built-in explanation without calling the model; others are unaffected', async () => {
    const clock = new FixedClock(ai.world.clock.now());
    const engine = aiEngine(ai.world, { clock, limits: { answersPerHour: 2 } });
    ai.mock.on(ConverseCommand).resolves(textTurn('Spend was flat.'));
    const alice = slack({ user: 'UALICE' });
    expect((await engine.handle('ask what changed?', alice)).title).toBe('AI answer');
    expect((await engine.handle('explain 7d', alice)).title).toBe('AI answer');
    clock.set('2026-11-22T12:59:00Z');
    const third = await engine.handle('ask what changed last week?', alice);
    await expectExplanationOfLastWeek(engine, third, 'You have had 2 AI answers in the last hour, the most I give one person.');
    expect(converseInputs(ai.mock)).toHaveLength(2);
    expect((await engine.handle('ask what changed?', slack({ user: 'UBOB' }))).title).toBe('AI answer');
    // The same person in another place is the same person; built-in explanations do not count; an hour later the limit is lifted.
    expect((await engine.handle('ask what changed?', slack({ user: 'UALICE', conversation: 'C2' }))).title).toBe('Explanation from the data');
    clock.set('2026-11-22T13:00:01Z');
    expect((await engine.handle('ask what changed?', alice)).title).toBe('AI answer');
    expect(converseInputs(ai.mock)).toHaveLength(4);
    expect(DEFAULT_AI_LIMITS.answersPerHour).toBeGreaterThan(2);
  });
});
