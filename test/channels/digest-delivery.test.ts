/**
 * Digests end to end: three bot instances (`serve()`, each with its own database pool)
 * share one database and a seconds-level schedule, and post into a local fake Slack. Each
 * channel's digest for the day must arrive once — message and chart — with figures equal to
 * `cost` for that day, including when an instance died halfway and when Slack says 429.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DemoCostSource } from '../../src/adapters/demo/demo-cost-source.js';
import { type Config, loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createFinOpsApp, type Server, serve } from '../../src/main.js';
import { type FakeSlack, startFakeSlack } from '../support/fake-slack.js';
import { postToSlackRoute, slashCommand, slackTestEnv } from '../support/slack-requests.js';
import { openBotState, testDatabaseKind } from '../support/test-database.js';
import { centsIn, FixedClock, sourceTotalCents } from '../support/world.js';

const clock = new FixedClock(new Date('2026-11-22T12:00:00Z'));
const INSTANCES = testDatabaseKind === 'postgres' ? 3 : 1;
const CHANNELS = ['C0ORG0001', 'C0PAY0001', 'C0SRCH001', 'C0MLP0001', 'C0UNTAG01', 'C0ORGWEEK'];
/** A channel that was archived after it subscribed. */
const ARCHIVED = 'C0ARCHIVE';
/** A channel confined to payments (FINOPS_CHANNEL_TEAMS) after it subscribed to the organisation's digest. */
const CONFINED = 'C0CONFINE';

type Block = { type: string; fields?: { text: string }[] };

describe(`digests from ${INSTANCES} instance(s) sharing one ${testDatabaseKind} database`, () => {
  let fake: FakeSlack;
  let state: Awaited<ReturnType<typeof openBotState>>;
  let config: Config;
  const servers: Server[] = [];
  const stopping = new AbortController();
  const logs: string[] = [];
  let halfDone = '';

  const startInstance = async () => {
    const logger = createLogger('info', { write: (line: string) => logs.push(line) });
    const server = await serve({ ...config, port: 0 }, logger, { stdin: process.stdin, stdout: process.stdout }, stopping.signal, {
      clock,
      backfillDays: 60,
      slackWebApiRetries: 1,
      digestSweepCron: '* * * * * *',
    });
    servers.push(server);
  };

  beforeAll(async () => {
    fake = await startFakeSlack();
    const env: Record<string, string> = {
      ...slackTestEnv(fake.apiUrl),
      FINOPS_DAILY_CRON: '*/2 * * * * *',
      FINOPS_WEEKLY_CRON: '*/2 * * * * *',
      FINOPS_CHANNEL_TEAMS: `${CONFINED}=payments`,
    };
    state = await openBotState('finops-digests-');
    Object.assign(env, state.env);
    config = loadConfig(env);
    const setup = await createFinOpsApp(config, createLogger('silent'), { clock, backfillDays: 60 });
    await setup.sync();
    const subscribe = (conversationId: string, team: string | undefined, cadence: 'daily' | 'weekly' = 'daily') =>
      setup.digests.subscribe({ platform: 'slack', conversationId, cadence, team, timeZone: 'UTC', createdBy: 'U0ALICE01' });
    await subscribe('C0ORG0001', undefined);
    await subscribe('C0PAY0001', 'payments');
    await subscribe('C0SRCH001', 'search');
    await subscribe('C0MLP0001', 'ml-platform');
    await subscribe('C0UNTAG01', '');
    await subscribe('C0ORGWEEK', undefined, 'weekly');
    await subscribe(ARCHIVED, 'checkout');
    await subscribe(CONFINED, undefined);
    // An instance died halfway through an earlier run: it had posted one channel's message
    // (not its chart) and taken another's delivery; its leases have run out since.
    await setup.digests.plan('daily', 'UTC', 'daily:2026-11-21');
    const first = (await setup.digests.claimNext('dead-instance', 60_000, ['slack']))!;
    halfDone = first.subscription.conversationId;
    await setup.digests.recordMessage(first.delivery, 'dead-instance', '1699999999.000001', 60_000);
    await setup.digests.claimNext('dead-instance', 60_000, ['slack']);
    await setup.database.db.execute(sql`update digest_deliveries set lease_until = now() - interval '1 second'`);
    await setup.close();
  }, 120_000);

  afterAll(async () => {
    stopping.abort();
    for (const server of servers) await server.stop();
    await fake.close();
    await state?.dispose();
  });

  // The payments channel also gets the demo's recent anomaly alert (a message of its own): digests only here.
  const messagesTo = (channel: string) =>
    fake.callsTo('chat.postMessage').filter((call) => call.args.channel === channel && !String(call.args.text ?? '').startsWith('Cost anomaly'));
  const chartsTo = (channel: string) => fake.callsTo('files.completeUploadExternal').filter((call) => call.args.channel_id === channel);

  it('posts every channel its digest once, message and chart, however many instances and ticks', async () => {
    fake.refuseChannel(ARCHIVED, 'is_archived');
    // Slack rate-limits the first post; the client waits it out.
    fake.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    for (let index = 0; index < INSTANCES; index++) await startInstance();
    await fake.waitFor(() => CHANNELS.every((channel) => chartsTo(channel).length > 0), 60_000);
    // Let the schedule tick a few more times on every instance: nothing more may be posted.
    await new Promise((resolve) => setTimeout(resolve, 5_000));

    for (const channel of CHANNELS) {
      expect(chartsTo(channel), channel).toHaveLength(1);
      // The half-done delivery had its message out already: only its chart follows.
      expect(messagesTo(channel).length, channel).toBe(channel === halfDone ? 0 : 1);
    }
    expect(fake.calls.filter((call) => call.method === 'chat.postMessage' && call.status === 429)).toHaveLength(1);
    expect(fake.uploads.length).toBe(CHANNELS.length);
    expect(fake.uploads.every((upload) => upload.bytes > 5_000)).toBe(true);
  }, 120_000);

  it('reports figures equal to the source for the same day', async () => {
    const demo = new DemoCostSource();
    const total = (channel: string) => {
      const [message] = messagesTo(channel);
      const field = (message?.args.blocks as Block[] | undefined)?.flatMap((block) => block.fields ?? []).find((candidate) => candidate.text.startsWith('*Total*'));
      return field ? centsIn(field.text) : undefined;
    };
    const day = { start: '2026-11-21', end: '2026-11-22' };
    for (const [channel, team] of [
      ['C0PAY0001', 'payments'],
      ['C0SRCH001', 'search'],
      ['C0ORG0001', undefined],
    ] as const) {
      if (messagesTo(channel).length === 0) continue;
      expect(total(channel), channel).toBe(await sourceTotalCents(demo, day, team === undefined ? {} : { team }));
    }
    const [weekly] = messagesTo('C0ORGWEEK');
    expect(JSON.stringify(weekly?.args.blocks)).toContain('Weekly digest');
    expect(total('C0ORGWEEK')).toBe(await sourceTotalCents(demo, { start: '2026-11-09', end: '2026-11-16' }));
  });

  it('keeps a channel that refuses from stopping the others, tried once, and shows the problem in `subscriptions`', async () => {
    expect(fake.calls.filter((call) => call.method === 'chat.postMessage' && call.args.channel === ARCHIVED)).toHaveLength(1);
    expect(logs.some((line) => line.includes('digest not delivered') && line.includes(ARCHIVED))).toBe(true);
    const url = `http://127.0.0.1:${servers[0]!.port}/slack/events`;
    await postToSlackRoute(url, slashCommand({ text: 'subscriptions', responseUrl: fake.responseUrl('subs'), channelId: ARCHIVED }));
    const [answer] = await fake.waitFor(() => fake.responsesTo('subs').length > 0 && fake.responsesTo('subs'));
    expect(JSON.stringify(answer!.body.blocks)).toContain('failed: is_archived');
  });

  it('posts nothing outside what a confined channel may see, says why in `subscriptions`, and lets it unsubscribe', async () => {
    expect(fake.calls.filter((call) => call.args.channel === CONFINED)).toEqual([]);
    const url = `http://127.0.0.1:${servers[0]!.port}/slack/events`;
    await postToSlackRoute(url, slashCommand({ text: 'subscriptions', responseUrl: fake.responseUrl('confined'), channelId: CONFINED }));
    const [listed] = await fake.waitFor(() => fake.responsesTo('confined').length > 0 && fake.responsesTo('confined'));
    expect(JSON.stringify(listed!.body.blocks)).toContain('confined to some teams');
    await postToSlackRoute(url, slashCommand({ text: 'unsubscribe daily', responseUrl: fake.responseUrl('unsub'), channelId: CONFINED }));
    const [removed] = await fake.waitFor(() => fake.responsesTo('unsub').length > 0 && fake.responsesTo('unsub'));
    expect(JSON.stringify(removed!.body.blocks)).toContain('Unsubscribed');
  });
});
