/**
 * Anomaly alerts end to end: the demo organisation synced at a fixed clock, the real scan,
 * monitor and stores, and the real Bolt app on a local port receiving signed button clicks.
 * Only the network edges are fake: Slack (a local server recording every call) and AWS Cost
 * Anomaly Detection (aws-sdk-client-mock behind a real CostAnomalyFeed).
 */
import { randomBytes } from 'node:crypto';
import { CostExplorerClient, GetAnomaliesCommand, LimitExceededException, ProvideAnomalyFeedbackCommand } from '@aws-sdk/client-cost-explorer';
import { webApi } from '@slack/bolt';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CostAnomalyFeed } from '../../src/adapters/aws/cost-anomaly-feed.js';
import { PgAnomalyStore } from '../../src/adapters/db/anomaly-store.js';
import { PgCostStore } from '../../src/adapters/db/cost-store.js';
import { type Database, openDatabase } from '../../src/adapters/db/database.js';
import { PgDigestStore } from '../../src/adapters/db/digest-store.js';
import { AnomalyMonitor, type ConversationTarget } from '../../src/app/anomalies/monitor.js';
import { ANOMALY_ACTIONS, type AnomalyDecision, SNOOZE_DAYS } from '../../src/app/anomalies/present.js';
import { DEFAULT_SCAN_SETTINGS } from '../../src/app/anomalies/scan.js';
import { startHttpServer } from '../../src/channels/http/http-server.js';
import { SlackAlertNotifier } from '../../src/channels/slack/slack-alerts.js';
import { SLACK_EVENTS_PATH, type SlackChannel } from '../../src/channels/slack/slack-channel.js';
import { type Config, loadConfig } from '../../src/config.js';
import { DEFAULT_DETECTOR_SETTINGS } from '../../src/core/anomaly.js';
import { formatAmount, parseAmount } from '../../src/core/money.js';
import { addDays } from '../../src/core/period.js';
import { createLogger } from '../../src/logger.js';
import { createFinOpsApp, type FinOpsApp, slackChannelFor } from '../../src/main.js';
import type { AnomalyRecord } from '../../src/ports.js';
import { FAKE_BOT_ID, FAKE_TEAM_ID, type FakeSlack, type SlackApiCall, startFakeSlack } from '../support/fake-slack.js';
import { postToSlackRoute, type SlackBody, slackTestEnv, TEST_BOT_TOKEN } from '../support/slack-requests.js';
import { openBotState, testDatabaseKind } from '../support/test-database.js';
import { FixedClock } from '../support/world.js';

/** A day whose last judged week holds, at these bars, an anomaly of a team and one of untagged spend. */
const clock = new FixedClock(new Date('2026-09-10T12:00:00Z'));
const FALLBACK = 'C0FALLBACK';
const TEAM_CHANNEL = 'C0TEAMCHAN';
const OTHER_TEAM_CHANNEL = 'C0OTHERTEAM';
const SHARED = ['C0SHARED01', 'C0SHARED02', 'C0SHARED03', 'C0SHARED04'];
const ALICE = 'U0ALICE01';
const BOB = 'U0BOB0001';
const AWS_ID = 'aws-anomaly-3f2a';

type Block = { type: string; fields?: { text: string }[]; elements?: { action_id?: string; value?: string }[] };

let fake: FakeSlack;
let ce: AwsClientStub<CostExplorerClient>;
let state: Awaited<ReturnType<typeof openBotState>>;
let config: Config;
let app: FinOpsApp;
let slack: SlackChannel;
let http: Awaited<ReturnType<typeof startHttpServer>>;
let eventsUrl: string;
/** The demo's recent anomalies: one of a team, one of untagged spend. */
let team: AnomalyRecord;
let untagged: AnomalyRecord;
let otherTeam: string;
const logs: string[] = [];
const logger = createLogger('info', { write: (line: string) => logs.push(line) });

beforeAll(async () => {
  fake = await startFakeSlack();
  ce = mockClient(CostExplorerClient);
  ce.on(GetAnomaliesCommand).resolves({ $metadata: { attempts: 1 }, Anomalies: [] });
  ce.on(ProvideAnomalyFeedbackCommand).resolves({ $metadata: { attempts: 1 }, AnomalyId: AWS_ID });
  state = await openBotState('finops-anomalies-');
  const env = { ...slackTestEnv(fake.apiUrl), ...state.env, FINOPS_COST_SOURCE: 'demo', FINOPS_ANOMALY_FALLBACK_CHANNEL: FALLBACK, FINOPS_ANOMALY_MIN_USD: '20', FINOPS_ANOMALY_MIN_PERCENT: '10' };
  config = loadConfig(env);
  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' };
  const awsAnomalyFeed = new CostAnomalyFeed({ client: new CostExplorerClient({ region: 'us-east-1', credentials }), ledger: { record: async () => undefined }, clock });
  app = await createFinOpsApp(config, logger, { clock, backfillDays: 150, slackWebApiRetries: 0, awsAnomalyFeed });
  // The first scan runs with no chat platform wired: it finds, and alerts nobody.
  await app.sync();
  const { lastJudged } = await app.monitor().run();
  const recent = (await app.anomalies.listSince(addDays(lastJudged!, -7))).filter((record) => record.status === 'open');
  team = recent.find((record) => record.team)!;
  untagged = recent.find((record) => record.team === '')!;
  expect(team, 'the demo has a team anomaly in the last judged week').toBeDefined();
  expect(untagged, 'the demo has an untagged anomaly in the last judged week').toBeDefined();
  otherTeam = ['payments', 'search', 'identity'].find((name) => !recent.some((record) => record.team === name))!;
  slack = slackChannelFor(config.slack!, app, logger, { slackWebApiRetries: 0 });
  http = await startHttpServer({ port: 0, health: { databaseReachable: () => app.database.ping() }, routes: { [SLACK_EVENTS_PATH]: slack.route! } });
  eventsUrl = `http://127.0.0.1:${http.port}${SLACK_EVENTS_PATH}`;
}, 120_000);

afterAll(async () => {
  // The last click's delivery pass ends before Slack and the database go.
  if (app) await settle();
  await slack?.stop();
  await http?.close();
  await app?.close();
  ce?.restore();
  await fake?.close();
  await state?.dispose();
});

/** A monitor as another instance runs it: its own name, stores over `database`, Slack client. */
function instance(database: Database, holder: string, fallback?: ConversationTarget, channelTeams?: ReadonlyMap<string, readonly string[]>): AnomalyMonitor {
  const client = new webApi.WebClient(TEST_BOT_TOKEN, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } });
  return new AnomalyMonitor({
    store: new PgCostStore(database.db),
    anomalies: new PgAnomalyStore(database.db),
    subscriptions: new PgDigestStore(database.db),
    notifiers: new Map([['slack', new SlackAlertNotifier(client)]]),
    clock,
    logger: logger.child({ component: 'anomalies', holder }),
    holder,
    scan: {
      ...DEFAULT_SCAN_SETTINGS,
      detector: { ...DEFAULT_DETECTOR_SETTINGS, minImpact: config.anomalies.minImpactUsd, minRelative: config.anomalies.minPercent / 100 },
      teamThresholds: config.anomalies.teamThresholds,
      metric: config.defaultMetric,
    },
    fallback,
    channelTeams,
  });
}

/** Every pending alert delivered (twice: a pass already ending may have missed the latest change). */
async function settle(): Promise<void> {
  await app.monitor().deliverPending();
  await app.monitor().deliverPending();
}

const blocksOf = (args: Record<string, unknown>) => (args.blocks ?? []) as Block[];
const textOf = (args: Record<string, unknown>) => `${String(args.text)} ${JSON.stringify(args.blocks)}`;
const buttonsOf = (args: Record<string, unknown>) => blocksOf(args).filter((block) => block.type === 'actions').flatMap((block) => block.elements ?? []);
/** The anomaly a posted alert is about: its buttons carry the id. */
const anomalyOf = (call: SlackApiCall) => buttonsOf(call.args)[0]?.value;
const posts = (channel: string, anomaly?: AnomalyRecord) =>
  fake.callsTo('chat.postMessage').filter((call) => call.args.channel === channel && (!anomaly || anomalyOf(call) === String(anomaly.id)));
const updates = (channel: string, ts: string) => fake.callsTo('chat.update').filter((call) => call.args.channel === channel && call.args.ts === ts);

function status(args: Record<string, unknown>): string | undefined {
  const field = blocksOf(args).flatMap((block) => block.fields ?? []).find((candidate) => candidate.text.startsWith('*Status*\n'));
  return field?.text.slice('*Status*\n'.length);
}

async function messageTs(anomaly: AnomalyRecord, channel: string): Promise<string> {
  const alert = (await app.anomalies.alertsOf(anomaly.id)).find((candidate) => candidate.conversationId === channel);
  expect(alert?.messageId, `${anomaly.id} was posted in ${channel}`).toBeDefined();
  return alert!.messageId!;
}

/**
 * A click on an alert's button as Slack posts it: a `block_actions` payload for a message
 * in a channel (the fields of Slack's BlockActionPayload sample that such a click carries).
 */
function alertClick(options: { actionId: string; value: string; channel: string; messageTs: string; user: string; responseUrl: string }): SlackBody {
  const payload = {
    type: 'block_actions',
    user: { id: options.user, username: options.user.toLowerCase(), name: options.user.toLowerCase(), team_id: FAKE_TEAM_ID },
    api_app_id: 'A0FINOPS1',
    token: 'verification-token-not-used',
    container: { type: 'message', message_ts: options.messageTs, channel_id: options.channel, is_ephemeral: false },
    trigger_id: `${Date.now()}.1.${randomBytes(16).toString('hex')}`,
    team: { id: FAKE_TEAM_ID, domain: 'fake' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: options.channel, name: 'cost-alerts' },
    message: { type: 'message', subtype: 'bot_message', ts: options.messageTs, bot_id: FAKE_BOT_ID, text: 'Cost anomaly' },
    state: { values: {} },
    response_url: options.responseUrl,
    actions: [{ action_id: options.actionId, block_id: 'actions', text: { type: 'plain_text', text: 'button', emoji: true }, value: options.value, type: 'button', action_ts: `${Math.floor(Date.now() / 1000)}.000100` }],
  };
  return { body: new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), contentType: 'application/x-www-form-urlencoded' };
}

let clicks = 0;
/** Clicks `decision` on `anomaly`'s alert in `channel`; resolves with the HTTP answer and the response_url id. */
async function click(decision: AnomalyDecision, anomaly: AnomalyRecord, channel: string, options: { user?: string; value?: string; secret?: string } = {}) {
  const id = `click-${++clicks}`;
  const messageTs = (await app.anomalies.alertsOf(anomaly.id)).find((alert) => alert.conversationId === channel)?.messageId ?? '1699999999.000100';
  const body = alertClick({ actionId: ANOMALY_ACTIONS[decision], value: options.value ?? String(anomaly.id), channel, messageTs, user: options.user ?? ALICE, responseUrl: fake.responseUrl(id) });
  const started = Date.now();
  const result = await postToSlackRoute(eventsUrl, body, options.secret ? { secret: options.secret } : {});
  return { ...result, id, elapsed: Date.now() - started };
}

/** The alert as the click redrew it in place. */
const redrawn = (id: string) => fake.waitFor(() => fake.responsesTo(id).find((post) => post.body.replace_original === true)?.body);
/** What only the clicker was told. */
const toldPrivately = (id: string) => fake.waitFor(() => fake.responsesTo(id).find((post) => post.body.response_type === 'ephemeral')?.body.text);

describe('where alerts go', () => {
  it('alerts nobody about a team without a channel or untagged spend when no fallback channel is set', async () => {
    await instance(app.database, 'no-fallback').run();
    expect(fake.callsTo('chat.postMessage')).toEqual([]);
    expect(await app.anomalies.alertsOf(team.id)).toEqual([]);
    expect(await app.anomalies.alertsOf(untagged.id)).toEqual([]);
  });

  it('sends untagged spend, and a team that has no channel, to the fallback channel once', async () => {
    app.useAlertNotifiers(new Map([['slack', slack.alerts]]));
    await app.monitor().run();
    await app.monitor().run();
    expect(posts(FALLBACK, untagged)).toHaveLength(1);
    expect(posts(FALLBACK, team)).toHaveLength(1);
    expect(fake.callsTo('chat.postMessage').every((call) => call.args.channel === FALLBACK)).toBe(true);
  });

  it("posts a team's anomaly once to the channel subscribed to its digest, with the amount and three buttons; another team's channel gets nothing", async () => {
    const subscribe = (conversationId: string, teamName: string, cadence: 'daily' | 'weekly') =>
      app.digests.subscribe({ platform: 'slack', conversationId, cadence, team: teamName, timeZone: 'UTC', createdBy: ALICE });
    await subscribe(TEAM_CHANNEL, team.team!, 'daily');
    await subscribe(TEAM_CHANNEL, team.team!, 'weekly');
    await subscribe(OTHER_TEAM_CHANNEL, otherTeam, 'daily');
    await app.monitor().run();
    await app.monitor().run();

    expect(posts(TEAM_CHANNEL)).toHaveLength(1);
    const [post] = posts(TEAM_CHANNEL, team);
    const text = textOf(post!.args);
    expect(text).toContain(team.team);
    if ('value' in team.scope) expect(text).toContain(team.scope.value);
    expect(text).toContain(`${formatAmount(team.impact, team.currency)} above expected`);
    expect(status(post!.args)).toBe('Open');
    expect(buttonsOf(post!.args)).toEqual(Object.values(ANOMALY_ACTIONS).map((actionId) => expect.objectContaining({ action_id: actionId, value: String(team.id) })));
    expect(fake.calls.filter((call) => call.args.channel === OTHER_TEAM_CHANNEL)).toEqual([]);
    expect(posts(FALLBACK)).toHaveLength(2);
  });
});

describe('delivery', () => {
  it('posts each alert exactly once when three instances deliver at once', async () => {
    for (const anomaly of [team, untagged]) await app.anomalies.planAlerts(anomaly.id, SHARED.map((conversationId) => ({ platform: 'slack' as const, conversationId })));
    // Each instance has its own pool on PostgreSQL; PGlite is one connection in one process.
    const databases = testDatabaseKind === 'postgres' ? await Promise.all([1, 2, 3].map(() => openDatabase({ kind: 'postgres', url: state.env.DATABASE_URL! }))) : [app.database, app.database, app.database];
    try {
      const monitors = databases.map((database, index) => instance(database, `instance-${index + 1}`));
      const delivered = await Promise.all(monitors.map((monitor) => monitor.deliverPending()));
      expect(delivered.reduce((sum, count) => sum + count, 0)).toBe(SHARED.length * 2);
    } finally {
      if (testDatabaseKind === 'postgres') await Promise.all(databases.map((database) => database.close()));
    }
    for (const channel of SHARED) {
      expect(posts(channel, team), channel).toHaveLength(1);
      expect(posts(channel, untagged), channel).toHaveLength(1);
    }
  });

  it('updates the posted message in place, not with a new one, as the anomaly grows and then ends', async () => {
    const postsBefore = fake.callsTo('chat.postMessage').length;
    const ts = await messageTs(team, TEAM_CHANNEL);
    const grown = { ...team, active: true, actual: team.actual + parseAmount('250'), impact: team.impact + parseAmount('250') };
    await app.anomalies.saveDetected([grown], clock.now());
    // The next pass redraws every copy of the alert: the team's channel, the fallback, the shared ones.
    expect(await app.monitor().deliverPending()).toBe((await app.anomalies.alertsOf(team.id)).length);
    const [grownUpdate, ...more] = updates(TEAM_CHANNEL, ts);
    expect(more).toEqual([]);
    expect(textOf(grownUpdate!.args)).toContain(`${formatAmount(grown.impact, grown.currency)} above expected`);
    expect(textOf(grownUpdate!.args)).toContain('still above its usual level');

    await app.anomalies.saveDetected([{ ...grown, active: false }], clock.now());
    await settle();
    expect(updates(TEAM_CHANNEL, ts)).toHaveLength(2);
    expect(textOf(updates(TEAM_CHANNEL, ts)[1]!.args)).toContain('back to its usual level since');
    expect(fake.callsTo('chat.postMessage')).toHaveLength(postsBefore);
    const current = (await app.anomalies.get(team.id))!;
    for (const alert of await app.anomalies.alertsOf(team.id)) expect(alert.postedVersion, alert.conversationId).toBe(current.version);
  });
});

describe('the buttons', () => {
  it('refuses a click with a forged signature (401) and changes nothing', async () => {
    const before = (await app.anomalies.get(team.id))!;
    const forged = await click('acknowledge', team, TEAM_CHANNEL, { secret: 'not-the-signing-secret-at-all' });
    expect(forged.status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(fake.responsesTo(forged.id)).toEqual([]);
    expect(await app.anomalies.get(team.id)).toEqual(before);
  });

  it('refuses, privately, a click from a channel the alert was not posted to', async () => {
    const before = (await app.anomalies.get(team.id))!;
    const stray = await click('dismiss', team, OTHER_TEAM_CHANNEL);
    expect(stray.status).toBe(200);
    expect(await toldPrivately(stray.id)).toBe('This anomaly was not alerted in this conversation, so it cannot be decided here.');
    expect(await app.anomalies.get(team.id)).toEqual(before);
    expect(fake.responsesTo(stray.id).some((post) => post.body.replace_original === true)).toBe(false);
  });

  it('answers a button whose value is not an anomaly id with a private sentence', async () => {
    const odd = await click('acknowledge', team, TEAM_CHANNEL, { value: 'twelve' });
    expect(odd.status).toBe(200);
    expect(await toldPrivately(odd.id)).toBe('This button cannot be used here.');
  });

  it('Acknowledge: acked at once, recorded with who clicked, the alert redrawn without the button; a second click changes nothing', async () => {
    const first = await click('acknowledge', team, TEAM_CHANNEL);
    expect(first.status).toBe(200);
    expect(first.body).toBe('');
    expect(first.elapsed).toBeLessThan(3_000);
    const message = await redrawn(first.id);
    expect(status(message)).toBe('Acknowledged');
    expect(textOf(message)).toContain(`Acknowledged by <@${ALICE}>`);
    expect(buttonsOf(message).map((button) => button.action_id)).toEqual([ANOMALY_ACTIONS.snooze, ANOMALY_ACTIONS.dismiss]);
    const acknowledged = (await app.anomalies.get(team.id))!;
    expect(acknowledged).toMatchObject({ status: 'acknowledged', statusBy: ALICE, statusAt: clock.now() });

    const again = await click('acknowledge', team, TEAM_CHANNEL);
    expect(again.status).toBe(200);
    expect(await toldPrivately(again.id)).toBe('That was already recorded; nothing changed.');
    expect((await app.anomalies.get(team.id))!.version).toBe(acknowledged.version);
  });

  it('Snooze 7 days: snoozed until a week from now, with the other buttons left', async () => {
    await settle(); // the acknowledgement's delivery pass is over: the next test sees only this click's
    const snooze = await click('snooze', team, TEAM_CHANNEL, { user: BOB });
    const message = await redrawn(snooze.id);
    expect(status(message)).toMatch(/^Snoozed until /);
    expect(textOf(message)).toContain(`Snoozed by <@${BOB}>`);
    expect(buttonsOf(message).map((button) => button.action_id)).toEqual([ANOMALY_ACTIONS.acknowledge, ANOMALY_ACTIONS.dismiss]);
    expect(await app.anomalies.get(team.id)).toMatchObject({ status: 'snoozed', statusBy: BOB, snoozedUntil: new Date(clock.now().getTime() + SNOOZE_DAYS * 86_400_000) });
  });

  it("shows a decision on the alert's copies in the other channels, without waiting for a sweep", async () => {
    // The snooze above was clicked in the team's channel; the click's own delivery pass redraws the rest.
    for (const channel of [FALLBACK, ...SHARED]) {
      const ts = await messageTs(team, channel);
      const latest = () => updates(channel, ts).at(-1);
      await fake.waitFor(() => latest() && textOf(latest()!.args).includes(`Snoozed by <@${BOB}>`));
      expect(status(latest()!.args), channel).toMatch(/^Snoozed until /);
      expect(buttonsOf(latest()!.args).map((button) => button.action_id), channel).toEqual([ANOMALY_ACTIONS.acknowledge, ANOMALY_ACTIONS.dismiss]);
    }
    expect(posts(FALLBACK, team)).toHaveLength(1);
  });

  it('Not an anomaly: dismissed, and the buttons are gone', async () => {
    const dismiss = await click('dismiss', team, TEAM_CHANNEL);
    const message = await redrawn(dismiss.id);
    expect(status(message)).toBe('Not an anomaly');
    expect(textOf(message)).toContain(`Marked not an anomaly by <@${ALICE}>`);
    expect(buttonsOf(message)).toEqual([]);
    expect(await app.anomalies.get(team.id)).toMatchObject({ status: 'dismissed', statusBy: ALICE });
  });
});

describe('feedback to AWS Cost Anomaly Detection', () => {
  const feedback = () => ce.commandCalls(ProvideAnomalyFeedbackCommand).map((call) => call.args[0].input);

  beforeAll(async () => {
    // AWS found the untagged anomaly too.
    await app.anomalies.saveDetected([{ ...untagged, source: 'both', awsAnomalyId: AWS_ID }], clock.now());
    await settle();
  });

  it('sends nothing on Snooze, YES on Acknowledge and NO on Not an anomaly', async () => {
    await redrawn((await click('snooze', untagged, FALLBACK)).id);
    expect(feedback()).toEqual([]);
    await redrawn((await click('acknowledge', untagged, FALLBACK)).id);
    expect(feedback()).toEqual([{ AnomalyId: AWS_ID, Feedback: 'YES' }]);
    await redrawn((await click('dismiss', untagged, FALLBACK)).id);
    expect(feedback()).toEqual([
      { AnomalyId: AWS_ID, Feedback: 'YES' },
      { AnomalyId: AWS_ID, Feedback: 'NO' },
    ]);
    expect(await app.anomalies.get(untagged.id)).toMatchObject({ status: 'dismissed', source: 'both' });
  });

  it('still records the decision and redraws the alert when AWS throttles the feedback', async () => {
    const warnings = () => logs.filter((line) => line.includes('could not send anomaly feedback to AWS')).length;
    const [sent, warned] = [feedback().length, warnings()];
    ce.on(ProvideAnomalyFeedbackCommand).rejects(new LimitExceededException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400, attempts: 5 } }));
    const acknowledge = await click('acknowledge', untagged, FALLBACK, { user: BOB });
    const message = await redrawn(acknowledge.id);
    expect(status(message)).toBe('Acknowledged');
    expect(textOf(message)).toContain(`Acknowledged by <@${BOB}>`);
    expect(await app.anomalies.get(untagged.id)).toMatchObject({ status: 'acknowledged', statusBy: BOB });
    expect(feedback().slice(sent)).toEqual([{ AnomalyId: AWS_ID, Feedback: 'YES' }]);
    expect(warnings()).toBe(warned + 1);
  });

  // On PGlite the bot answers one click at a time, so the two cannot cross; on PostgreSQL they do.
  it('shows the latest decision in every channel when a decision slowed by AWS crosses a quicker one', async () => {
    await settle();
    const ts = await messageTs(untagged, FALLBACK);
    const sent = feedback().length;
    // Telling AWS takes a while (a slow answer, or the SDK waiting out a throttle).
    ce.on(ProvideAnomalyFeedbackCommand).callsFake(async () => {
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      return { $metadata: { attempts: 1 }, AnomalyId: AWS_ID };
    });
    const slow = await click('dismiss', untagged, FALLBACK);
    await fake.waitFor(() => feedback().length > sent); // dismissed in the store; AWS is being told
    // Bob snoozes it from another channel meanwhile.
    await redrawn((await click('snooze', untagged, SHARED[0]!, { user: BOB })).id);
    await redrawn(slow.id);
    await settle();
    // What the fallback channel shows: the last of its message's updates and the slow click's redraw.
    const writes = [
      ...updates(FALLBACK, ts).map((call) => ({ at: call.at, message: call.args })),
      ...fake.responsesTo(slow.id).filter((post) => post.body.replace_original === true).map((post) => ({ at: post.at, message: post.body })),
    ].sort((a, b) => a.at - b.at);
    expect((await app.anomalies.get(untagged.id))!.status).toBe('snoozed');
    expect(status(writes.at(-1)!.message), 'what the fallback channel shows last').toMatch(/^Snoozed until /);
  });
});

// Last: it adds anomalies of its own, which the counts above must not see.
describe('channel confinement', () => {
  it("keeps FINOPS_CHANNEL_TEAMS: a confined channel gets only its own teams' anomalies, and never an organisation-wide one", async () => {
    const confinedToTeam = 'C0CONFTEAM';
    const confinedElsewhere = 'C0CONFELSE';
    const open = 'C0CONFOPEN';
    for (const conversationId of [confinedToTeam, confinedElsewhere, open]) {
      await app.digests.subscribe({ platform: 'slack', conversationId, cadence: 'daily', team: team.team!, timeZone: 'UTC', createdBy: ALICE });
    }
    const rules = new Map([
      [confinedToTeam, [team.team!]],
      [confinedElsewhere, [otherTeam]],
    ]);
    const monitor = instance(app.database, 'confined', undefined, rules);
    // The team's own anomaly, and one of its service across all teams (which shows every team's share).
    const { id: _id, status: _status, statusBy: _by, statusAt: _at, snoozedUntil: _until, version: _version, detectedAt: _detected, updatedAt: _updated, ...detected } = team;
    const [teamBound, orgWide] = await app.anomalies.saveDetected(
      [
        { ...detected, key: `${team.key}\u001fconfined` },
        { ...detected, key: `${team.key}\u001forg-wide`, scope: { kind: 'service', value: 'value' in team.scope ? team.scope.value : 'EC2' } },
      ],
      clock.now(),
    );
    await monitor.routeAlerts([teamBound!, orgWide!], team.lastDay);
    const targets = async (record: AnomalyRecord) => (await app.anomalies.alertsOf(record.id)).map((alert) => alert.conversationId).sort();
    const subscribed = (await app.digests.conversationsFor(team.team!)).map((target) => target.conversationId);
    expect(subscribed).toEqual(expect.arrayContaining([confinedToTeam, confinedElsewhere, open]));
    expect(await targets(teamBound!)).toEqual(subscribed.filter((id) => id !== confinedElsewhere).sort());
    expect(await targets(orgWide!)).toEqual(subscribed.filter((id) => id !== confinedElsewhere && id !== confinedToTeam).sort());
  });
});
