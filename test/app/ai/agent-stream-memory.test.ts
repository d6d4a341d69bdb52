/**
 * Streaming (ConverseStream when a chat wants the text as it is written) and thread memory
 * (earlier turns of the same thread go to the model, trimmed to the limits).
 */
import { ConverseCommand, type ConverseCommandInput, ConverseStreamCommand, type ConverseStreamCommandInput, ThrottlingException } from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it } from 'vitest';
import { toChatMarkdown } from '../../../src/app/ai/markdown.js';
import type { RequestContext } from '../../../src/app/engine.js';
import { testDatabaseKind } from '../../support/test-database.js';
import { centsIn, replyField } from '../../support/world.js';
import { aiEngine, answerText, contextLines, converseInputs, LAST_7_DAYS, useAiWorld, slack, streamTurn, textsOf, textTurn, toolField, toolResultsIn } from './ai-world.js';

const QUESTION = 'why did our spend go up last week?';
const THREAD = { conversation: 'C1', thread: '111.222' };

describe(`streaming and thread memory on ${testDatabaseKind}`, () => {
  const ai = useAiWorld();

  const streamInputs = (): ConverseStreamCommandInput[] => ai.mock.commandCalls(ConverseStreamCommand).map((call) => call.args[0].input);

  describe('streaming', () => {
    it('streams every round with ConverseStream, and the text streamed is the reply’s first block', async () => {
      const engine = aiEngine(ai.world);
      let total = '';
      ai.mock
        .on(ConverseStreamCommand)
        .callsFakeOnce(async () => streamTurn({ text: 'Let me check what moved.', uses: [{ id: 'tu_s1', name: 'top_movers', input: { period: '7d' } }] }))
        .callsFakeOnce(async (input: ConverseStreamCommandInput) => {
          const result = toolResultsIn(input.messages).find((candidate) => candidate.toolUseId === 'tu_s1')!;
          total = toolField(result.text, 'Total');
          return streamTurn({ text: `Spend over the last 7 days was **${total}**.\n\n- **EC2 - Other** grew most`, usage: { inputTokens: 2_000, outputTokens: 80 } });
        });
      const deltas: string[] = [];
      const statuses: string[] = [];
      const reply = await engine.handle(QUESTION, slack(THREAD), { onText: (delta) => deltas.push(delta), onStatus: (status) => statuses.push(status) });

      expect(reply.title).toBe('AI answer');
      expect(ai.mock.commandCalls(ConverseCommand)).toHaveLength(0);
      expect(streamInputs()).toHaveLength(2);
      expect(deltas.length).toBeGreaterThan(10);
      const streamed = deltas.join('');
      expect(streamed).toBe(`Let me check what moved.\n\nSpend over the last 7 days was **${total}**.\n\n- **EC2 - Other** grew most`);
      expect(answerText(reply)).toBe(toChatMarkdown(streamed));
      expect(statuses).toEqual(['is looking at your cost data…', 'is reading top movers…']);
      const top = await engine.handle('top 7d', slack());
      expect(centsIn(total)).toBe(centsIn(replyField(top, 'Total')));
      expect(contextLines(reply)[0]).toContain(LAST_7_DAYS);
      expect(contextLines(reply)[1]).toContain('2 model turns, 1 tool call');
      for (const input of streamInputs()) {
        expect(input.inferenceConfig).toEqual({ maxTokens: 1024 });
        expect(input.system?.at(-1)).toEqual({ cachePoint: { type: 'default' } });
      }
    });

    it('streams the built-in explanation after what the model had written when the stream is throttled', async () => {
      const engine = aiEngine(ai.world);
      ai.mock.on(ConverseStreamCommand).callsFakeOnce(async () => ({
        stream: (async function* () {
          yield { messageStart: { role: 'assistant' as const } };
          yield { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'Looking at the' } } };
          yield { throttlingException: new ThrottlingException({ message: 'Too many tokens', $metadata: {} }) };
        })(),
      }));
      const deltas: string[] = [];
      const reply = await engine.handle(QUESTION, slack(THREAD), { onText: (delta) => deltas.push(delta) });
      expect(reply.title).toBe('Explanation from the data');
      const streamed = deltas.join('');
      expect(streamed).toMatch(/^Looking at the\n\nAmazon Bedrock is busy right now \(it is throttling requests\)\. Here is the built-in explanation from the data instead\.\n\n\*What changed\.\* Spend over last 7 days/);
      expect(answerText(reply)).toBe(toChatMarkdown(streamed));
    });
  });

  describe('thread memory', () => {
    /** The roles of a request's messages and their texts. */
    const conversation = (input: ConverseCommandInput) => input.messages!.map((message) => [message.role, textsOf(message).join('\n')] as const);

    it('gives the model the thread’s earlier question and answer, alternating from a question; other threads start afresh', async () => {
      const engine = aiEngine(ai.world);
      ai.mock
        .on(ConverseCommand)
        .resolvesOnce(textTurn('Mostly **EC2 - Other**, up a little.'))
        .resolvesOnce(textTurn('RDS was flat.'))
        .resolvesOnce(textTurn('Fresh thread.'))
        .resolvesOnce(textTurn('Unthreaded.'))
        .resolvesOnce(textTurn('Other channel.'));
      await engine.handle(QUESTION, slack(THREAD));
      await engine.handle('ask and what about RDS?', slack({ ...THREAD, user: 'U2' }));
      await engine.handle('ask and what about RDS?', slack({ conversation: 'C1', thread: '333.444' }));
      await engine.handle('ask and what about RDS?', slack({ conversation: 'C1' }));
      await engine.handle('ask and what about RDS?', slack({ conversation: 'C2', thread: '111.222' }));

      const sent = converseInputs(ai.mock);
      const second = conversation(sent[1]!);
      expect(second.slice(0, 2)).toEqual([
        ['user', QUESTION],
        ['assistant', 'Mostly **EC2 - Other**, up a little.'],
      ]);
      expect(second[2]![0]).toBe('user');
      expect(second[2]![1]).toMatch(/\nThe question, as the person wrote it:\nand what about RDS\?$/);
      for (const other of sent.slice(2)) expect(conversation(other)).toHaveLength(1);
      expect(conversation(sent[0]!)).toHaveLength(1);
    });

    it('keeps only the newest turns that fit historyChars and historyTurns, always starting with a question', async () => {
      const engine = aiEngine(ai.world, { limits: { historyChars: 120 } });
      const answers = ['A'.repeat(40), 'B'.repeat(40), 'C'.repeat(10)];
      ai.mock.on(ConverseCommand).resolvesOnce(textTurn(answers[0]!)).resolvesOnce(textTurn(answers[1]!)).resolvesOnce(textTurn(answers[2]!));
      const context: RequestContext = slack(THREAD);
      await engine.handle('why did spend rise in week one?', context);
      await engine.handle('why did spend rise in week two?', context);
      await engine.handle('why did spend rise in week three?', context);
      // Newest first: B (40) + week two (31) + A (40) = 111 fit in 120, week one (31) does not; an answer cannot come first.
      const third = conversation(converseInputs(ai.mock)[2]!);
      expect(third.slice(0, -1)).toEqual([
        ['user', 'why did spend rise in week two?'],
        ['assistant', 'B'.repeat(40)],
      ]);
      expect(third.slice(0, -1).reduce((sum, [, text]) => sum + text.length, 0)).toBeLessThanOrEqual(120);

      ai.mock.reset();
      ai.mock.on(ConverseCommand).resolves(textTurn('ok'));
      const fewTurns = aiEngine(ai.world, { limits: { historyTurns: 3, historyChars: 10_000 } });
      await fewTurns.handle('why did spend rise in week four?', context);
      // The last 3 turns are answer B, week three's question and answer C; an answer cannot come first.
      const fourth = conversation(converseInputs(ai.mock)[0]!);
      expect(fourth.map(([role]) => role)).toEqual(['user', 'assistant', 'user']);
      expect(fourth[0]![1]).toBe('why did spend rise in week three?');
      expect(fourth[1]![1]).toBe('C'.repeat(10));
    });

    it('uses the thread for `explain` and remembers it, so a reply in that thread follows on', async () => {
      const engine = aiEngine(ai.world);
      ai.mock.on(ConverseCommand).resolvesOnce(textTurn('First answer.')).resolvesOnce(textTurn('Explained.')).resolvesOnce(textTurn('Third.'));
      await engine.handle(QUESTION, slack(THREAD));
      await engine.handle('explain 30d', slack(THREAD));
      await engine.handle('ask and now?', slack(THREAD));
      const [, explain, third] = converseInputs(ai.mock).map(conversation);
      expect(explain!.slice(0, 2)).toEqual([
        ['user', QUESTION],
        ['assistant', 'First answer.'],
      ]);
      expect(explain!.at(-1)![1]).toMatch(/Explain what changed in our AWS spend for the whole organisation over last 30 days \(2026-10-23 – 2026-11-21\)/);
      expect(third!.slice(0, 2)).toEqual([
        ['user', QUESTION],
        ['assistant', 'First answer.'],
      ]);
      expect(third![2]![1]).toMatch(/^Explain what changed in our AWS spend/);
      expect(third![3]).toEqual(['assistant', 'Explained.']);
    });
  });
});
