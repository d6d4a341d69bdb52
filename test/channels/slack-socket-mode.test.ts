/**
 * The Slack channel over Socket Mode, end to end: with an app-level token it asks the Web API
 * (the local fake) for a WebSocket URL with `apps.connections.open`, connects to the local
 * fake Socket Mode server, acknowledges envelopes over the socket and answers through the
 * same engine, `response_url` and Web API as over HTTP. The engine is the real one over an
 * empty test database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgCostStore } from '../../src/adapters/db/cost-store.js';
import { PgDeliveryLedger } from '../../src/adapters/db/delivery-ledger.js';
import { createSlackChannel, type SlackChannel } from '../../src/channels/slack/slack-channel.js';
import { createLogger } from '../../src/logger.js';
import { type FakeSlack, FAKE_BOT_USER_ID, startFakeSlack } from '../support/fake-slack.js';
import { type FakeSocketMode, startFakeSocketMode } from '../support/fake-socket-mode.js';
import { eventCallback, slashCommand, TEST_BOT_TOKEN } from '../support/slack-requests.js';
import { openTestDatabase, type TestDatabase } from '../support/test-database.js';
import { engineFor, FixedClock } from '../support/world.js';

const APP_TOKEN = 'xapp-1-A0FINOPS1-1234-notreal';
const HELP = 'What I can do';

let test: TestDatabase;
let fake: FakeSlack;
let socket: FakeSocketMode;
let channel: SlackChannel;
let stopped = false;
const logs: string[] = [];

/** The payload Slack puts in a `slash_commands` envelope: the fields of the HTTP form, as JSON. */
function slashPayload(text: string, responseId: string): Record<string, unknown> {
  return Object.fromEntries(new URLSearchParams(slashCommand({ text, responseUrl: fake.responseUrl(responseId) }).body));
}

/** The payload of an `events_api` envelope: the Events API `event_callback` as over HTTP. */
function eventPayload(event: Record<string, unknown>): Record<string, unknown> & { event_id: string } {
  return JSON.parse(eventCallback(event).body) as Record<string, unknown> & { event_id: string };
}

function mention(ts: string): Record<string, unknown> & { event_id: string } {
  return eventPayload({ type: 'app_mention', user: 'U0ALICE01', text: `<@${FAKE_BOT_USER_ID}> help`, ts, channel: 'C0COSTS01' });
}

const repliesIn = (method: string, threadTs: string) => fake.callsTo(method).filter((call) => call.args.thread_ts === threadTs);
const failures = () => logs.filter((line) => line.includes('listener failed') || /"level":(50|60)/.test(line));

beforeAll(async () => {
  test = await openTestDatabase();
  fake = await startFakeSlack();
  socket = await startFakeSocketMode();
  fake.setAnswer('apps.connections.open', { ok: true, url: socket.url });
  const logger = createLogger('debug', { write: (line: string) => logs.push(line) });
  const store = new PgCostStore(test.database.db);
  channel = createSlackChannel({
    botToken: TEST_BOT_TOKEN,
    appToken: APP_TOKEN,
    apiUrl: fake.apiUrl,
    engine: engineFor(store, new FixedClock(new Date('2026-11-22T12:00:00Z'))),
    deliveries: new PgDeliveryLedger(test.database.db),
    logger,
    webApiRetries: 0,
  });
  await channel.start();
});

afterAll(async () => {
  if (channel && !stopped) await channel.stop();
  await socket?.close();
  await fake?.close();
  await test?.dispose();
});

describe('Slack over Socket Mode', () => {
  it('connects through apps.connections.open with the app-level token and serves no HTTP route', async () => {
    expect(channel.mode).toBe('socket');
    expect(channel.route).toBeUndefined();
    expect(socket.connected).toBe(true);
    expect(socket.connectionCount).toBe(1);
    const opens = fake.callsTo('apps.connections.open');
    expect(opens).toHaveLength(1);
    expect(opens[0]!.token).toBe(APP_TOKEN);
    // The bot's identity is looked up with the bot token, not the app-level one.
    const [authTest] = await fake.waitFor(() => fake.callsTo('auth.test').length > 0 && fake.callsTo('auth.test'), 5_000);
    expect(authTest!.token).toBe(TEST_BOT_TOKEN);
  });

  it('acknowledges a slash command over the socket and answers through its response_url', async () => {
    const envelopeId = socket.send({ type: 'slash_commands', payload: slashPayload('help', 'socket-help'), accepts_response_payload: true });
    const ack = await socket.waitForAck(envelopeId);
    // Acknowledged empty: the answer goes through response_url, not in the ack.
    expect(ack).toEqual({ envelope_id: envelopeId, payload: {} });
    const [post] = await fake.waitFor(() => fake.responsesTo('socket-help').length > 0 && fake.responsesTo('socket-help'), 5_000);
    expect(post!.body.response_type).toBe('ephemeral');
    expect(JSON.stringify(post!.body)).toContain(HELP);
    expect(socket.acksFor(envelopeId)).toHaveLength(1);
  });

  it('acknowledges an app_mention and shows help to the asker only', async () => {
    const payload = mention('1700000700.000100');
    const envelopeId = socket.send({ type: 'events_api', payload, accepts_response_payload: false, retry_attempt: 0, retry_reason: '' });
    expect(await socket.waitForAck(envelopeId)).toMatchObject({ envelope_id: envelopeId });
    const [post] = await fake.waitFor(() => repliesIn('chat.postEphemeral', '1700000700.000100').length > 0 && repliesIn('chat.postEphemeral', '1700000700.000100'), 5_000);
    expect(post!.token).toBe(TEST_BOT_TOKEN);
    expect(post!.args).toMatchObject({ channel: 'C0COSTS01', user: 'U0ALICE01' });
    expect(JSON.stringify(post!.args)).toContain(HELP);
    expect(repliesIn('chat.postMessage', '1700000700.000100')).toEqual([]);
  });

  it('answers an event delivered twice (a retry with the same event_id) once', async () => {
    const payload = mention('1700000800.000100');
    const first = socket.send({ type: 'events_api', payload, accepts_response_payload: false, retry_attempt: 0, retry_reason: '' });
    const retry = socket.send({ type: 'events_api', payload, accepts_response_payload: false, retry_attempt: 1, retry_reason: 'timeout' });
    await socket.waitForAck(first);
    await socket.waitForAck(retry);
    await fake.waitFor(() => repliesIn('chat.postEphemeral', '1700000800.000100').length > 0, 5_000);
    // The second delivery is settled once the ledger has turned it away.
    await fake.waitFor(() => logs.some((line) => line.includes('ignored a repeated Slack delivery') && line.includes('1700000800.000100')), 5_000);
    expect(repliesIn('chat.postEphemeral', '1700000800.000100')).toHaveLength(1);
    expect(repliesIn('chat.postMessage', '1700000800.000100')).toEqual([]);
  });

  it('sent nothing but acknowledgements and logged no failure', () => {
    expect(socket.unexpected).toEqual([]);
    expect(failures()).toEqual([]);
  });

  it('closes the socket cleanly on stop and does not reconnect', async () => {
    const closed = socket.waitForClose(3_000);
    await channel.stop();
    stopped = true;
    expect(await closed).toEqual({ code: 1000, reason: '' });
    expect(socket.connected).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(socket.connectionCount).toBe(1);
    expect(fake.callsTo('apps.connections.open')).toHaveLength(1);
  });
});
