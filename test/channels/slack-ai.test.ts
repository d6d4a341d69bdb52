/**
 * AI answers end to end: the real `serve()` with Slack faked at its Web API and Amazon
 * Bedrock faked at its endpoint (a plaintext HTTP/2 server speaking Converse, reached by the
 * real SDK client through AWS_ENDPOINT_URL_BEDROCK_RUNTIME). A mention gets a threaded,
 * streamed answer whose figures are the ones `top` shows, closed by its basis and cost; a
 * follow-up in the thread carries the history; with Bedrock failing the same question gets
 * the deterministic explanation.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createFinOpsApp, type Server, serve } from '../../src/main.js';
import { renderText } from '../../src/render/text.js';
import { type FakeBedrock, startFakeBedrock } from '../support/fake-bedrock.js';
import { type FakeSlack, FAKE_BOT_USER_ID, startFakeSlack } from '../support/fake-slack.js';
import { eventCallback, postToSlackRoute, slackTestEnv, slashCommand } from '../support/slack-requests.js';
import { openBotState } from '../support/test-database.js';
import { FixedClock, replyField } from '../support/world.js';

const clock = new FixedClock(new Date('2026-11-22T12:00:00Z'));
const BACKFILL_DAYS = 45;
const MODEL_ID = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const AWS_ENV = ['AWS_ENDPOINT_URL_BEDROCK_RUNTIME', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_BEARER_TOKEN_BEDROCK'] as const;

let slack: FakeSlack;
let bedrock: FakeBedrock;
let server: Server;
let eventsUrl: string;
let state: Awaited<ReturnType<typeof openBotState>>;
const savedEnv = new Map<string, string | undefined>();
const stopping = new AbortController();
/** What `top 7d` answers for the same data: the figures an AI answer must match. */
let top7d: { total: string; text: string };

beforeAll(async () => {
  slack = await startFakeSlack();
  bedrock = await startFakeBedrock();
  for (const name of AWS_ENV) savedEnv.set(name, process.env[name]);
  for (const name of ['AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_BEARER_TOKEN_BEDROCK']) delete process.env[name];
  Object.assign(process.env, { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: bedrock.url, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIDTESTONLY', AWS_SECRET_ACCESS_KEY: 'test-secret-not-real' });
  state = await openBotState('finops-slack-ai-');
  const env = { ...slackTestEnv(slack.apiUrl), ...state.env, BEDROCK_MODEL_ID: MODEL_ID };
  const config: Config = { ...loadConfig(env), port: 0 };
  const setup = await createFinOpsApp(config, createLogger('silent'), { clock, backfillDays: BACKFILL_DAYS });
  await setup.sync();
  const top = await setup.engine.handle('top 7d', { channel: 'console' });
  top7d = { total: replyField(top, 'Total'), text: renderText(top) };
  await setup.close();
  server = await serve(config, createLogger('silent'), { stdin: process.stdin, stdout: process.stdout }, stopping.signal, {
    clock,
    backfillDays: BACKFILL_DAYS,
    slackWebApiRetries: 0,
    aiTimeoutMs: 5_000,
  });
  eventsUrl = `http://127.0.0.1:${server.port}/slack/events`;
}, 120_000);

afterAll(async () => {
  stopping.abort();
  await server?.stop();
  await slack?.close();
  await bedrock?.close();
  await state?.dispose();
  for (const [name, value] of savedEnv) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

beforeEach(() => {
  slack.calls.length = 0;
  bedrock.requests.length = 0;
});

const USAGE = { inputTokens: 1_200, outputTokens: 150, cacheReadInputTokens: 2_000, cacheWriteInputTokens: 0 };

function mention(text: string, ts: string, threadTs?: string) {
  return eventCallback({ type: 'app_mention', user: 'U0ALICE01', text: `<@${FAKE_BOT_USER_ID}> ${text}`, ts, channel: 'C0COSTS01', ...(threadTs ? { thread_ts: threadTs } : {}) });
}

/** The text of a stream call: `markdown_text`, or the `markdown_text` chunks newer SDKs send. */
function streamText(args: Record<string, unknown>): string {
  const raw = args.chunks;
  const chunks = (typeof raw === 'string' ? JSON.parse(raw) : (raw ?? [])) as { type: string; text?: string }[];
  return String(args.markdown_text ?? '') + chunks.filter((chunk) => chunk.type === 'markdown_text').map((chunk) => chunk.text ?? '').join('');
}

/** The markdown a streamed answer carried, in order, and the blocks it closed with. */
function streamedAnswer(): { text: string; closing: string; threadTs: unknown } {
  const calls = slack.calls.filter((call) => call.ok && ['chat.startStream', 'chat.appendStream', 'chat.stopStream'].includes(call.method));
  const stops = slack.callsTo('chat.stopStream');
  return {
    text: calls.map((call) => streamText(call.args)).join(''),
    closing: JSON.stringify(stops.at(-1)?.args.blocks ?? ''),
    threadTs: slack.callsTo('chat.startStream')[0]?.args.thread_ts,
  };
}

describe('AI answers in Slack over Bedrock', () => {
  it('answers a mention in its thread, streamed, with the figures `top` shows, its basis and its cost', async () => {
    bedrock.script(
      { toolUses: [{ name: 'top_movers', input: { period: '7d' } }], usage: USAGE },
      { text: `Spend over the last 7 days was **${top7d.total}**. The change is explained by the movers above.`, usage: USAGE },
    );
    await postToSlackRoute(eventsUrl, mention('why did our spend go up last week?', '1700001000.000100'));
    await slack.waitFor(() => slack.callsTo('chat.stopStream').length > 0);
    const answer = streamedAnswer();
    expect(answer.threadTs).toBe('1700001000.000100');
    expect(answer.text).toContain(top7d.total);
    expect(answer.closing).toContain('Basis: last 7 days');
    expect(answer.closing).toContain('data through 2026-11-21');
    expect(answer.closing).toMatch(/AI cost: us\.anthropic\.claude-sonnet-4-5[^"]*2 model turns, 1 tool call/);
    expect(answer.closing).toContain('2,400 input tokens');
    expect(answer.closing).not.toContain('could not trace');
    // The tool result the model read is the `top 7d` answer itself.
    const second = bedrock.requests[1]!.body as { messages: { role: string; content: { toolResult?: { content: { text: string }[] } }[] }[] };
    const toolText = second.messages.at(-1)!.content[0]!.toolResult!.content[0]!.text;
    expect(toolText).toContain(`Total: ${top7d.total}`);
    expect(bedrock.requests.every((request) => (request.body.inferenceConfig as { maxTokens?: number }).maxTokens! > 0)).toBe(true);
    expect(slack.callsTo('assistant.threads.setStatus').length).toBeGreaterThan(0);
    expect(slack.callsTo('chat.postMessage')).toEqual([]);
  });

  it('remembers the thread: a follow-up mention sends the earlier question and answer to the model', async () => {
    bedrock.script({ text: `Last 7 days: ${top7d.total}.`, usage: USAGE });
    await postToSlackRoute(eventsUrl, mention('how much did we spend this week?', '1700002000.000100'));
    await slack.waitFor(() => slack.callsTo('chat.stopStream').length > 0);
    slack.calls.length = 0;
    bedrock.script({ text: 'I would need to look that up.', usage: USAGE });
    await postToSlackRoute(eventsUrl, mention('and last month?', '1700002000.000300', '1700002000.000100'));
    await slack.waitFor(() => slack.callsTo('chat.stopStream').length > 0);
    const followUp = bedrock.requests.at(-1)!.body as { messages: { role: string; content: { text?: string }[] }[] };
    expect(followUp.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
    expect(followUp.messages[0]!.content[0]!.text).toContain('how much did we spend this week?');
    expect(followUp.messages[1]!.content[0]!.text).toContain(top7d.total);
    expect(followUp.messages[2]!.content[0]!.text).toContain('and last month?');
    expect(streamedAnswer().threadTs).toBe('1700002000.000100');
  });

  it('answers a reply in its own AI thread without a mention, and ignores other threads and chatter', async () => {
    bedrock.script({ text: `Last 7 days: ${top7d.total}.`, usage: USAGE });
    await postToSlackRoute(eventsUrl, mention('what did we spend this week?', '1700006000.000100'));
    await slack.waitFor(() => slack.callsTo('chat.stopStream').length > 0);
    slack.calls.length = 0;
    const reply = (text: string, ts: string, threadTs?: string) =>
      eventCallback({ type: 'message', channel_type: 'channel', channel: 'C0COSTS01', user: 'U0BOB0001', text, ts, ...(threadTs ? { thread_ts: threadTs } : {}) });
    // Chatter at the top of the channel, and a reply in a thread the bot never answered: not for the bot.
    await postToSlackRoute(eventsUrl, reply('lunch anyone?', '1700006000.000200'));
    await postToSlackRoute(eventsUrl, reply('and last month?', '1700006000.000400', '1700009999.000100'));
    bedrock.script({ text: 'Last month is in the October data.', usage: USAGE });
    await postToSlackRoute(eventsUrl, reply('and last month?', '1700006000.000300', '1700006000.000100'));
    await slack.waitFor(() => slack.callsTo('chat.stopStream').length > 0);
    expect(streamedAnswer().threadTs).toBe('1700006000.000100');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(slack.callsTo('chat.startStream')).toHaveLength(1);
    expect(slack.callsTo('chat.postMessage')).toEqual([]);
    const followUp = bedrock.requests.at(-1)!.body as { messages: { role: string }[] };
    expect(followUp.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
  });

  it('with Bedrock failing, the same question gets the deterministic explanation with the same figures', async () => {
    bedrock.failNext(503, 'ServiceUnavailableException', 3);
    await postToSlackRoute(eventsUrl, mention('why did our spend go up last week?', '1700003000.000100'));
    await slack.waitFor(() => slack.callsTo('chat.stopStream').length > 0);
    const answer = streamedAnswer();
    expect(answer.text).toContain('Here is the built-in explanation from the data instead');
    expect(answer.text).toContain(`was ${top7d.total}`);
    expect(answer.closing).toContain('Basis: last 7 days');
    expect(bedrock.requests).toHaveLength(3);
  });

  it('answers a slash command at once while a mention waits on a silent model, which then gets the explanation', async () => {
    bedrock.script({ text: 'Looking at the numbers now and', stallAfterEvents: 3, usage: USAGE });
    await postToSlackRoute(eventsUrl, mention('why did our spend go up last week?', '1700007000.000100'));
    await slack.waitFor(() => bedrock.requests.length > 0);
    await postToSlackRoute(eventsUrl, slashCommand({ text: 'cost 7d', responseUrl: slack.responseUrl('while-waiting') }));
    const [answer] = await slack.waitFor(() => slack.responsesTo('while-waiting').length > 0 && slack.responsesTo('while-waiting'));
    expect(JSON.stringify(answer!.body.blocks)).toContain('Cost by service');
    expect(slack.callsTo('chat.stopStream')).toEqual([]);
    await slack.waitFor(() => slack.callsTo('chat.stopStream').length > 0, 15_000);
    expect(streamedAnswer().text).toContain('The model took longer than 5.0 s. Here is the built-in explanation from the data instead.');
  });

  it('posts a plain threaded reply where Slack refuses streaming', async () => {
    slack.failNext('chat.startStream', { error: 'not_allowed_token_type' });
    bedrock.script({ text: `Spend over the last 7 days was ${top7d.total}.`, usage: USAGE });
    await postToSlackRoute(eventsUrl, mention('what did we spend over the last 7 days?', '1700004000.000100'));
    const [post] = await slack.waitFor(() => slack.callsTo('chat.postMessage').length > 0 && slack.callsTo('chat.postMessage'));
    expect(post!.args.thread_ts).toBe('1700004000.000100');
    const blocks = JSON.stringify(post!.args.blocks);
    expect(blocks).toContain(top7d.total);
    expect(blocks).toContain('AI cost:');
  });

  it('greets a new assistant thread with suggested prompts', async () => {
    await postToSlackRoute(
      eventsUrl,
      eventCallback({
        type: 'assistant_thread_started',
        assistant_thread: { user_id: 'U0ALICE01', context: {}, channel_id: 'D0ALICE01', thread_ts: '1700005000.000100' },
        event_ts: '1700005000.000200',
      }),
    );
    const [prompts] = await slack.waitFor(() => slack.callsTo('assistant.threads.setSuggestedPrompts').length > 0 && slack.callsTo('assistant.threads.setSuggestedPrompts'));
    expect(String(prompts!.args.prompts)).toContain('What changed this week?');
    expect(slack.callsTo('chat.postMessage')[0]!.args).toMatchObject({ channel: 'D0ALICE01', thread_ts: '1700005000.000100' });
  });

  it('answers a message in an assistant thread through the same loop', async () => {
    bedrock.script({ text: `Over the last 7 days: ${top7d.total}.`, usage: USAGE });
    await postToSlackRoute(
      eventsUrl,
      eventCallback({ type: 'message', channel_type: 'im', channel: 'D0ALICE01', user: 'U0ALICE01', text: 'What changed this week?', ts: '1700005000.000300', thread_ts: '1700005000.000100' }),
    );
    await slack.waitFor(() => slack.callsTo('chat.stopStream').length > 0);
    expect(streamedAnswer()).toMatchObject({ threadTs: '1700005000.000100' });
    expect(streamedAnswer().text).toContain(top7d.total);
  });
});
