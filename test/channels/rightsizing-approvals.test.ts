/**
 * Rightsizing approvals end to end: the demo's recommendations synced at a fixed clock into
 * the real database, and the real Bolt app on a local port receiving signed `/finops`
 * commands, Approve / Reject clicks and the reject modal's `view_submission`s. Only Slack is
 * fake (a local server recording Web API calls and `response_url` posts).
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DemoInstanceExecutor } from '../../src/adapters/demo/demo-rightsizing.js';
import { RightsizingDesk } from '../../src/app/rightsizing/desk.js';
import { RIGHTSIZING_ACTIONS } from '../../src/app/rightsizing/present.js';
import { startHttpServer } from '../../src/channels/http/http-server.js';
import { SLACK_EVENTS_PATH, type SlackChannel } from '../../src/channels/slack/slack-channel.js';
import { REJECT_MODAL_ID } from '../../src/channels/slack/slack-rightsizing.js';
import { loadConfig } from '../../src/config.js';
import { parseAmount } from '../../src/core/money.js';
import { createLogger } from '../../src/logger.js';
import { createFinOpsApp, type FinOpsApp, slackChannelFor } from '../../src/main.js';
import type { AuditEntry, InstanceChange, RightsizingRecord } from '../../src/ports.js';
import { FAKE_TEAM_ID, type FakeSlack, startFakeSlack } from '../support/fake-slack.js';
import { buttonClick, postToSlackRoute, slackTestEnv, slashCommand } from '../support/slack-requests.js';
import { openBotState } from '../support/test-database.js';
import { FixedClock } from '../support/world.js';

const START = '2026-11-23T10:00:00Z';
const clock = new FixedClock(new Date(START));
const CHANNEL = 'C0RIGHTSZ1';
const ALICE = 'U0ALICE01';
const BOB = 'U0BOB0001';
const CAROL = 'U0CAROL01';
const DAVE = 'U0DAVE001';
const MALLORY = 'U0MALLORY1';
const LEADS = 'S0LEADS01';
const APPROVERS = `payments=${ALICE};ml-platform=${ALICE},${BOB};*=${LEADS}`;

type Block = { type: string; text?: { text: string }; elements?: { action_id?: string; value?: string }[] };
type Body = Record<string, unknown>;

/** One bot: its app and database, its Slack channel and the HTTP route Slack posts to. */
interface Bot {
  app: FinOpsApp;
  slack: SlackChannel;
  http: Awaited<ReturnType<typeof startHttpServer>>;
  url: string;
  dispose(): Promise<void>;
}

let fake: FakeSlack;
let bot: Bot;
const logger = createLogger('silent');

async function startBot(prefix: string, env: Record<string, string>, overrides: Parameters<typeof createFinOpsApp>[2] = {}): Promise<Bot> {
  const state = await openBotState(prefix);
  const config = loadConfig({ ...slackTestEnv(fake.apiUrl), ...state.env, FINOPS_COST_SOURCE: 'demo', FINOPS_APPROVERS: APPROVERS, ...env });
  const app = await createFinOpsApp(config, logger, { clock, slackWebApiRetries: 0, ...overrides });
  const slack = slackChannelFor(config.slack!, app, logger, { slackWebApiRetries: 0 });
  app.useApproverDirectory(slack.directory);
  app.useAlertNotifiers(new Map([['slack', slack.alerts]]));
  const http = await startHttpServer({ port: 0, health: { databaseReachable: () => app.database.ping() }, routes: { [SLACK_EVENTS_PATH]: slack.route! } });
  const dispose = async () => {
    await slack.stop();
    await http.close();
    await app.close();
    await state.dispose();
  };
  return { app, slack, http, url: `http://127.0.0.1:${http.port}${SLACK_EVENTS_PATH}`, dispose };
}

beforeAll(async () => {
  fake = await startFakeSlack();
  // The leads group: Carol and Dave.
  fake.setAnswer('usergroups.users.list', { ok: true, users: [CAROL, DAVE] });
  bot = await startBot('finops-rightsizing-', {}, { backfillDays: 7 });
  // Costs (the teams `rightsizing for TEAM` knows), then the demo's 15 recommendations.
  await bot.app.sync();
  await bot.app.rightsizing.desk.sync({ force: true });
  expect(await bot.app.rightsizing.store.list({})).toHaveLength(15);
}, 120_000);

afterAll(async () => {
  await bot?.dispose();
  await fake?.close();
});

const textOf = (body: Body) => `${String(body.text)} ${JSON.stringify(body.blocks ?? [])}`;
const blocksOf = (body: Body) => (body.blocks ?? []) as Block[];
const buttonsOf = (body: Body) => blocksOf(body).filter((block) => block.type === 'actions').flatMap((block) => block.elements ?? []);
/** The section of a list showing `record`. */
const sectionOf = (body: Body, record: RightsizingRecord) => blocksOf(body).find((block) => block.type === 'section' && block.text?.text.includes(record.instanceId))?.text?.text;
const isRightsizing = (button: { action_id?: string }) => (Object.values(RIGHTSIZING_ACTIONS) as (string | undefined)[]).includes(button.action_id);
const buttonsFor = (body: Body, record: RightsizingRecord) => buttonsOf(body).filter((button) => isRightsizing(button) && (JSON.parse(button.value!) as { id: number }).id === record.id);

/** The demo's recommendation whose instance is named `name`-…, as stored now. */
async function recommendation(name: string, target: Bot = bot): Promise<RightsizingRecord> {
  const found = (await target.app.rightsizing.store.list({})).find((record) => record.instanceName?.startsWith(`${name}-`));
  expect(found, `the demo recommends something for ${name}`).toBeDefined();
  return found!;
}
const current = async (record: RightsizingRecord, target: Bot = bot) => (await target.app.rightsizing.store.get(record.id))!;
const auditOf = async (record: RightsizingRecord, target: Bot = bot): Promise<AuditEntry[]> =>
  (await target.app.rightsizing.store.audit({ limit: 1_000 })).filter((entry) => entry.recommendationId === record.id);

let sent = 0;
/** A signed click on `record`'s button, as in the `rightsizing for TEAM` list of `channel`; `again` delivers the same request once more. */
async function click(user: string, action: keyof typeof RIGHTSIZING_ACTIONS, record: RightsizingRecord, options: { channel?: string; target?: Bot } = {}) {
  const id = `click-${++sent}`;
  const messageTs = `1700000${String(sent).padStart(3, '0')}.000100`;
  const triggerId = `${Date.now()}.${sent}.${randomBytes(16).toString('hex')}`;
  const value = JSON.stringify({ id: record.id, for: record.team });
  const body = buttonClick({ actionId: RIGHTSIZING_ACTIONS[action], value, responseUrl: fake.responseUrl(id), messageTs, userId: user, channelId: options.channel ?? CHANNEL, triggerId });
  const url = (options.target ?? bot).url;
  const deliver = async (headers: Record<string, string> = {}) => expect((await postToSlackRoute(url, body, { headers })).status).toBe(200);
  await deliver();
  return { id, messageTs, triggerId, again: deliver };
}

/** `/finops TEXT` in the channel; resolves with the answer posted to its response_url. */
async function command(text: string, user = ALICE): Promise<Body> {
  const id = `command-${++sent}`;
  expect((await postToSlackRoute(bot.url, slashCommand({ text, responseUrl: fake.responseUrl(id), userId: user, channelId: CHANNEL }))).status).toBe(200);
  return fake.waitFor(() => fake.responsesTo(id)[0]?.body);
}

/** The list as a click redrew it in place. */
const redrawn = (id: string) => fake.waitFor(() => fake.responsesTo(id).find((post) => post.body.replace_original === true)?.body);
/** What only the clicker was told. */
const toldPrivately = async (id: string) => textOf(await fake.waitFor(() => fake.responsesTo(id).find((post) => post.body.response_type === 'ephemeral')?.body));
const replaced = (id: string) => fake.responsesTo(id).some((post) => post.body.replace_original === true);

/** The reject modal a click opened (the `views.open` call with that click's trigger id). */
const modalOf = (triggerId: string) => fake.waitFor(() => fake.callsTo('views.open').find((call) => call.args.trigger_id === triggerId)?.args.view as Body | undefined);

/** The modal submitted by `user` with `reason` typed (null: left empty); resolves with the HTTP answer. */
async function submit(modal: Body, user: string, reason: string | null) {
  const payload = {
    type: 'view_submission',
    team: { id: FAKE_TEAM_ID, domain: 'fake' },
    user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: FAKE_TEAM_ID },
    api_app_id: 'A0FINOPS1',
    token: 'verification-token-not-used',
    trigger_id: `${Date.now()}.9.${randomBytes(16).toString('hex')}`,
    view: {
      ...modal,
      id: 'V0REJECT01',
      team_id: FAKE_TEAM_ID,
      state: { values: { reason: { reason_text: { type: 'plain_text_input', value: reason } } } },
      hash: '1700000000.abcdef',
      root_view_id: 'V0REJECT01',
      previous_view_id: null,
      app_id: 'A0FINOPS1',
      bot_id: 'BFINOPS01',
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
  const body = { body: new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), contentType: 'application/x-www-form-urlencoded' };
  const answer = await postToSlackRoute(bot.url, body);
  expect(answer.status).toBe(200);
  return answer.body === '' ? undefined : (JSON.parse(answer.body) as { response_action?: string; errors?: Record<string, string> });
}

/** Waits briefly so that anything the bot was still going to post has arrived. */
const quiet = () => new Promise((resolve) => setTimeout(resolve, 250));

describe('the list', () => {
  it('`rightsizing for payments` has one Approve and one Reject button for each open recommendation, and the rules in its footer', async () => {
    const answer = await command('rightsizing for payments');
    const pending = await bot.app.rightsizing.store.list({ team: 'payments', statuses: ['pending'] });
    expect(pending.length).toBeGreaterThan(0);
    const buttons = buttonsOf(answer).filter(isRightsizing);
    expect(buttons).toHaveLength(pending.length * 2);
    for (const record of pending) {
      expect(buttonsFor(answer, record).map((button) => button.action_id)).toEqual([RIGHTSIZING_ACTIONS.approve, RIGHTSIZING_ACTIONS.reject]);
      expect(buttonsFor(answer, record).map((button) => JSON.parse(button.value!))).toEqual([{ id: record.id, for: 'payments' }, { id: record.id, for: 'payments' }]);
      expect(sectionOf(answer, record)).toContain(record.instanceName);
    }
    expect(answer.response_type).toBe('ephemeral');
    const footer = JSON.stringify(blocksOf(answer).filter((block) => block.type === 'context'));
    expect(footer).toContain('demo organisation, as of 2026-11-23 10:00 UTC');
    expect(footer).toContain('two approvers from USD 1,000.00 a month');
    expect(footer).toContain('undecided ones expire after 14 days');
    expect(footer).toContain('approving records the decision; the change is made by hand');
  });
});

describe('Approve', () => {
  it("an approver's click approves at once: the list is redrawn in place with who and when, the buttons gone, one audit entry", async () => {
    const record = await recommendation('payments-api');
    const approve = await click(ALICE, 'approve', record);
    const message = await redrawn(approve.id);
    expect(sectionOf(message, record)).toContain(`✅ Approved by <@${ALICE}> at 2026-11-23 10:00 UTC`);
    // Approve and Reject are gone; with execution off, whoever makes the change marks it applied.
    expect(buttonsFor(message, record).map((button) => button.action_id)).toEqual([RIGHTSIZING_ACTIONS.applied]);
    expect(await current(record)).toMatchObject({ status: 'approved', decidedBy: ALICE, decidedAt: clock.now(), approvals: [{ userId: ALICE, at: clock.now() }] });
    expect(await auditOf(record)).toEqual([
      expect.objectContaining({
        actor: ALICE,
        action: 'approve',
        team: 'payments',
        before: { status: 'pending', approvals: [] },
        after: { status: 'approved', approvals: [ALICE] },
        source: { platform: 'slack', conversationId: CHANNEL, messageId: approve.messageTs },
      }),
    ]);
  });

  it('the same click delivered three more times (a double click, a retry) changes nothing and says so privately each time', async () => {
    const record = await recommendation('identity-auth');
    const approve = await click(CAROL, 'approve', record);
    await redrawn(approve.id);
    const approved = await current(record);
    expect(approved).toMatchObject({ status: 'approved', decidedBy: CAROL });
    await Promise.all([approve.again(), approve.again(), approve.again({ 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' })]);
    const notes = await fake.waitFor(() => {
      const told = fake.responsesTo(approve.id).filter((post) => post.body.response_type === 'ephemeral');
      return told.length === 3 && told.map((post) => textOf(post.body));
    });
    for (const note of notes) expect(note).toContain(`This was already approved by <@${CAROL}>; nothing changed.`);
    expect(await current(record)).toEqual(approved);
    expect((await auditOf(record)).map((entry) => entry.action)).toEqual(['approve']);
  });

  it("refuses someone who is not the team's approver, privately, naming the approvers; nothing changes", async () => {
    const record = await recommendation('payments-sandbox');
    const before = await current(record);
    const stranger = await click(MALLORY, 'approve', record);
    const note = await toldPrivately(stranger.id);
    expect(note).toContain('Only approvers of *payments* can decide this, so nothing changed.');
    expect(note).toContain(`<@${ALICE}>`);
    expect(note).toContain(`<!subteam^${LEADS}>`);
    await quiet();
    expect(replaced(stranger.id)).toBe(false);
    expect(await current(record)).toEqual(before);
    expect(await auditOf(record)).toEqual([]);
  });

  it('two approvers clicking at once: one approval, the other told it was already approved', async () => {
    const record = await recommendation('feature-store');
    expect(record.approvalsNeeded).toBe(1);
    const [alice, bob] = await Promise.all([click(ALICE, 'approve', record), click(BOB, 'approve', record)]);
    await Promise.all([redrawn(alice.id), redrawn(bob.id)]);
    const approved = await current(record);
    expect(approved.status).toBe('approved');
    expect(approved.approvals).toHaveLength(1);
    const [winner, loser] = approved.decidedBy === ALICE ? [alice, bob] : [bob, alice];
    expect(await toldPrivately(loser.id)).toContain(`This was already approved by <@${approved.decidedBy}>; nothing changed.`);
    const audit = await auditOf(record);
    expect(audit).toEqual([expect.objectContaining({ actor: approved.decidedBy, action: 'approve', before: { status: 'pending', approvals: [] }, after: { status: 'approved', approvals: [approved.decidedBy] } })]);
    expect(audit[0]!.source?.messageId).toBe(winner.messageTs);
  });
});

describe('the two-approver rule', () => {
  it('a saving of USD 1,000 or more a month waits for a second approver; the same one twice does not count', async () => {
    const record = await recommendation('ml-notebook');
    expect(record.monthlySavings).toBeGreaterThanOrEqual(parseAmount('1000'));
    expect(record.approvalsNeeded).toBe(2);

    const first = await click(ALICE, 'approve', record);
    expect(sectionOf(await redrawn(first.id), record)).toContain(`Waiting for approval: needs 2 approvers, approved so far by <@${ALICE}>.`);
    expect(await toldPrivately(first.id)).toContain('Your approval is recorded (1 of 2): a saving this size needs another approver too.');
    expect(await current(record)).toMatchObject({ status: 'pending', approvals: [{ userId: ALICE }] });

    const again = await click(ALICE, 'approve', record);
    expect(await toldPrivately(again.id)).toContain('You have already approved this (1 of 2); it needs another approver.');
    expect(await current(record)).toMatchObject({ status: 'pending', approvals: [{ userId: ALICE }] });

    const second = await click(BOB, 'approve', record);
    const message = await redrawn(second.id);
    expect(sectionOf(message, record)).toContain(`✅ Approved by <@${ALICE}> and <@${BOB}> at 2026-11-23 10:00 UTC`);
    // Approve and Reject are gone; with execution off, whoever makes the change marks it applied.
    expect(buttonsFor(message, record).map((button) => button.action_id)).toEqual([RIGHTSIZING_ACTIONS.applied]);
    expect(await current(record)).toMatchObject({ status: 'approved', decidedBy: BOB });
    expect((await auditOf(record)).reverse()).toEqual([
      expect.objectContaining({ actor: ALICE, action: 'approve', before: { status: 'pending', approvals: [] }, after: { status: 'pending', approvals: [ALICE] }, note: expect.stringMatching(/: approval 1 of 2$/) }),
      expect.objectContaining({ actor: BOB, action: 'approve', before: { status: 'pending', approvals: [ALICE] }, after: { status: 'approved', approvals: [ALICE, BOB] } }),
    ]);
  });

  it('two approvers (members of the leads group) approving at once both count: approved, no lost update', async () => {
    const record = await recommendation('etl-runner');
    expect(record.approvalsNeeded).toBe(2);
    const clicks = await Promise.all([click(CAROL, 'approve', record), click(DAVE, 'approve', record)]);
    await Promise.all(clicks.map((one) => redrawn(one.id)));
    const approved = await current(record);
    expect(approved.status).toBe('approved');
    expect(approved.approvals.map((approval) => approval.userId).sort()).toEqual([CAROL, DAVE]);
    const audit = (await auditOf(record)).reverse();
    expect(audit.map((entry) => [entry.action, (entry.after as { status: string }).status])).toEqual([
      ['approve', 'pending'],
      ['approve', 'approved'],
    ]);
    expect(audit.map((entry) => entry.actor).sort()).toEqual([CAROL, DAVE]);
  });
});

describe('approver groups', () => {
  it('a member of a configured user group (*=S0LEADS01) may approve; its members are read from Slack', async () => {
    const record = await recommendation('checkout-web');
    const approve = await click(CAROL, 'approve', record);
    expect(sectionOf(await redrawn(approve.id), record)).toContain(`✅ Approved by <@${CAROL}>`);
    expect(await current(record)).toMatchObject({ status: 'approved', decidedBy: CAROL });
    expect(fake.callsTo('usergroups.users.list').some((call) => call.args.usergroup === LEADS)).toBe(true);
  });

  it('an approved change made by hand is marked applied by an approver, once; a stranger cannot, and a pending one cannot be', async () => {
    const record = await recommendation('search-indexer');
    const early = await click(CAROL, 'applied', record);
    expect(await toldPrivately(early.id)).toContain('It must be approved before it can be marked applied; nothing changed.');
    const approve = await click(CAROL, 'approve', record);
    await redrawn(approve.id);

    const stranger = await click(MALLORY, 'applied', record);
    expect(await toldPrivately(stranger.id)).toContain('Only approvers of *search* can decide this, so nothing changed.');
    expect((await current(record)).status).toBe('approved');

    const done = await click(DAVE, 'applied', record);
    const message = await redrawn(done.id);
    expect(sectionOf(message, record)).toContain(`✅ Approved by <@${CAROL}>; applied by hand at 2026-11-23 10:00 UTC.`);
    expect(buttonsFor(message, record)).toEqual([]);
    expect(await current(record)).toMatchObject({ status: 'applied', appliedAt: clock.now(), execution: [] });
    await done.again();
    expect(await toldPrivately(done.id)).toContain('This was already applied');
    expect((await auditOf(record)).map((entry) => [entry.actor, entry.action, entry.note?.endsWith('applied by hand') ?? false])).toEqual([
      [DAVE, 'apply', true],
      [CAROL, 'approve', false],
    ]);
  });
});

describe('Reject', () => {
  it('opens a modal for the reason, refuses an empty one in the modal, then rejects with it and redraws the list', async () => {
    const record = await recommendation('payments-worker');
    const reject = await click(ALICE, 'reject', record);
    const modal = await modalOf(reject.triggerId);
    expect(modal).toMatchObject({ type: 'modal', callback_id: REJECT_MODAL_ID });
    expect(JSON.stringify(modal.blocks)).toContain(record.instanceId);
    expect(JSON.parse(String(modal.private_metadata))).toEqual({ id: record.id, scope: 'payments', channel: CHANNEL, messageTs: reject.messageTs, responseUrl: fake.responseUrl(reject.id) });

    for (const empty of ['   ', null]) {
      expect(await submit(modal, ALICE, empty)).toEqual({ response_action: 'errors', errors: { reason: 'Say why, so the team knows.' } });
    }
    const refused = await submit(modal, MALLORY, 'not mine to say');
    expect(refused?.response_action).toBe('errors');
    expect(refused?.errors?.reason).toContain('Only approvers of payments can decide this');
    expect(await current(record)).toMatchObject({ status: 'pending' });
    expect(await auditOf(record)).toEqual([]);

    const reason = 'peak season: needs the headroom until January';
    expect(await submit(modal, ALICE, reason)).toBeUndefined();
    expect(await current(record)).toMatchObject({ status: 'rejected', decidedBy: ALICE, reason });
    expect(await auditOf(record)).toEqual([
      expect.objectContaining({
        actor: ALICE,
        action: 'reject',
        before: { status: 'pending', approvals: [] },
        after: { status: 'rejected', approvals: [] },
        note: expect.stringMatching(new RegExp(`: ${reason}$`)),
        source: { platform: 'slack', conversationId: CHANNEL, messageId: reject.messageTs },
      }),
    ]);
    const message = await redrawn(reject.id);
    expect(sectionOf(message, record)).toContain(`❌ Rejected by <@${ALICE}> at 2026-11-23 10:00 UTC: ${reason}`);
    expect(buttonsFor(message, record)).toEqual([]);
  });

  it('a stranger clicking Reject is refused privately and gets no modal', async () => {
    const record = await recommendation('checkout-loadtest');
    const reject = await click(MALLORY, 'reject', record);
    expect(await toldPrivately(reject.id)).toContain('Only approvers of *checkout* can decide this, so nothing changed.');
    await quiet();
    expect(fake.callsTo('views.open').filter((call) => call.args.trigger_id === reject.triggerId)).toEqual([]);
    expect(await current(record)).toMatchObject({ status: 'pending' });
  });
});

// Last but one: it moves the clock on and expires whatever is still pending.
describe('expiry', () => {
  it('expires what nobody decided within 14 days (audited as the bot); a late Approve changes nothing', async () => {
    const pending = await bot.app.rightsizing.store.list({ statuses: ['pending'] });
    expect(pending.map((record) => record.instanceName)).toEqual(expect.arrayContaining([expect.stringMatching(/^payments-sandbox-/)]));
    clock.set('2026-12-07T10:00:01Z');
    expect(await bot.app.rightsizing.desk.expireDue()).toBe(pending.length);
    for (const record of pending) {
      expect(await current(record)).toMatchObject({ status: 'expired', decidedBy: 'system', reason: 'no decision within 14 days' });
      const audit = await auditOf(record);
      expect(audit.filter((entry) => entry.action === 'expire')).toHaveLength(1);
      expect(audit[0]).toMatchObject({ actor: 'system', action: 'expire', at: clock.now(), before: { status: 'pending' }, after: { status: 'expired' }, note: expect.stringMatching(/: no decision within 14 days$/) });
    }
    const record = await recommendation('payments-sandbox');
    const before = await current(record);
    const late = await click(ALICE, 'approve', record);
    expect(await toldPrivately(late.id)).toContain('This was already expired automatically; nothing changed.');
    expect(await current(record)).toEqual(before);
    expect((await auditOf(record)).map((entry) => entry.action)).toEqual(['expire']);
  });
});

describe('the audit log', () => {
  it('`audit for payments` lists every transition, newest first', async () => {
    const entries = await bot.app.rightsizing.store.audit({ team: 'payments', limit: 100 });
    const statusIn = (state: unknown) => (state as { status?: string } | undefined)?.status;
    // Every payments recommendation that left `pending` got where it is through its audit entries.
    for (const record of await bot.app.rightsizing.store.list({ team: 'payments' })) {
      const own = entries.filter((entry) => entry.recommendationId === record.id);
      expect(statusIn(own[0]?.after) ?? 'pending', record.instanceName).toBe(record.status);
      own.slice(0, -1).forEach((entry, index) => expect(statusIn(entry.before), record.instanceName).toBe(statusIn(own[index + 1]!.after)));
    }
    expect(entries.map((entry) => entry.action).sort()).toEqual(expect.arrayContaining(['approve', 'expire', 'reject']));
    const newestFirst = [...entries].sort((a, b) => b.at.getTime() - a.at.getTime() || b.id - a.id);
    expect(entries).toEqual(newestFirst);

    const answer = await command('audit for payments');
    const table = blocksOf(answer).find((block) => block.type === 'section' && block.text?.text.startsWith('```'))!.text!.text;
    const rows = table.split('\n').filter((line) => /^\d{4}-/.test(line)).map((line) => line.split(/ {2,}/));
    expect(rows).toEqual(
      entries.map((entry) => [
        entry.at.toISOString().slice(0, 16).replace('T', ' '),
        // Slack shows no mention inside a code block: a plain @id there.
        entry.actor === 'system' ? 'bot' : `@${entry.actor}`,
        entry.action,
        `${statusIn(entry.before)} → ${statusIn(entry.after)}`,
        entry.note,
      ]),
    );
  });

  it('the database refuses to change or delete audit entries', async () => {
    const count = (await bot.app.rightsizing.store.audit({ limit: 1_000 })).length;
    expect(count).toBeGreaterThan(0);
    const failure = async (statement: ReturnType<typeof sql>) => {
      try {
        await bot.app.database.db.execute(statement);
      } catch (error) {
        const cause = (error as { cause?: { message?: string } }).cause;
        return `${(error as Error).message} ${cause?.message ?? ''}`;
      }
      return 'accepted';
    };
    expect(await failure(sql`update rightsizing_audit set note = 'x'`)).toContain('rightsizing_audit is append-only: UPDATE is not allowed');
    expect(await failure(sql`delete from rightsizing_audit`)).toContain('rightsizing_audit is append-only: DELETE is not allowed');
    expect(await bot.app.rightsizing.store.audit({ limit: 1_000 })).toHaveLength(count);
  });
});

/** The demo's simulated EC2, taking a while over each change so that passes overlap. */
class SlowDemoExecutor {
  private readonly demo = new DemoInstanceExecutor({ clock });
  applied = 0;
  dryRun(change: InstanceChange) {
    return this.demo.dryRun(change);
  }
  async apply(change: InstanceChange) {
    this.applied++;
    await new Promise((resolve) => setTimeout(resolve, 300));
    return this.demo.apply(change);
  }
}

describe('carrying approved changes out (FINOPS_RIGHTSIZING_EXECUTE=apply)', () => {
  const APPLY_CHANNEL = 'C0APPLIED1';
  const FALLBACK = 'C0FALLBACK';
  const executor = new SlowDemoExecutor();
  let applying: Bot;
  /** What other instances reported (their reports are not wired to Slack). */
  const elsewhere: string[] = [];

  beforeAll(async () => {
    clock.set(START);
    applying = await startBot('finops-rightsizing-apply-', { FINOPS_RIGHTSIZING_EXECUTE: 'apply', FINOPS_ANOMALY_FALLBACK_CHANNEL: FALLBACK }, { instanceExecutor: executor });
    await applying.app.rightsizing.desk.sync({ force: true });
  }, 60_000);

  afterAll(async () => {
    await applying?.dispose();
  });

  /** Another instance's desk over the same database, carrying changes out on the same (simulated) EC2. */
  const instance = (holder: string, execute: 'off' | 'apply' = 'apply') => {
    const { desk, store, policy } = applying.app.rightsizing;
    const settings = { ...desk.settings, execute };
    return new RightsizingDesk({ store, costs: applying.app.store, policy, clock, logger, holder, settings, executor, report: async (team) => void elsewhere.push(team) });
  };
  const postsIn = (channel: string) => fake.callsTo('chat.postMessage').filter((call) => call.args.channel === channel);
  const stepsOf = (record: RightsizingRecord) => record.execution.map((step) => [step.step, step.ok]);
  const historyOf = async (record: RightsizingRecord) =>
    (await auditOf(record, applying)).reverse().map((entry) => [entry.actor, entry.action, (entry.after as { status: string }).status]);

  it('applies an approved change once, with its steps, and reports it in the channel it was approved in', async () => {
    const record = await recommendation('payments-api', applying);
    const { desk } = applying.app.rightsizing;
    const appliedBefore = executor.applied;
    const approve = await click(ALICE, 'approve', record, { channel: APPLY_CHANNEL, target: applying });
    expect(sectionOf(await redrawn(approve.id), record)).toContain(`✅ Approved by <@${ALICE}>`);
    // The approval's own pass is under way (the simulated EC2 takes a while): more passes start meanwhile, here and on another instance.
    await Promise.all([desk.executeApproved(), desk.executeApproved(), instance('another-instance').executeApproved()]);
    const report = await fake.waitFor(() => postsIn(APPLY_CHANNEL)[0]);
    await Promise.all([desk.executeApproved(), instance('yet-another-instance').executeApproved()]);
    await quiet();

    const applied = await current(record, applying);
    expect(applied).toMatchObject({ status: 'applied', appliedAt: clock.now() });
    expect(stepsOf(applied)).toEqual([
      ['stop', true],
      ['wait-stopped', true],
      ['modify', true],
      ['start', true],
    ]);
    expect(applied.execution.every((step) => step.detail.startsWith('demo: '))).toBe(true);
    expect(executor.applied - appliedBefore).toBe(1);
    expect(postsIn(APPLY_CHANNEL)).toHaveLength(1);
    expect(elsewhere).toEqual([]);
    const text = textOf(report.args);
    expect(text).toContain('Rightsizing applied');
    expect(text).toContain(`is changed: \`${record.currentType}\` → \`${record.targetType}\``);
    expect(text).toContain(`demo: changed ${record.instanceId} from ${record.currentType} to ${record.targetType} (simulated)`);
    expect(await historyOf(record)).toEqual([
      [ALICE, 'approve', 'approved'],
      ['system', 'apply', 'applied'],
    ]);
  });

  it('an approved change left waiting (approved where execution is off) is carried out once when three instances sweep at once', async () => {
    const record = await recommendation('payments-worker', applying);
    const decided = await instance('execution-off', 'off').decide({ id: record.id, decision: 'approve', userId: ALICE, source: { platform: 'console' } });
    expect(decided).toMatchObject({ ok: true, changed: true, record: { status: 'approved' } });
    const [appliedBefore, reportsBefore] = [executor.applied, postsIn(FALLBACK).length + elsewhere.length];
    await Promise.all([applying.app.rightsizing.desk.executeApproved(), instance('sweeper-2').executeApproved(), instance('sweeper-3').executeApproved()]);
    await quiet();
    expect(await current(record, applying)).toMatchObject({ status: 'applied' });
    expect(stepsOf(await current(record, applying))).toHaveLength(4);
    expect(executor.applied - appliedBefore).toBe(1);
    expect(postsIn(FALLBACK).length + elsewhere.length - reportsBefore).toBe(1);
    expect(await historyOf(record)).toEqual([
      [ALICE, 'approve', 'approved'],
      ['system', 'apply', 'applied'],
    ]);
  });
});
