/**
 * `rightsizing`, `approvers` and `audit` as people type them, through the whole app built by
 * createFinOpsApp over the demo organisation at a fixed clock, on the console and in Slack
 * conversations: what is listed and in which order, totals that add up to the lines, what a
 * channel confined to one team sees, who may change approvers (and the audit log that
 * remembers it), and the weekly digest's rightsizing line.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DemoRightsizingSource } from '../../../src/adapters/demo/demo-rightsizing.js';
import { loadConfig } from '../../../src/config.js';
import type { RequestContext } from '../../../src/app/engine.js';
import { createLogger } from '../../../src/logger.js';
import { createFinOpsApp, type FinOpsApp } from '../../../src/main.js';
import { formatAmount, sumAmounts, toCents } from '../../../src/core/money.js';
import { mention, type Reply, type ReplyBlock } from '../../../src/core/reply.js';
import type { RightsizingCandidate, RightsizingRecord } from '../../../src/ports.js';
import { renderText } from '../../../src/render/text.js';
import { openBotState, testDatabaseKind } from '../../support/test-database.js';
import { centsIn, FixedClock } from '../../support/world.js';

/** Monday 23 November 2026, 08:00 UTC. */
const T = new Date('2026-11-23T08:00:00Z');
const ADMIN = 'U0ADMIN01';
const ALICE = 'U0ALICE01'; // configured for payments
const FINOPS = 'U0FINOPS1'; // configured for every team
const BOB = 'U0BOB0001';
const MALLORY = 'U0MALLORY';
const PAYMENTS_CHANNEL = 'C0PAYMENTS';
const GENERAL = 'C0GENERAL1';

const consoleContext: RequestContext = { channel: 'console' };
const slack = (userId: string, conversationId = GENERAL): RequestContext => ({ channel: 'slack', userId, conversationId });

type Table = Extract<ReplyBlock, { type: 'table' }>;
const tableOf = (reply: Reply): Table => {
  const found = reply.blocks.find((block): block is Table => block.type === 'table');
  if (!found) throw new Error(`no table in\n${renderText(reply)}`);
  return found;
};
/** The "saves USD x/month" of every listed recommendation, in cents, in the order shown. */
const lineSavings = (text: string): bigint[] => [...text.matchAll(/saves (USD [\d,]+\.\d\d)\/month/g)].map((match) => centsIn(match[1]!));
/** The headline: "N open recommendations could save USD x a month." */
const headline = (text: string): { open: number; cents: bigint } => {
  const match = /^(\d+) open recommendations? could save (USD [\d,]+\.\d\d) a month\.$/m.exec(text);
  if (!match) throw new Error(`no headline in\n${text}`);
  return { open: Number(match[1]), cents: centsIn(match[2]!) };
};
const sumCents = (cents: readonly bigint[]) => cents.reduce((total, value) => total + value, 0n);

const demo = await new DemoRightsizingSource().getRecommendations();
const ofTeam = (team: string) => demo.filter((candidate) => candidate.team === team);
const biggestFirst = (candidates: readonly RightsizingCandidate[]) => [...candidates].sort((a, b) => (a.monthlySavings > b.monthlySavings ? -1 : a.monthlySavings < b.monthlySavings ? 1 : 0));

describe(`rightsizing commands on ${testDatabaseKind}`, () => {
  let state: Awaited<ReturnType<typeof openBotState>>;
  let app: FinOpsApp;
  const clock = new FixedClock(T);
  const handle = (line: string, context: RequestContext = consoleContext) => app.engine.handle(line, context);
  const run = async (line: string, context: RequestContext = consoleContext) => renderText(await handle(line, context));
  const recordNamed = async (prefix: string): Promise<RightsizingRecord> => {
    const found = (await app.rightsizing.store.list({})).find((record) => record.instanceName?.startsWith(prefix) && record.status !== 'expired');
    if (!found) throw new Error(`no record ${prefix}`);
    return found;
  };
  const approve = async (prefix: string, userId: string) =>
    app.rightsizing.desk.decide({ id: (await recordNamed(prefix)).id, decision: 'approve', userId, source: { platform: 'slack', conversationId: GENERAL, messageId: '1795406531.000100' } });

  beforeAll(async () => {
    state = await openBotState('finops-rightsizing-');
    const config = loadConfig({
      ...state.env,
      FINOPS_ADMINS: ADMIN,
      FINOPS_APPROVERS: `payments=${ALICE};*=${FINOPS}`,
      FINOPS_CHANNEL_TEAMS: `${PAYMENTS_CHANNEL}=payments`,
    });
    app = await createFinOpsApp(config, createLogger('silent'), { clock, backfillDays: 60 });
    await app.sync();
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await state?.dispose();
  });
  beforeEach(async () => {
    clock.set(T.toISOString());
    await app.database.db.execute(sql.raw('truncate rightsizing_audit, rightsizing_recommendations, rightsizing_approvers, rightsizing_syncs'));
    expect(await app.rightsizing.desk.sync({ force: true })).toBe(true);
  });

  describe('rightsizing', () => {
    it('lists every open recommendation biggest saving first, under a total that is the sum of all of them', async () => {
      const reply = await handle('rightsizing');
      const text = renderText(reply);

      expect(reply.title).toBe('Rightsizing recommendations');
      const top = headline(text);
      expect(top.open).toBe(15);
      // The total is the demo's, to the cent: USD 4,494.17.
      expect(top.cents).toBe(sumCents(demo.map((candidate) => toCents(candidate.monthlySavings))));
      expect(top.cents).toBe(449_417n);

      // Twelve with buttons' room in one message, the biggest; the rest are counted.
      const shown = lineSavings(text);
      const expected = biggestFirst(demo);
      expect(shown).toEqual(expected.slice(0, 12).map((candidate) => toCents(candidate.monthlySavings)));
      expect(text).toContain('… and 3 more, worth less each; ask `rightsizing for TEAM`.');
      expect(sumCents(shown) + sumCents(expected.slice(12).map((candidate) => toCents(candidate.monthlySavings)))).toBe(top.cents);
      // Each names its team, and the ones above USD 1,000 say they need two approvers.
      const ml = expected[0]!;
      expect(text).toContain(`${ml.instanceName} \`${ml.instanceId}\` · ml-platform · ${ml.region}`);
      expect(text.match(/Waiting for approval: needs 2 approvers\./g)).toHaveLength(2);
      expect(text).toContain('two approvers from USD 1,000.00 a month; undecided ones expire after 14 days');
      expect(text).toContain('as of 2026-11-23 08:00 UTC');
      expect(text).toContain('approving records the decision; the change is made by hand');
      // No buttons in a terminal: it says where to click instead.
      expect(reply.blocks.some((block) => block.type === 'actions')).toBe(false);
      expect(text).toContain('approve or reject with the buttons in Slack');
    });

    it('puts Approve and Reject buttons under each open one in Slack', async () => {
      const reply = await handle('rightsizing for payments', slack(ALICE));
      const actions = reply.blocks.flatMap((block) => (block.type === 'actions' ? [block.buttons] : []));
      expect(actions).toHaveLength(3);
      const records = await app.rightsizing.store.list({ team: 'payments' });
      expect(actions.map((buttons) => buttons.map((button) => button.text))).toEqual([
        ['Approve', 'Reject…'],
        ['Approve', 'Reject…'],
        ['Approve', 'Reject…'],
      ]);
      expect(actions.map((buttons) => JSON.parse(buttons[0]!.value!))).toEqual(records.map((record) => ({ id: record.id, for: 'payments' })));
    });

    it('for payments lists only payments’ ones, and the lines add up to the total exactly', async () => {
      const reply = await handle('rightsizing for payments');
      const text = renderText(reply);

      expect(reply.title).toBe('Rightsizing recommendations · payments');
      const shown = lineSavings(text);
      expect(shown).toEqual(biggestFirst(ofTeam('payments')).map((candidate) => toCents(candidate.monthlySavings)));
      expect(shown).toEqual([24_820n, 14_016n, 12_147n]);
      const top = headline(text);
      expect(top).toEqual({ open: 3, cents: sumCents(shown) });
      expect(formatAmount(sumAmounts(ofTeam('payments').map((candidate) => candidate.monthlySavings)), 'USD')).toBe('USD 509.83');
      for (const other of demo.filter((candidate) => candidate.team !== 'payments')) expect(text).not.toContain(other.instanceId);
      // The team is in the title, not repeated on every line.
      expect(text).not.toContain('· payments ·');
    });

    it('shows a decision under the open ones, with who made it, and leaves it out of the total', async () => {
      expect(await approve('payments-worker-', ALICE)).toMatchObject({ ok: true, changed: true });
      const text = await run('rightsizing for payments');

      expect(headline(text)).toEqual({ open: 2, cents: 14_016n + 12_147n });
      expect(lineSavings(text)).toEqual([14_016n, 12_147n, 24_820n]);
      const decided = text.slice(text.indexOf('\nDecided\n'));
      expect(decided).toContain('payments-worker-');
      expect(decided).toContain(`✅ Approved by @${ALICE} at 2026-11-23 08:00 UTC.`);
    });

    it('in a channel confined to payments shows payments’ only, and refuses other teams without naming them', async () => {
      const confined = slack(ALICE, PAYMENTS_CHANNEL);
      const reply = await handle('rightsizing', confined);
      const text = renderText(reply);
      expect(reply.title).toBe('Rightsizing recommendations · payments');
      expect(headline(text)).toEqual({ open: 3, cents: 50_983n });
      for (const other of demo.filter((candidate) => candidate.team !== 'payments')) expect(text).not.toContain(other.instanceId);

      const refused = await handle('rightsizing for search', confined);
      expect(refused.kind).toBe('error');
      expect(renderText(refused)).toContain('This conversation can see `payments` only.');
      expect(renderText(refused)).not.toContain('search-');
      // Elsewhere the same person sees every team.
      expect(headline(await run('rightsizing', slack(ALICE)))).toMatchObject({ open: 15 });
      // `status` counts only what the channel may see, too.
      expect(await run('status', confined)).toMatch(/Rightsizing\s+3 open, USD 509\.83 a month;/);
      expect(await run('status', slack(ALICE))).toMatch(/Rightsizing\s+15 open, USD 4,494\.17 a month;/);
    });
  });

  describe('approvers', () => {
    it('refuses a change from someone who is not an admin in Slack, and records nothing', async () => {
      const reply = await handle('approvers add payments <@U0BOB0001|bob smith>', slack(MALLORY));
      expect(reply.kind).toBe('error');
      expect(renderText(reply)).toContain('Only admins (FINOPS_ADMINS) can change approvers.');
      expect(await app.rightsizing.store.listApprovers()).toEqual([]);
      expect(await app.rightsizing.store.audit({ limit: 10 })).toEqual([]);
      // Nor may a team's approver name more approvers.
      expect((await handle(`approvers add payments ${BOB}`, slack(ALICE))).kind).toBe('error');
      expect(await app.rightsizing.store.listApprovers()).toEqual([]);
    });

    it('lets an admin add and remove approvers in Slack, each change audited with who, what, before and after', async () => {
      expect((await approve('payments-api-', BOB)).ok).toBe(false);

      const added = await run('approvers add payments <@U0BOB0001|bob smith>', slack(ADMIN));
      expect(added).toContain(`@${BOB} may now approve rightsizing for payments.`);
      expect(added).toContain('recorded in the audit log (`audit`)');
      expect(await app.rightsizing.store.listApprovers()).toEqual([{ team: 'payments', approvers: [{ kind: 'user', id: BOB }], setBy: ADMIN, setAt: T }]);
      // Bob may decide now.
      expect(await approve('payments-api-', BOB)).toMatchObject({ ok: true, changed: true });

      // Adding him again changes nothing and writes nothing.
      const again = await run(`approvers add payments ${BOB}`, slack(ADMIN));
      expect(again).toContain(`@${BOB} already approves for payments; nothing changed.`);
      expect(again).toContain('the audit log is unchanged');

      clock.set('2026-11-23T09:30:00Z');
      const removed = await run(`approvers rm payments ${BOB}`, slack(ADMIN));
      expect(removed).toContain(`@${BOB} may no longer approve rightsizing for payments (unless configured in FINOPS_APPROVERS).`);
      expect(await app.rightsizing.store.listApprovers()).toEqual([]);
      expect((await approve('payments-sandbox-', BOB)).ok).toBe(false);

      const audit = tableOf(await handle('audit'));
      expect(audit.columns.map((column) => column.title)).toEqual(['When (UTC)', 'Team', 'Who', 'What', 'Change', 'Details']);
      const approverRows = audit.rows.filter((row) => row[3] === 'approvers');
      expect(approverRows).toEqual([
        ['2026-11-23 09:30', 'payments', `${mention(ADMIN)}`, 'approvers', '1 approver → 0 approvers', ''],
        ['2026-11-23 08:00', 'payments', `${mention(ADMIN)}`, 'approvers', '0 approvers → 1 approver', ''],
      ]);
      // Bob's approval is there too, between the two changes.
      expect(audit.rows.map((row) => row[3])).toEqual(['approvers', 'approve', 'approvers']);
      const entries = await app.rightsizing.store.audit({ limit: 10 });
      expect(entries.filter((entry) => entry.action === 'approvers').map((entry) => [entry.actor, entry.before, entry.after])).toEqual([
        [ADMIN, [{ kind: 'user', id: BOB }], []],
        [ADMIN, [], [{ kind: 'user', id: BOB }]],
      ]);
    });

    it('lets the console change approvers (the operator’s own terminal), audited as the console', async () => {
      const added = await run('approvers add search <!subteam^S0LEADS01|@search-leads> U0DAVE001');
      expect(added).toContain('@S0LEADS01, @U0DAVE001 may now approve rightsizing for search.');
      expect(await app.rightsizing.store.listApprovers()).toEqual([
        { team: 'search', approvers: [{ kind: 'group', id: 'S0LEADS01' }, { kind: 'user', id: 'U0DAVE001' }], setBy: 'console', setAt: T },
      ]);
      const [row] = tableOf(await handle('audit')).rows;
      expect(row).toEqual(['2026-11-23 08:00', 'search', 'console', 'approvers', '0 approvers → 2 approvers', '']);
    });

    it('shows a team’s approvers, the configured ones marked (config)', async () => {
      await handle(`approvers add payments ${BOB}`, slack(ADMIN));
      const reply = await handle('approvers for payments');
      expect(reply.title).toBe('Rightsizing approvers');
      expect(tableOf(reply).rows).toEqual([['payments', `${mention(ALICE)} (config), ${mention(FINOPS)} (config), ${mention(BOB)}`]]);
      expect(renderText(reply)).toContain(`@${ALICE} (config), @${FINOPS} (config), @${BOB}`);

      // A team nobody named: only every team's configured approver.
      expect(tableOf(await handle('approvers for checkout')).rows).toEqual([['checkout', `${mention(FINOPS)} (config)`]]);
      // Removing a configured approver from chat is not possible, and says so.
      expect(await run(`approvers rm payments ${ALICE}`, slack(ADMIN))).toContain('nothing changed');
      expect(tableOf(await handle('approvers for payments')).rows[0]![1]).toContain(`${mention(ALICE)} (config)`);
    });
  });

  describe('audit', () => {
    it('for a team shows only that team’s entries, newest first', async () => {
      await handle(`approvers add payments ${BOB}`, slack(ADMIN));
      clock.set('2026-11-23T08:10:00Z');
      await handle('approvers add search U0DAVE001', slack(ADMIN));
      clock.set('2026-11-23T08:20:00Z');
      expect(await approve('payments-worker-', ALICE)).toMatchObject({ ok: true, changed: true });
      clock.set('2026-11-23T08:30:00Z');
      expect(await approve('search-query-', FINOPS)).toMatchObject({ ok: true, changed: true });

      const payments = await handle('audit for payments');
      expect(payments.title).toBe('Rightsizing audit log · payments');
      const table = tableOf(payments);
      expect(table.columns.map((column) => column.title)).toEqual(['When (UTC)', 'Who', 'What', 'Change', 'Details']);
      const worker = await recordNamed('payments-worker-');
      expect(table.rows).toEqual([
        ['2026-11-23 08:20', `${mention(ALICE)}`, 'approve', 'pending → approved', `${worker.instanceName} (${worker.instanceId})`],
        ['2026-11-23 08:00', `${mention(ADMIN)}`, 'approvers', '0 approvers → 1 approver', ''],
      ]);
      expect(renderText(payments)).not.toContain('search');

      // Every team's: all four, newest first.
      const all = tableOf(await handle('audit'));
      expect(all.rows.map((row) => [row[0], row[1], row[3]])).toEqual([
        ['2026-11-23 08:30', 'search', 'approve'],
        ['2026-11-23 08:20', 'payments', 'approve'],
        ['2026-11-23 08:10', 'search', 'approvers'],
        ['2026-11-23 08:00', 'payments', 'approvers'],
      ]);
      // A channel confined to payments sees payments' entries, whatever it asks for.
      expect(tableOf(await handle('audit', slack(ALICE, PAYMENTS_CHANNEL))).rows).toEqual(table.rows);
      expect((await handle('audit for search', slack(ALICE, PAYMENTS_CHANNEL))).kind).toBe('error');
    });

    it('says when there is nothing in the log yet', async () => {
      expect(await run('audit for payments')).toContain('Nothing in the audit log yet.');
    });
  });

  describe('digests', () => {
    it('the weekly digest carries the team’s open recommendations and their saving; the daily one does not', async () => {
      const weekly = await run('digest weekly for payments');
      expect(weekly).toContain('Rightsizing: 3 open recommendations could save USD 509.83 a month. Approve or reject with `rightsizing for payments`.');
      const worker = ofTeam('payments').find((candidate) => candidate.instanceName?.startsWith('payments-worker-'))!;
      expect(weekly).toContain(`• ${worker.instanceName}: \`c6i.4xlarge\` → \`c6i.2xlarge\`, USD 248.20/month`);
      expect(weekly).not.toContain('search-query-');

      const daily = await run('digest daily for payments');
      expect(daily).not.toContain('Rightsizing');

      // What is decided leaves the digest.
      await approve('payments-worker-', ALICE);
      expect(await run('digest weekly for payments')).toContain('Rightsizing: 2 open recommendations could save USD 261.63 a month.');
    });
  });
});
