/**
 * The Slack app end to end: the real `serve()` on a free port, with its database, engine and
 * Bolt app, receiving signed requests over HTTP the way Slack sends them. Its Web API calls
 * and `response_url` posts land on a local fake Slack; nothing of ours is faked.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DemoCostSource } from '../../src/adapters/demo/demo-cost-source.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { createFinOpsApp, type Server, serve } from '../../src/main.js';
import { type FakeSlack, FAKE_BOT_USER_ID, startFakeSlack } from '../support/fake-slack.js';
import { buttonClick, eventCallback, postToSlackRoute, slashCommand, TEST_BOT_TOKEN, TEST_SIGNING_SECRET, slackTestEnv } from '../support/slack-requests.js';
import { openBotState } from '../support/test-database.js';
import { centsIn, FixedClock, sourceTotalCents } from '../support/world.js';

const clock = new FixedClock(new Date('2026-11-22T12:00:00Z'));
const BACKFILL_DAYS = 45;

let fake: FakeSlack;
let server: Server;
let eventsUrl: string;
let state: Awaited<ReturnType<typeof openBotState>>;
const logLines: string[] = [];
const stopping = new AbortController();

beforeAll(async () => {
  fake = await startFakeSlack();
  const env: Record<string, string> = {
    ...slackTestEnv(fake.apiUrl),
    LOG_LEVEL: 'debug',
  };
  state = await openBotState('finops-slack-');
  Object.assign(env, state.env);
  const config: Config = { ...loadConfig(env), port: 0 };
  const logger: Logger = createLogger('debug', { write: (line: string) => logLines.push(line) });
  // The data is synced before the server starts, as it is by the time people ask.
  const setup = await createFinOpsApp(config, createLogger('silent'), { clock, backfillDays: BACKFILL_DAYS });
  await setup.sync();
  await setup.close();
  const io = { stdin: process.stdin, stdout: process.stdout };
  server = await serve(config, logger, io, stopping.signal, { clock, backfillDays: BACKFILL_DAYS, slackWebApiRetries: 1 });
  eventsUrl = `http://127.0.0.1:${server.port}/slack/events`;
}, 120_000);

afterAll(async () => {
  stopping.abort();
  await server?.stop();
  await fake?.close();
  await state?.dispose();
});

beforeEach(() => {
  fake.calls.length = 0;
  fake.responses.length = 0;
});

type Block = { type: string; text?: { text: string }; fields?: { text: string }[]; elements?: { text?: unknown; action_id?: string; value?: string }[] };

function blocksOf(body: Record<string, unknown>): Block[] {
  return (body.blocks ?? []) as Block[];
}

function allText(blocks: readonly Block[]): string {
  return JSON.stringify(blocks);
}

function fieldValue(blocks: readonly Block[], label: string): string {
  for (const block of blocks) {
    for (const field of block.fields ?? []) if (field.text.startsWith(`*${label}*\n`)) return field.text.slice(label.length + 3);
  }
  throw new Error(`no field ${label} in ${allText(blocks).slice(0, 400)}`);
}

function buttons(blocks: readonly Block[]): { action_id?: string; value?: string }[] {
  return blocks.filter((block) => block.type === 'actions').flatMap((block) => block.elements ?? []);
}

describe('/finops over HTTP', () => {
  it('acks at once and answers through response_url, privately, with a Share button and the exact total', async () => {
    const ack = await postToSlackRoute(eventsUrl, slashCommand({ text: 'cost 7d by service', responseUrl: fake.responseUrl('cost-7d') }));
    expect(ack.status).toBe(200);
    expect(ack.body).toBe('');
    const [post] = await fake.waitFor(() => fake.responsesTo('cost-7d').length > 0 && fake.responsesTo('cost-7d'));
    expect(post!.body.response_type).toBe('ephemeral');
    const blocks = blocksOf(post!.body);
    expect(blocks[0]).toMatchObject({ type: 'header', text: { text: expect.stringContaining('Cost by service') } });
    const expected = await sourceTotalCents(new DemoCostSource(), { start: '2026-11-15', end: '2026-11-22' });
    expect(centsIn(fieldValue(blocks, 'Total'))).toBe(expected);
    expect(allText(blocks)).toContain('data through 2026-11-21');
    expect(buttons(blocks)).toEqual([expect.objectContaining({ action_id: 'share_reply', value: 'cost 7d by service' })]);
    expect(String(post!.body.text)).toContain('Cost by service');
  });

  it('answers a typo privately with the closest command and no Share button', async () => {
    await postToSlackRoute(eventsUrl, slashCommand({ text: 'cots 7d', responseUrl: fake.responseUrl('typo') }));
    const [post] = await fake.waitFor(() => fake.responsesTo('typo').length > 0 && fake.responsesTo('typo'));
    expect(post!.body.response_type).toBe('ephemeral');
    expect(allText(blocksOf(post!.body))).toContain('Did you mean `cost 7d`?');
    expect(buttons(blocksOf(post!.body))).toEqual([]);
  });

  it('answers a retried command once', async () => {
    const command = slashCommand({ text: 'top 7d', responseUrl: fake.responseUrl('retried'), triggerId: '111.222.retried' });
    await Promise.all([
      postToSlackRoute(eventsUrl, command),
      postToSlackRoute(eventsUrl, command, { headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' } }),
    ]);
    await fake.waitFor(() => fake.responsesTo('retried').length > 0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(fake.responsesTo('retried')).toHaveLength(1);
  });

  it('shares an answer in the channel once, however often Share is clicked, and removes the private copy', async () => {
    const click = () => postToSlackRoute(eventsUrl, buttonClick({ actionId: 'share_reply', value: 'cost 7d by service', responseUrl: fake.responseUrl('share'), messageTs: '1700000099.000100' }));
    const [first, second] = await Promise.all([click(), click()]);
    expect([first.status, second.status]).toEqual([200, 200]);
    await fake.waitFor(() => fake.responsesTo('share').some((post) => post.body.delete_original === true));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const posts = fake.responsesTo('share');
    const shared = posts.filter((post) => post.body.response_type === 'in_channel');
    expect(shared).toHaveLength(1);
    expect(allText(blocksOf(shared[0]!.body))).toContain('Shared by <@U0ALICE01>');
    expect(buttons(blocksOf(shared[0]!.body))).toEqual([]);
    expect(posts.filter((post) => post.body.delete_original === true)).toHaveLength(1);
    expect(posts.filter((post) => String(post.body.text).includes('already been shared'))).toHaveLength(1);
  });

  it('shows the answer another way when the response_url will not take it', async () => {
    fake.failResponseUrl('refusing', 500);
    fake.failResponseUrl('refusing', 500);
    await postToSlackRoute(eventsUrl, slashCommand({ text: 'cost 7d', responseUrl: fake.responseUrl('refusing'), userId: 'U0CAROL01', channelId: 'C0COSTS01' }));
    const [ephemeral] = await fake.waitFor(() => fake.callsTo('chat.postEphemeral').length > 0 && fake.callsTo('chat.postEphemeral'));
    expect(ephemeral!.args).toMatchObject({ channel: 'C0COSTS01', user: 'U0CAROL01' });
    expect(allText(ephemeral!.args.blocks as Block[])).toContain('Cost by service');
    expect(fake.responsesTo('refusing')).toEqual([]);
  });
});

describe('digest subscriptions from a channel', () => {
  const ask = async (text: string, id: string, channelId = 'C0TEAMPAY') => {
    await postToSlackRoute(eventsUrl, slashCommand({ text, responseUrl: fake.responseUrl(id), channelId }));
    const [post] = await fake.waitFor(() => fake.responsesTo(id).length > 0 && fake.responsesTo(id));
    return allText(blocksOf(post!.body));
  };

  it('subscribes the channel, lists it, refuses a duplicate politely, and unsubscribes', async () => {
    expect(await ask('subscriptions', 'subs-empty')).toContain('This channel receives no digests');
    expect(await ask('subscribe weekly for Payments', 'sub-1')).toContain('This channel will receive the weekly digest for payments');
    expect(await ask('subscribe weekly for payments', 'sub-2')).toContain('This channel already receives the weekly digest for payments');
    expect(await ask('subscribe daily', 'sub-3')).toContain('the daily digest for the whole organisation');
    const listed = await ask('subscriptions', 'subs-two');
    expect(listed).toContain('payments');
    expect(listed).toContain('the whole organisation');
    expect(listed).toContain('none yet');
    expect(await ask('subscriptions', 'subs-other', 'C0ELSEWHERE')).toContain('This channel receives no digests');
    expect(await ask('unsubscribe weekly for payments', 'unsub')).toContain('will no longer receive the weekly digest for payments');
    expect(await ask('subscribe daily for paymnts', 'sub-typo')).toContain('did you mean `payments`?');
  });

  it('keeps one time zone per channel: the bot’s by default, or the one given with `in`', async () => {
    expect(await ask('subscribe daily for search', 'tz-1', 'C0TZ00001')).toContain('(times in UTC)');
    const moved = await ask('subscribe weekly for search in europe/paris', 'tz-2', 'C0TZ00001');
    expect(moved).toContain('(times in Europe/Paris)');
    expect(moved).toContain('Its other digests now follow Europe/Paris too.');
    expect(await ask('subscribe daily for checkout', 'tz-3', 'C0TZ00001')).toContain('(times in Europe/Paris)');
    const listed = await ask('subscriptions', 'tz-4', 'C0TZ00001');
    expect(listed.match(/Europe\/Paris/g)?.length).toBeGreaterThanOrEqual(3);
    expect(listed).not.toMatch(/\bUTC\b.*none yet/);
    expect(await ask('subscribe daily in Europe/Pariss', 'tz-5', 'C0TZ00001')).toContain('did you mean `Europe/Paris`?');
  });

  it('previews a digest in the channel', async () => {
    const preview = await ask('digest daily for payments', 'digest-preview');
    expect(preview).toContain('Daily digest · payments · Sat 21 Nov 2026');
    expect(preview).toContain('30 days');
  });
});

describe('mentions, direct messages and App Home', () => {
  it('answers a mention in its thread once although Slack delivers it four times', async () => {
    const event = eventCallback({ type: 'app_mention', user: 'U0ALICE01', text: `<@${FAKE_BOT_USER_ID}> cost 7d`, ts: '1700000200.000100', channel: 'C0COSTS01' });
    const deliveries = [undefined, '1', '2', '3'].map((retry) => postToSlackRoute(eventsUrl, event, retry ? { headers: { 'x-slack-retry-num': retry, 'x-slack-retry-reason': 'http_timeout' } } : {}));
    expect((await Promise.all(deliveries)).map((result) => result.status)).toEqual([200, 200, 200, 200]);
    await fake.waitFor(() => fake.callsTo('chat.postMessage').length > 0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const posts = fake.callsTo('chat.postMessage');
    expect(posts).toHaveLength(1);
    expect(posts[0]!.args).toMatchObject({ channel: 'C0COSTS01', thread_ts: '1700000200.000100' });
    expect(posts[0]!.token).toBe(TEST_BOT_TOKEN);
    expect(allText(posts[0]!.args.blocks as Block[])).toContain('Cost by service');
  });

  it('does not answer again when the message that mentioned it is edited', async () => {
    const mention = { type: 'app_mention', user: 'U0ALICE01', text: `<@${FAKE_BOT_USER_ID}> cost 7d`, ts: '1700000250.000100', channel: 'C0COSTS01' };
    await postToSlackRoute(eventsUrl, eventCallback(mention));
    await fake.waitFor(() => fake.callsTo('chat.postMessage').length > 0);
    await postToSlackRoute(eventsUrl, eventCallback({ ...mention, text: `<@${FAKE_BOT_USER_ID}> cost 30d`, edited: { user: 'U0ALICE01', ts: '1700000260.000000' } }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(fake.callsTo('chat.postMessage')).toHaveLength(1);
  });

  it('keeps a follow-up in its thread', async () => {
    const event = eventCallback({ type: 'app_mention', user: 'U0ALICE01', text: `<@${FAKE_BOT_USER_ID}> top 7d`, ts: '1700000300.000200', thread_ts: '1700000300.000100', channel: 'C0COSTS01' });
    await postToSlackRoute(eventsUrl, event);
    const [post] = await fake.waitFor(() => fake.callsTo('chat.postMessage').length > 0 && fake.callsTo('chat.postMessage'));
    expect(post!.args.thread_ts).toBe('1700000300.000100');
  });

  it('shows a mistyped mention only to the asker', async () => {
    await postToSlackRoute(eventsUrl, eventCallback({ type: 'app_mention', user: 'U0BOB0001', text: `<@${FAKE_BOT_USER_ID}> cost 7d by colour`, ts: '1700000400.000100', channel: 'C0COSTS01' }));
    const [post] = await fake.waitFor(() => fake.callsTo('chat.postEphemeral').length > 0 && fake.callsTo('chat.postEphemeral'));
    expect(post!.args).toMatchObject({ channel: 'C0COSTS01', user: 'U0BOB0001', thread_ts: '1700000400.000100' });
    expect(fake.callsTo('chat.postMessage')).toEqual([]);
  });

  it('answers a direct message with the same engine, and a question in plain words with an explanation from the data', async () => {
    await postToSlackRoute(eventsUrl, eventCallback({ type: 'message', channel_type: 'im', channel: 'D0ALICE01', user: 'U0ALICE01', text: 'cost 7d', ts: '1700000500.000100' }));
    await postToSlackRoute(eventsUrl, eventCallback({ type: 'message', channel_type: 'im', channel: 'D0ALICE01', user: 'U0ALICE01', text: 'why did our RDS bill jump?', ts: '1700000500.000200' }));
    const posts = await fake.waitFor(() => fake.callsTo('chat.postMessage').length === 2 && fake.callsTo('chat.postMessage'));
    const texts = posts.map((post) => allText(post.args.blocks as Block[]));
    expect(texts.find((text) => text.includes('Cost by service'))).toBeDefined();
    expect(texts.find((text) => text.includes('Explanation from the data') && text.includes('Amazon Relational Database Service'))).toBeDefined();
    for (const post of posts) expect(post.args).toMatchObject({ channel: 'D0ALICE01' });
    for (const post of posts) expect(post.args.thread_ts).toBeUndefined();
  });

  it('ignores its own messages and edits in a direct message', async () => {
    await postToSlackRoute(eventsUrl, eventCallback({ type: 'message', channel_type: 'im', channel: 'D0ALICE01', bot_id: 'BFINOPS01', user: FAKE_BOT_USER_ID, text: 'cost 7d', ts: '1700000600.000100' }));
    await postToSlackRoute(eventsUrl, eventCallback({ type: 'message', subtype: 'message_changed', channel_type: 'im', channel: 'D0ALICE01', ts: '1700000600.000200', message: { text: 'cost 7d' } }));
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(fake.callsTo('chat.postMessage')).toEqual([]);
  });

  it('publishes the App Home dashboard: month to date by team, the forecast, the week’s anomalies and freshness', async () => {
    await postToSlackRoute(eventsUrl, eventCallback({ type: 'app_home_opened', user: 'U0ALICE01', channel: 'D0ALICE01', tab: 'home' }));
    const [publish] = await fake.waitFor(() => fake.callsTo('views.publish').length > 0 && fake.callsTo('views.publish'));
    expect(publish!.args.user_id).toBe('U0ALICE01');
    const view = publish!.args.view as { type: string; blocks: Block[] };
    expect(view.type).toBe('home');
    const text = allText(view.blocks);
    expect(text).toContain('Cost by team, month to date');
    expect(text).toContain('data-platform');
    expect(text).toMatch(/[Ff]orecast/);
    expect(text).toContain('Anomalies · last 7 days');
    expect(text).toContain('data through 2026-11-21');
    const expected = await sourceTotalCents(new DemoCostSource(), { start: '2026-11-01', end: '2026-11-22' });
    expect(centsIn(fieldValue(view.blocks, 'Total'))).toBe(expected);
  });
});

describe('request verification', () => {
  const command = () => slashCommand({ text: 'cost 7d', responseUrl: fake.responseUrl('forged') });
  const now = () => Math.floor(Date.now() / 1000);

  it.each([
    ['a forged signature', { secret: 'not-the-signing-secret-at-all' }],
    ['a stale timestamp', { timestamp: now() - 6 * 60 }],
    ['a timestamp 6 minutes in the future', { timestamp: now() + 6 * 60 }],
    ['no signature', { unsigned: true }],
    ['a future timestamp written as a decimal', { timestamp: now() + 6 * 60, timestampHeader: (ts: number) => `${ts}.0` }],
    ['a future timestamp written in hexadecimal', { timestamp: now() + 6 * 60, timestampHeader: (ts: number) => `0x${ts.toString(16)}` }],
  ])('refuses %s with 401 and runs nothing', async (_name, options) => {
    const result = await postToSlackRoute(eventsUrl, command(), options);
    expect(result.status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(fake.responses).toEqual([]);
    expect(fake.calls.filter((call) => call.method !== 'auth.test')).toEqual([]);
  });

  it('accepts a timestamp a little ahead (clock skew under 5 minutes)', async () => {
    const result = await postToSlackRoute(eventsUrl, slashCommand({ text: 'status', responseUrl: fake.responseUrl('skew') }), { timestamp: now() + 60 });
    expect(result.status).toBe(200);
    await fake.waitFor(() => fake.responsesTo('skew').length > 0);
  });

  it('answers the url_verification handshake of a signed request', async () => {
    const result = await postToSlackRoute(eventsUrl, { body: JSON.stringify({ type: 'url_verification', token: 'x', challenge: 'c0ffee' }), contentType: 'application/json' });
    expect(result.status).toBe(200);
    expect(result.body).toContain('c0ffee');
  });

  it('refuses other methods on the Slack route', async () => {
    const response = await fetch(eventsUrl);
    expect(response.status).toBe(405);
  });
});

describe('when Slack refuses', () => {
  it('tells the asker why in a direct message when the channel refuses the reply', async () => {
    fake.failNext('chat.postMessage', { error: 'not_in_channel' });
    await postToSlackRoute(eventsUrl, eventCallback({ type: 'app_mention', user: 'U0ALICE01', text: `<@${FAKE_BOT_USER_ID}> cost 7d`, ts: '1700000700.000100', channel: 'C0PRIVATE' }));
    const [dm] = await fake.waitFor(() => fake.callsTo('chat.postMessage').length > 0 && fake.callsTo('chat.postMessage'));
    expect(dm!.args.channel).toBe('U0ALICE01');
    expect(String(dm!.args.text)).toContain("I'm not a member");
    expect(String(dm!.args.text)).toContain('<#C0PRIVATE>');
    expect(logLines.some((line) => line.includes('"slackError":"not_in_channel"'))).toBe(true);
  });

  it('gives up quietly on a rate limit that outlasts its retries, and logs it as one', async () => {
    fake.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    fake.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    await postToSlackRoute(eventsUrl, eventCallback({ type: 'app_mention', user: 'U0ALICE01', text: `<@${FAKE_BOT_USER_ID}> tags`, ts: '1700000750.000100', channel: 'C0COSTS01' }));
    await fake.waitFor(() => logLines.some((line) => line.includes('"slackError":"ratelimited"')), 15_000);
    expect(fake.calls.filter((call) => call.method === 'chat.postMessage').map((call) => call.status)).toEqual([429, 429]);
  });

  it('waits out a 429 for its Retry-After and then posts once', async () => {
    fake.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    await postToSlackRoute(eventsUrl, eventCallback({ type: 'app_mention', user: 'U0ALICE01', text: `<@${FAKE_BOT_USER_ID}> tags`, ts: '1700000800.000100', channel: 'C0COSTS01' }));
    const [post] = await fake.waitFor(() => fake.callsTo('chat.postMessage').length > 0 && fake.callsTo('chat.postMessage'), 15_000);
    const attempts = fake.calls.filter((call) => call.method === 'chat.postMessage');
    expect(attempts.map((call) => call.status)).toEqual([429, 200]);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(1_000);
    expect(post!.args.thread_ts).toBe('1700000800.000100');
  });

  it('logs a response_url that has expired instead of crashing', async () => {
    fake.failResponseUrl('expired', 404);
    const ack = await postToSlackRoute(eventsUrl, slashCommand({ text: 'cost 7d', responseUrl: fake.responseUrl('expired') }));
    expect(ack.status).toBe(200);
    await fake.waitFor(() => logLines.some((line) => line.includes('could not answer through the response URL')));
    const after = await postToSlackRoute(eventsUrl, slashCommand({ text: 'status', responseUrl: fake.responseUrl('after-expired') }));
    expect(after.status).toBe(200);
    await fake.waitFor(() => fake.responsesTo('after-expired').length > 0);
  });
});

describe('logs', () => {
  it('never contain the bot token or the signing secret', () => {
    expect(logLines.length).toBeGreaterThan(10);
    const all = logLines.join('\n');
    expect(all).not.toContain(TEST_BOT_TOKEN);
    expect(all).not.toContain(TEST_SIGNING_SECRET);
    expect(all).not.toContain('xoxb-');
  });
});
