/**
 * The rightsizing desk over the real store on the test database, the demo organisation's
 * recommendations and its cost data synced at a fixed clock: syncing, decisions taken by
 * approvers only (configured, added from chat, or members of a group read from a directory),
 * expiry, execution on EC2 (a dry run and the real change, against a mocked EC2 API) and the
 * saving measured 30 days after a change. Only the edges are fake: the EC2 API, the chat
 * platform's directory of group members and, where a test needs advice to disappear, the
 * recommendations source.
 */
import {
  DescribeInstancesCommand,
  type DescribeInstancesCommandOutput,
  EC2Client,
  EC2ServiceException,
  type InstanceStateName,
  ModifyInstanceAttributeCommand,
  StartInstancesCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Ec2InstanceExecutor } from '../../../src/adapters/aws/ec2-executor.js';
import { PgCostStore } from '../../../src/adapters/db/cost-store.js';
import { PgRightsizingStore, WITHDRAWN_REASON } from '../../../src/adapters/db/rightsizing-store.js';
import { DemoCostSource } from '../../../src/adapters/demo/demo-cost-source.js';
import { DemoInstanceExecutor, DemoRightsizingSource } from '../../../src/adapters/demo/demo-rightsizing.js';
import { ApproverPolicy } from '../../../src/app/rightsizing/approver-policy.js';
import { type DeskSettings, RightsizingDesk } from '../../../src/app/rightsizing/desk.js';
import { syncCosts } from '../../../src/app/sync-costs.js';
import { FinOpsError } from '../../../src/core/errors.js';
import { type Amount, formatAmount, parseAmount, sumAmounts } from '../../../src/core/money.js';
import type { Reply } from '../../../src/core/reply.js';
import type { Approver, ApproverDirectory, InstanceExecutor, RightsizingCandidate, RightsizingRecord, RightsizingSource, SourceMessage } from '../../../src/ports.js';
import { renderText } from '../../../src/render/text.js';
import { openTestDatabase, testDatabaseKind, type TestDatabase } from '../../support/test-database.js';
import { FixedClock, testSyncSettings } from '../../support/world.js';

/** Monday 23 November 2026, 08:00 UTC: the demo cost data is synced through Sunday the 22nd. */
const T = new Date('2026-11-23T08:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const at = (ms: number) => new Date(T.getTime() + ms);

const ALICE = 'U0ALICE01'; // configured for payments
const CAROL = 'U0CAROL01'; // member of the configured data-platform group
const DAVE = 'U0DAVE001'; // added from chat for search
const ERIN = 'U0ERIN001'; // added from chat for data-platform
const MALLORY = 'U0MALLORY'; // approves nothing
const LEADS = 'S0LEADS01';
const SLACK_MESSAGE: SourceMessage = { platform: 'slack', conversationId: 'C0PAYMENTS', messageId: '1795406531.000100' };

const demoCandidates = await new DemoRightsizingSource().getRecommendations();
const byName = (prefix: string): RightsizingCandidate => {
  const found = demoCandidates.find((candidate) => candidate.instanceName?.startsWith(prefix));
  if (!found) throw new Error(`the demo has no ${prefix}`);
  return found;
};
const PAYMENTS_API = byName('payments-api-'); // payments, eu-west-1, m6i.2xlarge → m6i.xlarge, USD 140.16
const PAYMENTS_WORKER = byName('payments-worker-'); // payments, c6i.4xlarge → c6i.2xlarge, USD 248.20
const CHECKOUT_WEB = byName('checkout-web-');
const SEARCH_QUERY = byName('search-query-');
const ETL_RUNNER = byName('etl-runner-'); // data-platform, USD 1,121.28: two approvers
const label = (candidate: RightsizingCandidate) => `${candidate.instanceName} (${candidate.instanceId})`;

/** An EC2 error as the SDK raises it. */
const ec2Error = (name: string): EC2ServiceException =>
  new EC2ServiceException({ name, $fault: 'client', message: `${name}: arn:aws:iam::481516234201:role/finops-bot`, $metadata: { httpStatusCode: 400 } });

/** DescribeInstances' answer for a candidate's instance, in `state`. */
const described = (candidate: RightsizingCandidate, state: InstanceStateName, type = candidate.currentType): DescribeInstancesCommandOutput => ({
  $metadata: {},
  Reservations: [{ Instances: [{ InstanceId: candidate.instanceId, InstanceType: type as 'm5.large', State: { Name: state } }] }],
});

/** A recommendations source whose advice a test changes (the edge where Cost Explorer would be). */
class ChangingSource implements RightsizingSource {
  reads = 0;
  constructor(public candidates: readonly RightsizingCandidate[]) {}
  async getRecommendations(): Promise<RightsizingCandidate[]> {
    this.reads++;
    return this.candidates.map((candidate) => ({ ...candidate }));
  }
}

describe(`the rightsizing desk on ${testDatabaseKind}`, () => {
  let test: TestDatabase;
  let store: PgRightsizingStore;
  let costs: PgCostStore;
  const clock = new FixedClock(T);
  const logs: { level: string; message: string }[] = [];
  const logger = {
    info: (_details: object, message: string) => void logs.push({ level: 'info', message }),
    warn: (_details: object, message: string) => void logs.push({ level: 'warn', message }),
    error: (_details: object, message: string) => void logs.push({ level: 'error', message }),
  };
  /** Slack's user groups, as the directory reports them; `failing` makes it refuse. */
  const groups = new Map<string, string[]>([[LEADS, [CAROL]]]);
  const directoryReads: string[] = [];
  let directoryFails = false;
  const directory: ApproverDirectory = {
    membersOf: async (groupId) => {
      directoryReads.push(groupId);
      if (directoryFails) throw new FinOpsError('command_invalid', 'Slack would not list the members of that user group (missing_scope).');
      return groups.get(groupId) ?? [];
    },
  };
  const reports: { team: string; reply: Reply; where: SourceMessage | undefined }[] = [];

  const configuredApprovers = new Map<string, readonly Approver[]>([
    ['payments', [{ kind: 'user', id: ALICE }]],
    ['data-platform', [{ kind: 'group', id: LEADS }]],
  ]);
  const settings = (extra: Partial<DeskSettings> = {}): DeskSettings => ({
    twoApproverFrom: parseAmount('1000'),
    expireDays: 14,
    execute: 'off',
    metric: 'UnblendedCost',
    ...extra,
  });
  const deskWith = (options: { settings?: Partial<DeskSettings>; source?: RightsizingSource; executor?: InstanceExecutor; conversationSees?: (conversationId: string | undefined, team: string) => boolean } = {}) =>
    new RightsizingDesk({
      store,
      costs,
      policy: new ApproverPolicy({ store, configured: { admins: [], approvers: configuredApprovers }, directory, clock }),
      clock,
      logger,
      holder: 'test-instance',
      settings: settings(options.settings),
      source: options.source ?? new DemoRightsizingSource(),
      executor: options.executor,
      report: async (team, reply, where) => void reports.push({ team, reply, where }),
      conversationSees: options.conversationSees,
    });

  /** The stored recommendation for a demo candidate (the live one: not a withdrawn copy). */
  const recordOf = async (candidate: RightsizingCandidate): Promise<RightsizingRecord> => {
    const found = (await store.list({})).filter((record) => record.key === candidate.key && record.status !== 'expired');
    expect(found, `one live record for ${candidate.instanceName}`).toHaveLength(1);
    return found[0]!;
  };
  const decide = async (desk: RightsizingDesk, candidate: RightsizingCandidate, userId: string, decision: 'approve' | 'reject' = 'approve', reason?: string) =>
    desk.decide({ id: (await recordOf(candidate)).id, decision, userId, reason, source: SLACK_MESSAGE });
  const auditLog = () => store.audit({ limit: 100 });

  beforeAll(async () => {
    test = await openTestDatabase();
    store = new PgRightsizingStore(test.database.db);
    costs = new PgCostStore(test.database.db);
    // The totals and the usage types the realised saving is measured on, from mid-September.
    const synced = await syncCosts({ source: new DemoCostSource(), store: costs, clock }, { ...testSyncSettings(75), facets: ['service', 'usage-type'], readyAfterHourUtc: 0 });
    expect(synced.errors).toEqual([]);
  }, 120_000);
  afterAll(async () => test?.dispose());
  beforeEach(async () => {
    await test.database.db.execute(sql.raw('truncate rightsizing_audit, rightsizing_recommendations, rightsizing_approvers, rightsizing_syncs'));
    clock.set(T.toISOString());
    logs.length = 0;
    reports.length = 0;
    directoryReads.length = 0;
    directoryFails = false;
  });

  describe('sync', () => {
    it('saves the 15 demo recommendations as pending, the two saving USD 1,000 a month or more needing two approvers', async () => {
      const desk = deskWith();
      expect(await desk.sync()).toBe(true);

      const records = await store.list({});
      expect(records).toHaveLength(15);
      expect(records.every((record) => record.status === 'pending' && record.approvals.length === 0)).toBe(true);
      expect(new Set(records.map((record) => record.key))).toEqual(new Set(demoCandidates.map((candidate) => candidate.key)));
      const twoApprovers = records.filter((record) => record.approvalsNeeded === 2).map((record) => record.instanceName!.replace(/-[a-z0-9]+$/, ''));
      expect(twoApprovers.sort()).toEqual(['etl-runner', 'ml-notebook']);
      expect(records.filter((record) => record.approvalsNeeded === 1)).toHaveLength(13);
      // The figures are the source's, exactly.
      expect(sumAmounts(records.map((record) => record.monthlySavings))).toBe(sumAmounts(demoCandidates.map((candidate) => candidate.monthlySavings)));
      expect((await recordOf(ETL_RUNNER)).monthlySavings).toBe(parseAmount('1121.28'));
      expect(await store.lastSyncedAt()).toEqual(T);
      // A sync is not a decision: nothing in the audit log.
      expect(await auditLog()).toEqual([]);
    });

    it('reads the source again only 20 hours after the last read, unless forced, and never adds a recommendation twice', async () => {
      const source = new ChangingSource(demoCandidates);
      const desk = deskWith({ source });
      expect(await desk.sync()).toBe(true);

      clock.set(at(20 * HOUR - 60_000).toISOString());
      expect(await desk.sync()).toBe(false);
      expect(source.reads).toBe(1);
      expect(await store.lastSyncedAt()).toEqual(T);

      clock.set(at(20 * HOUR).toISOString());
      expect(await desk.sync()).toBe(true);
      expect(source.reads).toBe(2);
      expect(await store.lastSyncedAt()).toEqual(at(20 * HOUR));
      expect(await store.list({})).toHaveLength(15);

      clock.set(at(21 * HOUR).toISOString());
      expect(await desk.sync({ force: true })).toBe(true);
      expect(source.reads).toBe(3);
      expect(await store.list({})).toHaveLength(15);
    });

    it('withdraws a pending recommendation the source stopped reporting (expired, audited), and leaves a decided one alone', async () => {
      const source = new ChangingSource(demoCandidates);
      const desk = deskWith({ source });
      await desk.sync();
      expect(await decide(desk, PAYMENTS_API, ALICE)).toMatchObject({ ok: true, changed: true });

      // Both disappear from the advice an hour later.
      source.candidates = demoCandidates.filter((candidate) => candidate.key !== CHECKOUT_WEB.key && candidate.key !== PAYMENTS_API.key);
      clock.set(at(HOUR).toISOString());
      expect(await desk.sync()).toBe(false);
      expect((await recordOf(CHECKOUT_WEB)).status).toBe('pending');
      expect(await desk.sync({ force: true })).toBe(true);

      const withdrawn = (await store.list({})).find((record) => record.key === CHECKOUT_WEB.key)!;
      expect(withdrawn).toMatchObject({ status: 'expired', decidedBy: 'system', decidedAt: at(HOUR), reason: WITHDRAWN_REASON });
      expect((await recordOf(PAYMENTS_API)).status).toBe('approved');
      expect((await store.list({ statuses: ['pending'] })).map((record) => record.key).sort()).toEqual(source.candidates.map((candidate) => candidate.key).sort());

      const [latest] = await auditLog();
      expect(latest).toMatchObject({
        at: at(HOUR),
        actor: 'system',
        team: 'checkout',
        recommendationId: withdrawn.id,
        action: 'expire',
        before: { status: 'pending' },
        after: { status: 'expired' },
        note: WITHDRAWN_REASON,
      });
      expect((await auditLog()).filter((entry) => entry.action === 'expire')).toHaveLength(1);
    });
  });

  describe('decisions', () => {
    it('takes an approval from an approver configured for the team, audited with the message it came from', async () => {
      const desk = deskWith();
      await desk.sync();
      clock.set(at(HOUR).toISOString());
      const result = await decide(desk, PAYMENTS_WORKER, ALICE);

      expect(result).toMatchObject({ ok: true, changed: true, note: undefined });
      const record = await recordOf(PAYMENTS_WORKER);
      expect(record).toMatchObject({ status: 'approved', decidedBy: ALICE, decidedAt: at(HOUR), approvals: [{ userId: ALICE, at: at(HOUR) }] });
      expect(await auditLog()).toEqual([
        {
          id: expect.any(Number),
          at: at(HOUR),
          actor: ALICE,
          team: 'payments',
          recommendationId: record.id,
          action: 'approve',
          before: { status: 'pending', approvals: [] },
          after: { status: 'approved', approvals: [ALICE] },
          source: SLACK_MESSAGE,
          note: label(PAYMENTS_WORKER),
        },
      ]);
      // Execution is off: approving records the decision and nothing else.
      expect(await desk.executeApproved()).toBe(0);
      expect(reports).toEqual([]);
    });

    it('takes an approval from an approver added from chat (stored)', async () => {
      const desk = deskWith();
      await desk.sync();
      expect((await decide(desk, SEARCH_QUERY, DAVE)).ok).toBe(false);
      await store.setApprovers({ team: 'search', approvers: [{ kind: 'user', id: DAVE }], setBy: 'U0ADMIN01', setAt: T });

      expect(await decide(desk, SEARCH_QUERY, DAVE)).toMatchObject({ ok: true, changed: true });
      expect(await recordOf(SEARCH_QUERY)).toMatchObject({ status: 'approved', decidedBy: DAVE });
    });

    it('counts a member of a configured group, read from the directory, and needs a second person above the bar', async () => {
      const desk = deskWith();
      await desk.sync();
      await store.setApprovers({ team: 'data-platform', approvers: [{ kind: 'user', id: ERIN }], setBy: 'U0ADMIN01', setAt: T });

      const first = await decide(desk, ETL_RUNNER, CAROL);
      expect(first).toMatchObject({ ok: true, changed: true, note: 'Your approval is recorded (1 of 2): a saving this size needs another approver too.' });
      expect(directoryReads).toEqual([LEADS]);
      expect(await recordOf(ETL_RUNNER)).toMatchObject({ status: 'pending', approvals: [{ userId: CAROL }] });

      const again = await decide(desk, ETL_RUNNER, CAROL);
      expect(again).toMatchObject({ ok: true, changed: false, note: 'You have already approved this (1 of 2); it needs another approver.' });

      clock.set(at(HOUR).toISOString());
      const second = await decide(desk, ETL_RUNNER, ERIN);
      expect(second).toMatchObject({ ok: true, changed: true, note: undefined });
      expect(await recordOf(ETL_RUNNER)).toMatchObject({ status: 'approved', decidedBy: ERIN, decidedAt: at(HOUR), approvals: [{ userId: CAROL }, { userId: ERIN }] });

      const late = await decide(desk, ETL_RUNNER, CAROL);
      expect(late).toMatchObject({ ok: true, changed: false });
      expect(late.ok && late.note).toContain('This was already approved by');
      expect(late.ok && late.note).toContain(ERIN);
      // First approval, then the one that approved it; the repeat clicks wrote nothing.
      const entries = (await auditLog()).filter((entry) => entry.recommendationId !== undefined);
      expect(entries.map((entry) => [entry.actor, entry.action, entry.note])).toEqual([
        [ERIN, 'approve', label(ETL_RUNNER)],
        [CAROL, 'approve', `${label(ETL_RUNNER)}: approval 1 of 2`],
      ]);
    });

    it('refuses someone who is not an approver, naming who is, and writes nothing', async () => {
      const desk = deskWith();
      await desk.sync();
      const refused = await decide(desk, PAYMENTS_API, MALLORY);

      expect(refused.ok).toBe(false);
      const reason = refused.ok ? '' : refused.reason;
      expect(reason).toContain('Only approvers of *payments* can decide this, so nothing changed.');
      expect(reason).toContain(ALICE);
      expect(await recordOf(PAYMENTS_API)).toMatchObject({ status: 'pending', approvals: [] });
      expect(await auditLog()).toEqual([]);
      expect(logs.filter((entry) => entry.level === 'warn').map((entry) => entry.message)).toEqual(['refused a rightsizing decision from someone who is not an approver']);

      // An approver of another team is no approver here.
      expect((await decide(desk, ETL_RUNNER, ALICE)).ok).toBe(false);
      // A team nobody approves for says how to name approvers.
      const nobody = await decide(desk, CHECKOUT_WEB, ALICE);
      expect(nobody.ok).toBe(false);
      expect(nobody.ok ? '' : nobody.reason).toMatch(/^Nobody may approve recommendations for \*checkout\* yet, so nothing changed\. An admin can name approvers with `approvers add checkout @someone`\.$/);
      expect(await auditLog()).toEqual([]);

      // What the rejection form checks first says the same.
      const id = (await recordOf(PAYMENTS_API)).id;
      expect(await desk.check(id, MALLORY)).toEqual({ ok: false, reason });
      expect(await desk.check(id, ALICE)).toEqual({ ok: true, summary: `${label(PAYMENTS_API)}: \`m6i.2xlarge\` → \`m6i.xlarge\`, saving USD 140.16 a month` });
    });

    it('says the approvers could not be checked when the directory cannot list a group, and changes nothing', async () => {
      const desk = deskWith();
      await desk.sync();
      directoryFails = true;
      const result = await decide(desk, ETL_RUNNER, CAROL);

      expect(result).toEqual({ ok: false, reason: 'I could not check who may approve: Slack would not list the members of that user group (missing_scope).' });
      expect(await recordOf(ETL_RUNNER)).toMatchObject({ status: 'pending', approvals: [] });
      expect(await auditLog()).toEqual([]);
    });

    it('refuses a rejection without a reason, and keeps the reason of one that has it', async () => {
      const desk = deskWith();
      await desk.sync();
      for (const reason of [undefined, '', '   ']) {
        expect(await decide(desk, PAYMENTS_API, ALICE, 'reject', reason)).toEqual({ ok: false, reason: 'A rejection needs a reason, so the team knows why.' });
      }
      expect((await recordOf(PAYMENTS_API)).status).toBe('pending');
      expect(await auditLog()).toEqual([]);

      clock.set(at(2 * HOUR).toISOString());
      const rejected = await decide(desk, PAYMENTS_API, ALICE, 'reject', '  Black Friday: keep the headroom until December  ');
      expect(rejected).toMatchObject({ ok: true, changed: true });
      expect(await recordOf(PAYMENTS_API)).toMatchObject({ status: 'rejected', decidedBy: ALICE, decidedAt: at(2 * HOUR), reason: 'Black Friday: keep the headroom until December' });
      const [entry] = await auditLog();
      expect(entry).toMatchObject({ actor: ALICE, action: 'reject', before: { status: 'pending' }, after: { status: 'rejected' }, note: `${label(PAYMENTS_API)}: Black Friday: keep the headroom until December` });

      // A very long reason is kept to 500 characters.
      const long = await decide(desk, PAYMENTS_WORKER, ALICE, 'reject', 'x'.repeat(2_000));
      expect(long.ok && long.record.reason).toBe('x'.repeat(500));
    });
  });

  describe('confined conversations', () => {
    it("refuses a decision from a conversation confined to other teams (a list from before it was confined), even by the team's approver; nothing is written", async () => {
      const desk = deskWith({ conversationSees: (conversationId, team) => conversationId !== 'C0SEARCHONLY' || team === 'search' });
      await desk.sync();
      const record = await recordOf(PAYMENTS_API);
      const elsewhere = await desk.decide({ id: record.id, decision: 'approve', userId: ALICE, source: { platform: 'slack', conversationId: 'C0SEARCHONLY', messageId: '1.1' } });
      expect(elsewhere).toEqual({ ok: false, reason: 'This conversation cannot see that recommendation’s team, so it cannot decide it.' });
      expect(await desk.check(record.id, ALICE, 'C0SEARCHONLY')).toEqual({ ok: false, reason: 'This conversation cannot see that recommendation’s team, so it cannot decide it.' });
      expect((await recordOf(PAYMENTS_API)).status).toBe('pending');
      expect(await auditLog()).toEqual([]);
      expect(await decide(desk, PAYMENTS_API, ALICE)).toMatchObject({ ok: true, changed: true });
    });
  });

  describe('expiry', () => {
    it('expires what nobody decided within the configured days, once, with an audit entry each', async () => {
      const desk = deskWith({ settings: { expireDays: 3 } });
      await desk.sync();
      await decide(desk, PAYMENTS_WORKER, ALICE);

      clock.set(at(3 * DAY - 60_000).toISOString());
      expect(await desk.expireDue()).toBe(0);
      expect(await store.list({ statuses: ['pending'] })).toHaveLength(14);

      clock.set(at(3 * DAY + 60_000).toISOString());
      expect(await desk.expireDue()).toBe(14);
      const records = await store.list({});
      expect(records.filter((record) => record.status === 'expired')).toHaveLength(14);
      for (const record of records.filter((r) => r.status === 'expired')) {
        expect(record).toMatchObject({ decidedBy: 'system', decidedAt: at(3 * DAY + 60_000), reason: 'no decision within 3 days' });
      }
      expect((await recordOf(PAYMENTS_WORKER)).status).toBe('approved');
      const expiries = (await auditLog()).filter((entry) => entry.action === 'expire');
      expect(expiries).toHaveLength(14);
      expect(expiries.every((entry) => entry.actor === 'system' && entry.note?.endsWith(': no decision within 3 days'))).toBe(true);

      expect(await desk.expireDue()).toBe(0);
      expect((await auditLog()).filter((entry) => entry.action === 'expire')).toHaveLength(14);
      // An approval arriving late changes nothing and says why.
      const expiredApi = records.find((record) => record.key === PAYMENTS_API.key)!;
      const late = await desk.decide({ id: expiredApi.id, decision: 'approve', userId: ALICE, source: SLACK_MESSAGE });
      expect(late).toMatchObject({ ok: true, changed: false, note: 'This was already expired automatically; nothing changed.' });
    });
  });

  describe('execution on EC2', () => {
    let ec2: AwsClientStub<EC2Client>;
    const regions: string[] = [];
    const executor = () =>
      new Ec2InstanceExecutor({
        clock,
        clientFor: (region) => {
          regions.push(region);
          return new EC2Client({ region, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' } });
        },
        waitMinDelaySeconds: 0.01,
        stopWaitSeconds: 5,
      });
    /** Approves PAYMENTS_API as ALICE in Slack with `execute`, and waits for the execution the approval starts. */
    const approveAndExecute = async (execute: 'dry-run' | 'apply') => {
      const desk = deskWith({ settings: { execute }, executor: executor() });
      await desk.sync();
      clock.set(at(HOUR).toISOString());
      expect(await decide(desk, PAYMENTS_API, ALICE)).toMatchObject({ ok: true, changed: true });
      // The approval started the execution; this joins it (or finds it done).
      await desk.executeApproved();
      return desk;
    };

    beforeAll(() => {
      ec2 = mockClient(EC2Client);
    });
    afterAll(() => ec2.restore());
    beforeEach(() => {
      ec2.reset();
      regions.length = 0;
    });

    it('with dry-run: asks EC2 about every call, keeps the recommendation approved and reports where it was approved, once', async () => {
      ec2.on(DescribeInstancesCommand).resolves(described(PAYMENTS_API, 'running'));
      ec2.on(StopInstancesCommand).rejects(ec2Error('DryRunOperation'));
      ec2.on(ModifyInstanceAttributeCommand).rejects(ec2Error('DryRunOperation'));
      ec2.on(StartInstancesCommand).rejects(ec2Error('DryRunOperation'));
      const desk = await approveAndExecute('dry-run');

      const record = await recordOf(PAYMENTS_API);
      expect(record.status).toBe('approved');
      expect(record.appliedAt).toBeUndefined();
      expect(record.execution.map((step) => [step.step, step.ok])).toEqual([
        ['dry-run: describe', true],
        ['dry-run: stop', true],
        ['dry-run: modify', true],
        ['dry-run: start', true],
      ]);
      expect(record.execution[2]!.detail).toBe('EC2 would allow changing its type to m6i.xlarge (ec2:ModifyInstanceAttribute).');
      expect(regions).toEqual([PAYMENTS_API.region]);
      expect(ec2.commandCalls(StopInstancesCommand).map((call) => call.args[0].input)).toEqual([{ InstanceIds: [PAYMENTS_API.instanceId], DryRun: true }]);
      expect(ec2.commandCalls(ModifyInstanceAttributeCommand).map((call) => call.args[0].input)).toEqual([
        { InstanceId: PAYMENTS_API.instanceId, InstanceType: { Value: 'm6i.xlarge' }, DryRun: true },
      ]);
      expect(ec2.commandCalls(StartInstancesCommand).map((call) => call.args[0].input)).toEqual([{ InstanceIds: [PAYMENTS_API.instanceId], DryRun: true }]);

      const [dryRun, approval] = await auditLog();
      expect(approval).toMatchObject({ actor: ALICE, action: 'approve' });
      expect(dryRun).toMatchObject({
        actor: 'system',
        team: 'payments',
        recommendationId: record.id,
        action: 'dry-run',
        before: { status: 'approved' },
        after: { status: 'approved', steps: 4 },
        note: `${label(PAYMENTS_API)}: every call would be allowed`,
      });

      expect(reports).toHaveLength(1);
      expect(reports[0]!.team).toBe('payments');
      expect(reports[0]!.where).toEqual(SLACK_MESSAGE);
      const text = renderText(reports[0]!.reply);
      expect(text).toContain('Rightsizing dry run');
      expect(text).toContain(`Dry run for ${label(PAYMENTS_API)} (\`m6i.2xlarge\` → \`m6i.xlarge\`): every call would be allowed. Nothing was changed.`);
      expect(text).toContain('✓ modify: EC2 would allow changing its type to m6i.xlarge (ec2:ModifyInstanceAttribute).');

      // A dry run is made and reported once.
      const calls = ec2.calls().length;
      expect(await desk.executeApproved()).toBe(0);
      expect(ec2.calls()).toHaveLength(calls);
      expect(reports).toHaveLength(1);
      expect((await recordOf(PAYMENTS_API)).execution).toHaveLength(4);
    });

    it('with dry-run: reports the call EC2 would refuse and the permission it needs', async () => {
      ec2.on(DescribeInstancesCommand).resolves(described(PAYMENTS_API, 'running'));
      ec2.on(StopInstancesCommand).rejects(ec2Error('DryRunOperation'));
      ec2.on(ModifyInstanceAttributeCommand).rejects(ec2Error('UnauthorizedOperation'));
      ec2.on(StartInstancesCommand).rejects(ec2Error('DryRunOperation'));
      await approveAndExecute('dry-run');

      const record = await recordOf(PAYMENTS_API);
      expect(record.status).toBe('approved');
      expect(record.execution.map((step) => step.ok)).toEqual([true, true, false, true]);
      const refusal = "EC2 refused ModifyInstanceAttribute (UnauthorizedOperation): the bot's role needs the IAM permission ec2:ModifyInstanceAttribute.";
      expect((await auditLog())[0]).toMatchObject({ action: 'dry-run', note: `${label(PAYMENTS_API)}: refused at dry-run: modify: ${refusal}` });
      const text = renderText(reports[0]!.reply);
      expect(text).toContain('EC2 would refuse it.');
      expect(text).toContain(`✗ modify: ${refusal}`);
      expect(text).not.toContain('arn:aws');
    });

    it('with apply: stops, waits until stopped, changes the type and starts, then marks it applied and reports it, once', async () => {
      ec2.on(DescribeInstancesCommand).resolvesOnce(described(PAYMENTS_API, 'running')).resolvesOnce(described(PAYMENTS_API, 'stopping')).resolves(described(PAYMENTS_API, 'stopped'));
      ec2.on(StopInstancesCommand).resolves({});
      ec2.on(ModifyInstanceAttributeCommand).resolves({});
      ec2.on(StartInstancesCommand).resolves({});
      const desk = await approveAndExecute('apply');

      const record = await recordOf(PAYMENTS_API);
      expect(record).toMatchObject({ status: 'applied', appliedAt: at(HOUR), decidedBy: ALICE });
      expect(record.execution.map((step) => [step.step, step.ok])).toEqual([
        ['stopping', true],
        ['describe', true],
        ['stop', true],
        ['wait-stopped', true],
        ['modify', true],
        ['start', true],
      ]);
      expect(ec2.commandCalls(StopInstancesCommand).map((call) => call.args[0].input)).toEqual([{ InstanceIds: [PAYMENTS_API.instanceId] }]);
      expect(ec2.commandCalls(ModifyInstanceAttributeCommand).map((call) => call.args[0].input)).toEqual([{ InstanceId: PAYMENTS_API.instanceId, InstanceType: { Value: 'm6i.xlarge' } }]);
      expect(ec2.commandCalls(StartInstancesCommand)).toHaveLength(1);

      expect((await auditLog())[0]).toMatchObject({ actor: 'system', action: 'apply', before: { status: 'approved' }, after: { status: 'applied', steps: 6 }, note: `${label(PAYMENTS_API)}: 5 steps` });
      expect(reports).toHaveLength(1);
      expect(reports[0]!.where).toEqual(SLACK_MESSAGE);
      const text = renderText(reports[0]!.reply);
      expect(text).toContain('Rightsizing applied');
      expect(text).toContain(`${label(PAYMENTS_API)} is changed: \`m6i.2xlarge\` → \`m6i.xlarge\`.`);
      expect(text).toContain('✓ start: Started the instance as m6i.xlarge.');

      const calls = ec2.calls().length;
      expect(await desk.executeApproved()).toBe(0);
      expect(ec2.calls()).toHaveLength(calls);
      expect(reports).toHaveLength(1);
    });

    it('with apply: a change another instance began and never finished (it died after stopping the instance) is resumed: changed and started, not left stopped', async () => {
      ec2.on(DescribeInstancesCommand).resolves(described(PAYMENTS_API, 'stopped'));
      ec2.on(ModifyInstanceAttributeCommand).resolves({});
      ec2.on(StartInstancesCommand).resolves({});
      await deskWith().sync();
      clock.set(at(HOUR).toISOString());
      expect(await decide(deskWith(), PAYMENTS_API, ALICE)).toMatchObject({ ok: true, changed: true });
      // The dead instance had claimed it and written that it began, then nothing.
      const approved = await recordOf(PAYMENTS_API);
      expect(await store.claimExecution(approved.id, 'dead-instance', at(HOUR), 30 * 60_000)).toBe(true);
      await store.transition(approved.id, (current) => ({ next: { ...current, execution: [{ step: 'stopping', ok: true, detail: 'Asking EC2 to stop the instance.', at: at(HOUR) }] }, audit: [] }));

      clock.set(at(2 * HOUR).toISOString());
      const desk = deskWith({ settings: { execute: 'apply' }, executor: executor() });
      expect(await desk.executeApproved()).toBe(1);

      const record = await recordOf(PAYMENTS_API);
      expect(record.status).toBe('applied');
      expect(record.execution.map((step) => step.step)).toEqual(['stopping', 'describe', 'stop', 'wait-stopped', 'modify', 'start']);
      expect(record.execution[2]!.detail).toBe("The instance is stopped, by the bot's earlier attempt that was cut off; it will be started again.");
      expect(ec2.commandCalls(StopInstancesCommand)).toHaveLength(0);
      expect(ec2.commandCalls(StartInstancesCommand).map((call) => call.args[0].input)).toEqual([{ InstanceIds: [PAYMENTS_API.instanceId] }]);
    });

    it('with apply: an approval from before execution was switched on (older than the expiry) is closed as failed, not carried out; a later sync offers it again', async () => {
      const off = deskWith();
      await off.sync();
      clock.set(at(HOUR).toISOString());
      expect(await decide(off, PAYMENTS_API, ALICE)).toMatchObject({ ok: true, changed: true });
      clock.set(at(20 * DAY).toISOString());
      const desk = deskWith({ settings: { execute: 'apply' }, executor: executor() });
      expect(await desk.executeApproved()).toBe(1);
      expect(renderText(reports.at(-1)!.reply)).toContain('was not made: approved more than 14 days ago');
      expect(reports.at(-1)!.where).toEqual(SLACK_MESSAGE);

      const closed = (await store.list({})).find((record) => record.key === PAYMENTS_API.key && record.status === 'failed');
      expect(closed?.reason).toBe('approved more than 14 days ago, so not carried out now; it is offered again if still recommended');
      expect(ec2.calls()).toHaveLength(0);
      expect((await auditLog())[0]).toMatchObject({ actor: 'system', action: 'fail', before: { status: 'approved' }, after: { status: 'failed' } });
      // A forced read, as a day later: AWS still recommends it, so it is offered again, as a new recommendation.
      await desk.sync({ force: true });
      const again = (await store.list({})).filter((record) => record.key === PAYMENTS_API.key).map((record) => record.status);
      expect(again.sort()).toEqual(['failed', 'pending']);
    });

    it('with apply: an executor that throws leaves no change stuck: it is marked failed, said once, and the pass goes on to the next', async () => {
      const demo = new DemoInstanceExecutor({ clock });
      const breaking: InstanceExecutor = {
        dryRun: (change) => demo.dryRun(change),
        apply: async (change) => {
          if (change.instanceId === PAYMENTS_API.instanceId) throw new TypeError('a programming error');
          return demo.apply(change);
        },
      };
      const off = deskWith();
      await off.sync();
      expect(await decide(off, PAYMENTS_API, ALICE)).toMatchObject({ ok: true, changed: true });
      expect(await decide(off, PAYMENTS_WORKER, ALICE)).toMatchObject({ ok: true, changed: true });
      const desk = deskWith({ settings: { execute: 'apply' }, executor: breaking });
      expect(await desk.executeApproved()).toBe(2);
      expect(await recordOf(PAYMENTS_API)).toMatchObject({ status: 'failed', reason: 'error: an unexpected error stopped the change (the details are in the logs)' });
      expect((await recordOf(PAYMENTS_WORKER)).status).toBe('applied');
      expect(logs.some((entry) => entry.level === 'error' && entry.message === 'rightsizing execution failed unexpectedly')).toBe(true);
      expect(await desk.executeApproved()).toBe(0);
    });

    it('with apply: a refused type change marks it failed with the reason, after starting the instance again', async () => {
      ec2.on(DescribeInstancesCommand).resolvesOnce(described(PAYMENTS_API, 'running')).resolves(described(PAYMENTS_API, 'stopped'));
      ec2.on(StopInstancesCommand).resolves({});
      ec2.on(ModifyInstanceAttributeCommand).rejects(ec2Error('InsufficientInstanceCapacity'));
      ec2.on(StartInstancesCommand).resolves({});
      const desk = await approveAndExecute('apply');

      const reason = 'modify: EC2 refused ModifyInstanceAttribute: AWS has no capacity for this instance type in its zone right now (InsufficientInstanceCapacity).';
      const record = await recordOf(PAYMENTS_API);
      expect(record).toMatchObject({ status: 'failed', reason, appliedAt: undefined });
      expect(record.execution.map((step) => [step.step, step.ok])).toEqual([
        ['stopping', true],
        ['describe', true],
        ['stop', true],
        ['wait-stopped', true],
        ['modify', false],
        ['restart', true],
      ]);
      expect(record.execution[5]!.detail).toBe('Started the instance again as m6i.2xlarge, since the change did not go through.');
      expect(ec2.commandCalls(StartInstancesCommand).map((call) => call.args[0].input)).toEqual([{ InstanceIds: [PAYMENTS_API.instanceId] }]);
      expect((await auditLog())[0]).toMatchObject({ actor: 'system', action: 'fail', after: { status: 'failed' }, note: `${label(PAYMENTS_API)}: ${reason}` });
      const text = renderText(reports[0]!.reply);
      expect(text).toContain(`The change to ${label(PAYMENTS_API)} (\`m6i.2xlarge\` → \`m6i.xlarge\`) failed.`);
      expect(text).toContain('✓ restart:');

      expect(await desk.executeApproved()).toBe(0);
      expect(reports).toHaveLength(1);
    });

    it('does nothing when execution is off, whatever is approved', async () => {
      const desk = deskWith({ settings: { execute: 'off' }, executor: executor() });
      await desk.sync();
      await decide(desk, PAYMENTS_API, ALICE);
      expect(await desk.executeApproved()).toBe(0);
      expect(ec2.calls()).toEqual([]);
      expect((await recordOf(PAYMENTS_API)).execution).toEqual([]);
    });
  });

  describe('execution while a pass is running', () => {
    it('carries out a change approved during a running pass too, and reports each where its own approval was clicked', async () => {
      // A slow EC2: the first change is still being made when the second is approved.
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const demo = new DemoInstanceExecutor({ clock });
      const slow: InstanceExecutor = { dryRun: (change) => demo.dryRun(change), apply: async (change) => (await held, demo.apply(change)) };
      const desk = deskWith({ settings: { execute: 'apply' }, executor: slow });
      await desk.sync();
      const other: SourceMessage = { platform: 'slack', conversationId: 'C0OTHERCH', messageId: '1795406599.000200' };
      expect(await decide(desk, PAYMENTS_API, ALICE)).toMatchObject({ ok: true, changed: true });
      const first = desk.executeApproved();
      expect(await desk.decide({ id: (await recordOf(PAYMENTS_WORKER)).id, decision: 'approve', userId: ALICE, source: other })).toMatchObject({ ok: true, changed: true });
      release();
      await first;

      expect((await recordOf(PAYMENTS_API)).status).toBe('applied');
      expect((await recordOf(PAYMENTS_WORKER)).status).toBe('applied');
      const where = new Map(reports.map((report) => [renderText(report.reply).includes(PAYMENTS_API.instanceId) ? 'api' : 'worker', report.where]));
      expect(reports).toHaveLength(2);
      expect(where.get('api')).toEqual(SLACK_MESSAGE);
      expect(where.get('worker')).toEqual(other);
      expect(await desk.executeApproved()).toBe(0);
    });
  });

  describe('realised savings', () => {
    /** The team's monthly spend on `types` over [start, end), straight from the demo source. */
    const monthlySpend = async (team: string, types: readonly string[], range: { start: string; end: string }): Promise<Amount> => {
      const rows = await new DemoCostSource().getDailyCosts({ range, groupBy: [{ type: 'TAG', key: 'Team' }, { type: 'DIMENSION', key: 'USAGE_TYPE' }] });
      const sum = sumAmounts(rows.filter((row) => row.keys[0] === team && types.some((type) => row.keys[1] === `BoxUsage:${type}` || row.keys[1]!.endsWith(`-BoxUsage:${type}`))).map((row) => row.costs.UnblendedCost));
      // 30 days scaled to an average month (365.2425 / 12 days).
      return (sum * 3_652_425n) / (120_000n * 30n);
    };

    it('measures the 30 days before a change against the 30 after, and reports it once', async () => {
      // The change is made on Thursday 15 October; the data runs through 22 November.
      const appliedAt = new Date('2026-10-15T10:00:00Z');
      clock.set(appliedAt.toISOString());
      const desk = deskWith({ settings: { execute: 'apply' }, executor: new DemoInstanceExecutor({ clock }) });
      await desk.sync();
      await decide(desk, PAYMENTS_WORKER, ALICE);
      await desk.executeApproved();
      expect(await recordOf(PAYMENTS_WORKER)).toMatchObject({ status: 'applied', appliedAt });
      reports.length = 0;

      // Not due until 30 full days after the day of the change.
      clock.set('2026-11-14T10:00:00Z');
      expect(await desk.reportRealised()).toBe(0);
      expect(reports).toEqual([]);

      clock.set(T.toISOString());
      expect(await desk.reportRealised()).toBe(1);
      const types = [PAYMENTS_WORKER.currentType, PAYMENTS_WORKER.targetType!];
      const before = await monthlySpend('payments', types, { start: '2026-09-15', end: '2026-10-15' });
      const after = await monthlySpend('payments', types, { start: '2026-10-16', end: '2026-11-15' });
      expect(before).toBeGreaterThan(0n);
      const record = await recordOf(PAYMENTS_WORKER);
      expect(record.realisedMonthlySavings).toBe(before - after);

      expect(reports).toHaveLength(1);
      expect(reports[0]!.team).toBe('payments');
      const text = renderText(reports[0]!.reply);
      expect(text).toContain('Rightsizing: saving realised');
      expect(text).toContain(`Resizing ${label(PAYMENTS_WORKER)} (\`c6i.4xlarge\` → \`c6i.2xlarge\`) saved ${formatAmount(before - after, 'USD')} a month (estimated USD 248.20).`);
      expect(text).toContain(`Spend on these instance types: ${formatAmount(before, 'USD')} a month before, ${formatAmount(after, 'USD')} after.`);
      expect((await auditLog())[0]).toMatchObject({
        actor: 'system',
        action: 'realised',
        team: 'payments',
        recommendationId: record.id,
        note: `${label(PAYMENTS_WORKER)}: realised ${formatAmount(before - after, 'USD')} a month (estimated USD 248.20)`,
      });

      expect(await desk.reportRealised()).toBe(0);
      expect(reports).toHaveLength(1);
      expect((await auditLog()).filter((entry) => entry.action === 'realised')).toHaveLength(1);
    });
  });
});
