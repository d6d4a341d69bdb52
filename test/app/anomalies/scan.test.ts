/**
 * The anomaly scan end to end on the demo organisation: its costs synced into a real store,
 * scanned by the real detector, checked against the anomalies the demo injected (what was
 * found, what was raised for nothing, whether one event is alerted once, whether its figures
 * add up) and against AWS Cost Anomaly Detection behind a mocked SDK client.
 */
import { CostExplorerClient, GetAnomaliesCommand, LimitExceededException, type Anomaly } from '@aws-sdk/client-cost-explorer';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CostAnomalyFeed } from '../../../src/adapters/aws/cost-anomaly-feed.js';
import { PgAnomalyStore } from '../../../src/adapters/db/anomaly-store.js';
import { PgCostStore } from '../../../src/adapters/db/cost-store.js';
import { openDatabase, type Database } from '../../../src/adapters/db/database.js';
import { anomalyFactorsOn, type InjectedAnomaly, STEP_FADE_DAYS } from '../../../src/adapters/demo/demo-anomalies.js';
import { DemoCostSource } from '../../../src/adapters/demo/demo-cost-source.js';
import { createDemoOrganisation, dayNumber, expectedDailyCost } from '../../../src/adapters/demo/demo-organisation.js';
import { DEFAULT_SCAN_SETTINGS, scanAnomalies, type ScanDeps } from '../../../src/app/anomalies/scan.js';
import { syncCosts } from '../../../src/app/sync-costs.js';
import { sumAmounts } from '../../../src/core/money.js';
import { addDays, daysBetween, eachDay, type PlainDate } from '../../../src/core/period.js';
import type { AnomalyRecord } from '../../../src/ports.js';
import { openTestDatabase, testDatabaseKind, type TestDatabase } from '../../support/test-database.js';
import { FixedClock, testSyncSettings } from '../../support/world.js';

const SETTINGS = { ...DEFAULT_SCAN_SETTINGS, metric: 'UnblendedCost' } as const;
/** Least extra spend a day (USD) that makes an injected anomaly worth an alert: the detector's minImpact. */
const MATERIAL_USD = 50;
/** Synced up to 17 Nov, so the demo's spike of Mon 16 Nov falls on the last judged day (an active anomaly). */
const START = '2026-11-18T08:00:00Z';
const SEP = '\u001f';

const serviceOfKey = (record: AnomalyRecord) => record.key.split(SEP)[1] ?? '';
const groupOfKey = (record: AnomalyRecord) => record.key.slice(0, record.key.lastIndexOf(SEP));
const namesService = (record: AnomalyRecord, service: string) => serviceOfKey(record) === service || ('value' in record.scope && record.scope.value === service);
const excessOf = (injected: InjectedAnomaly) => expectedDailyCost(injected.lineItem, dayNumber(injected.start)) * (injected.factor - 1);
/** The days a scan judges (half-open) when `lastJudged` is its last. */
const judgedUpTo = (lastJudged: PlainDate) => ({ start: addDays(lastJudged, -(SETTINGS.judgeDays - 1)), end: addDays(lastJudged, 1) });
const describeInjected = (a: InjectedAnomaly) =>
  `${a.kind} ${a.start}..${a.end} ×${a.factor} ${a.lineItem.team || '(untagged)'} · ${a.lineItem.service} · ${a.lineItem.usageType} (+${excessOf(a).toFixed(0)} USD/day)`;
const describeRecord = (r: AnomalyRecord) => `${r.key.replaceAll(SEP, ' · ')} [${r.scope.kind}] ${r.firstDay}..${r.lastDay}`;
/** The stored anomaly reports the injected one: its team, its service, starting about when it did. */
const finds = (r: AnomalyRecord, a: InjectedAnomaly) =>
  r.team === a.lineItem.team && namesService(r, a.lineItem.service) && r.firstDay >= addDays(a.start, -1) && r.firstDay <= addDays(a.start, a.kind === 'spike' ? 2 : 7);
/** The stored anomaly lies within the injected one's effect (a step fades out after its end). */
const explainedBy = (r: AnomalyRecord, a: InjectedAnomaly) =>
  r.team === a.lineItem.team && namesService(r, a.lineItem.service) && r.lastDay >= addDays(a.start, -1) && r.firstDay <= addDays(a.end, a.kind === 'step' ? STEP_FADE_DAYS : 0);

describe(`anomaly scan of the demo organisation on ${testDatabaseKind}`, () => {
  let test: TestDatabase;
  let others: Database[] = [];
  let store: PgCostStore;
  let anomalies: PgAnomalyStore;
  let lastJudged: PlainDate;
  let judged: { start: PlainDate; end: PlainDate };
  const clock = new FixedClock(new Date(START));
  const demo = new DemoCostSource();
  const deps = (): ScanDeps => ({ store, anomalies, clock });
  const sync = () => syncCosts({ source: demo, store, clock }, { ...testSyncSettings(180), readyAfterHourUtc: 0 });
  const scan = (extra: Partial<ScanDeps> = {}) => scanAnomalies({ ...deps(), ...extra }, SETTINGS);
  const stored = () => anomalies.listSince('1900-01-01');
  const emptyAnomalies = () => test.database.db.execute(sql`truncate anomaly_alerts, anomalies`);
  const injectedIn = (range: { start: PlainDate; end: PlainDate }) => demo.listInjectedAnomalies(range);
  const materialIn = (kind: InjectedAnomaly['kind']) => injectedIn(judged).filter((a) => a.kind === kind && excessOf(a) >= MATERIAL_USD);

  beforeAll(async () => {
    test = await openTestDatabase();
    store = new PgCostStore(test.database.db);
    anomalies = new PgAnomalyStore(test.database.db);
    // More instances, each with its own pool, where there is a server to share.
    others = test.url ? await Promise.all([1, 2].map(() => openDatabase({ kind: 'postgres', url: test.url! }))) : [];
    expect((await sync()).errors).toEqual([]);
    lastJudged = (await scan()).lastJudged!;
    judged = judgedUpTo(lastJudged);
  }, 120_000);

  afterAll(async () => {
    for (const other of others) await other.close();
    await test?.dispose();
  });

  it('finds every material spike the demo injected in the judged days, on its team and service, within two days', async () => {
    const records = await stored();
    const spikes = materialIn('spike');
    expect(spikes.length, 'the judged days should hold material spikes').toBeGreaterThanOrEqual(3);
    const missed = spikes.filter((spike) => !records.some((record) => finds(record, spike))).map(describeInjected);
    expect(missed, `missed spikes; stored anomalies: ${records.map(describeRecord).join('; ')}`).toEqual([]);
  });

  it('finds a step change that is material and clears the relative bar, once, and stops flagging it when it becomes the new normal', async () => {
    // Steps of one line item are often small against their team × service (+9% is below the
    // +10% a held shift must reach): those are left to `anomalies` thresholds by design. This
    // world is set just after the first demo step that clears both bars, computed from the model.
    const organisation = createDemoOrganisation();
    const seriesLevel = (a: InjectedAnomaly) =>
      organisation.lineItems.filter((item) => item.team === a.lineItem.team && item.service === a.lineItem.service).reduce((sum, item) => sum + expectedDailyCost(item, dayNumber(a.start)), 0);
    const step = demo
      .listInjectedAnomalies({ start: '2025-12-01', end: '2026-11-01' })
      .find((a) => a.kind === 'step' && excessOf(a) >= MATERIAL_USD && excessOf(a) / seriesLevel(a) >= 0.15);
    expect(step, 'the demo should hold a step that clears both bars').toBeDefined();
    const world = await openTestDatabase();
    try {
      const stepClock = new FixedClock(new Date(`${addDays(step!.start, 21)}T08:00:00Z`));
      const stepStore = new PgCostStore(world.database.db);
      const stepAnomalies = new PgAnomalyStore(world.database.db);
      expect((await syncCosts({ source: demo, store: stepStore, clock: stepClock }, { ...testSyncSettings(150), readyAfterHourUtc: 0 })).errors).toEqual([]);
      await scanAnomalies({ store: stepStore, anomalies: stepAnomalies, clock: stepClock }, SETTINGS);
      const covering = (await stepAnomalies.listSince('1900-01-01')).filter((record) => explainedBy(record, step!));
      expect(covering.map(describeRecord), describeInjected(step!)).toHaveLength(1);
      expect(finds(covering[0]!, step!), describeRecord(covering[0]!)).toBe(true);
      // The level absorbs the step within days: one alert, not one every day for three weeks.
      expect(daysBetween(covering[0]!.firstDay, covering[0]!.lastDay)).toBeLessThan(7);
      expect(covering[0]!.active).toBe(false);
    } finally {
      await world.dispose();
    }
  }, 120_000);

  it('raises nothing on normal weeks: every anomaly is one the demo injected', async () => {
    const records = await stored();
    // Steps last up to 240 days, so look far back for what is still in effect.
    const injected = injectedIn({ start: addDays(lastJudged, -400), end: judged.end });
    const unexplained = records.filter((record) => !injected.some((a) => explainedBy(record, a))).map(describeRecord);
    expect(unexplained, 'anomalies with no injected cause').toEqual([]);
    // A team and three weeks in the judged days when none of its line items was touched.
    const touched = eachDay(judged).map((day) => new Set([...anomalyFactorsOn(demo.organisation, dayNumber(day)).keys()].map((index) => demo.organisation.lineItems[index]!.team)));
    const teams = [...new Set(demo.organisation.lineItems.map((item) => item.team))].sort();
    const quiet = teams.flatMap((team) => {
      const offset = touched.findIndex((_, at) => at + 21 <= touched.length && touched.slice(at, at + 21).every((teamsThatDay) => !teamsThatDay.has(team)));
      return offset < 0 ? [] : [{ team, start: addDays(judged.start, offset) }];
    })[0];
    expect(quiet, 'some team should have a quiet stretch').toBeDefined();
    expect(await anomalies.listOverlapping({ start: quiet!.start, end: addDays(quiet!.start, 21) }, quiet!.team)).toEqual([]);
  });

  it('alerts one event once: the team, service and account views of a spike are one anomaly', async () => {
    const records = await stored();
    const found = materialIn('spike').filter((spike) => records.some((record) => finds(record, spike)));
    expect(found.length).toBeGreaterThan(0);
    for (const spike of found) {
      const covering = records.filter(
        (r) => (r.team === spike.lineItem.team || namesService(r, spike.lineItem.service)) && r.firstDay <= spike.end && r.lastDay >= addDays(spike.start, -1),
      );
      expect(covering.map(describeRecord), describeInjected(spike)).toHaveLength(1);
    }
  });

  it('explains each anomaly by drivers that add up exactly to its impact, naming the usage type and account that spiked', async () => {
    const records = await stored();
    for (const record of records) {
      expect(record.impact, describeRecord(record)).toBe(record.actual - record.expected);
      const dimensions = new Set(record.drivers.map((driver) => driver.dimension));
      expect(dimensions.size, describeRecord(record)).toBeGreaterThan(0);
      for (const dimension of dimensions) {
        const total = sumAmounts(record.drivers.filter((driver) => driver.dimension === dimension).map((driver) => driver.impact));
        expect(total, `${describeRecord(record)} by ${dimension}`).toBe(record.impact);
      }
    }
    const top = (record: AnomalyRecord, dimension: string) =>
      record.drivers.filter((driver) => driver.dimension === dimension && driver.key !== '*').sort((a, b) => (b.impact > a.impact ? 1 : b.impact < a.impact ? -1 : 0))[0]?.key;
    let checked = 0;
    for (const spike of materialIn('spike')) {
      const record = records.find((candidate) => finds(candidate, spike) && candidate.scope.kind === 'team-service');
      if (!record) continue;
      checked++;
      expect([top(record, 'usage-type'), top(record, 'account')], describeInjected(spike)).toEqual([spike.lineItem.usageType, spike.lineItem.account]);
    }
    expect(checked).toBeGreaterThan(0);
  });

  it("reports a spike's actual spend exactly as the store holds it for that team and service", async () => {
    const records = await stored();
    let checked = 0;
    for (const spike of materialIn('spike')) {
      // One- and two-day anomalies: every day between the first and the last was flagged.
      const record = records.find((candidate) => finds(candidate, spike) && daysBetween(candidate.firstDay, candidate.lastDay) <= 1);
      if (!record) continue;
      checked++;
      const range = { start: record.firstDay, end: addDays(record.lastDay, 1) };
      const days = await store.sumByDay('service', { range, metric: 'UnblendedCost', team: spike.lineItem.team, value: spike.lineItem.service });
      expect(record.actual, describeRecord(record)).toBe(sumAmounts(days.map((day) => day.amount)));
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('changes nothing when the same data is scanned again', async () => {
    const before = await stored();
    const report = await scan();
    const after = await stored();
    expect(report.lastJudged).toBe(lastJudged);
    expect(after.map((record) => [record.key, record.version])).toEqual(before.map((record) => [record.key, record.version]));
  });

  it('never judges the most recent stored day, which AWS is still filling in', async () => {
    const days = await store.sumByDay('service', { range: { start: '2000-01-01', end: '2100-01-01' }, metric: 'UnblendedCost' });
    const mostRecent = days.at(-1)!.key;
    expect(mostRecent).toBe(addDays(START.slice(0, 10), -1));
    expect(lastJudged).toBe(addDays(mostRecent, -1));
    expect((await stored()).filter((record) => record.lastDay > lastJudged).map(describeRecord)).toEqual([]);
  });

  it('keeps the same anomaly for the same event the next day, and marks one that is over as ended', async () => {
    const before = await stored();
    const active = before.filter((record) => record.active);
    expect(active.map(describeRecord), `a spike on ${lastJudged} should be active`).not.toEqual([]);
    clock.set(addDays(START.slice(0, 10), 1) + START.slice(10));
    expect((await sync()).errors).toEqual([]);
    const report = await scan();
    expect(report.lastJudged).toBe(addDays(lastJudged, 1));
    const after = await stored();
    expect(after.map((record) => record.key)).toEqual(expect.arrayContaining(before.map((record) => record.key)));
    const duplicates = after.filter((a, i) => after.some((b, j) => j > i && groupOfKey(a) === groupOfKey(b) && a.firstDay <= addDays(b.lastDay, 2) && b.firstDay <= addDays(a.lastDay, 2)));
    expect(duplicates.map(describeRecord)).toEqual([]);
    const ended = active.map((was) => [was, after.find((record) => record.key === was.key)!] as const).filter(([, now]) => now.lastDay < report.lastJudged!);
    expect(ended.length, 'a one-day spike is over the next day').toBeGreaterThan(0);
    for (const [was, now] of ended) {
      expect(now.active, describeRecord(now)).toBe(false);
      expect(now.version, describeRecord(now)).toBeGreaterThan(was.version);
    }
  });

  it('gives a day its verdict once: scans every few days after neither raise an old day for the first time nor drop what they found', async () => {
    // The detector judges each day only against the days before it, so as days are added
    // the verdict on a day already judged must not change.
    const problems: string[] = [];
    let previous = { lastJudged: addDays(lastJudged, 1), records: await stored() };
    for (let step = 1; step <= 7; step++) {
      clock.set(addDays(START.slice(0, 10), 1 + 3 * step) + START.slice(10));
      expect((await sync()).errors).toEqual([]);
      const report = await scan();
      const records = await stored();
      const saved = new Set(report.saved.map((record) => record.key));
      for (const record of records) {
        if (record.firstDay <= previous.lastJudged && !previous.records.some((old) => old.key === record.key)) problems.push(`the scan to ${report.lastJudged} raised ${describeRecord(record)} late`);
      }
      for (const old of previous.records) {
        if (old.firstDay >= judgedUpTo(report.lastJudged!).start && !saved.has(old.key)) problems.push(`the scan to ${report.lastJudged} no longer finds ${describeRecord(old)}`);
      }
      previous = { lastJudged: report.lastJudged!, records };
    }
    expect(problems).toEqual([]);
  }, 120_000);

  it('scans on one instance at a time: three at once leave one set of anomalies, and the others say the lease was taken', async () => {
    await emptyAnomalies();
    const instances = test.url ? [test.database, ...others] : [test.database, test.database, test.database];
    const reports = await Promise.all(instances.map((database) => scanAnomalies({ store: new PgCostStore(database.db), anomalies: new PgAnomalyStore(database.db), clock }, SETTINGS)));
    const ran = reports.filter((report) => report.skipped === undefined);
    expect(ran).toHaveLength(1);
    expect(reports.filter((report) => report.skipped === 'locked')).toHaveLength(2);
    const records = await stored();
    expect(new Set(records.map((record) => record.key)).size).toBe(records.length);
    expect(records.map((record) => record.key).sort()).toEqual(ran[0]!.saved.map((record) => record.key).sort());
    expect(records.length).toBeGreaterThan(0);
  });

  describe('with AWS Cost Anomaly Detection', () => {
    let ce: AwsClientStub<CostExplorerClient>;
    beforeAll(() => {
      ce = mockClient(CostExplorerClient);
    });
    const feed = () =>
      new CostAnomalyFeed({ client: new CostExplorerClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' } }), ledger: store, clock });
    const awsAnomaly = (id: string, start: PlainDate, end: PlainDate, service: string, causes: { account: string; usageType: string; contribution: number }[], spend: { actual: number; expected: number }): Anomaly => ({
      AnomalyId: id,
      AnomalyStartDate: start,
      AnomalyEndDate: end,
      DimensionValue: service,
      RootCauses: causes.map((cause) => ({ Service: service, LinkedAccount: cause.account, Region: 'us-east-1', UsageType: cause.usageType, Impact: { Contribution: cause.contribution } })),
      AnomalyScore: { MaxScore: 0.91, CurrentScore: 0.2 },
      Impact: { MaxImpact: 100, TotalImpact: Math.round((spend.actual - spend.expected) * 100) / 100, TotalActualSpend: spend.actual, TotalExpectedSpend: spend.expected },
      MonitorArn: 'arn:aws:ce::123456789012:anomalymonitor/abcdefgh-1234-4ea0-84cc-918a97d736ef',
    });
    afterAll(() => ce.restore());

    it('merges what AWS found too into our anomaly, and adds what only AWS found, owned by the team whose spend rose', async () => {
      const before = await stored();
      // The clock is where the previous tests left it: today's data is missing, yesterday's is provisional.
      const judgedNow = judgedUpTo(addDays(clock.now().toISOString().slice(0, 10), -2));
      const spike = materialIn('spike').filter((a) => a.start >= judgedNow.start).at(-1)!;
      const ours = before.find((record) => finds(record, spike))!;
      expect(ours, describeInjected(spike)).toBeDefined();
      // A material step we did not flag at its onset (see the step test): AWS's model may see it.
      const step = injectedIn(judgedNow).find(
        (a) => a.kind === 'step' && excessOf(a) >= MATERIAL_USD && !before.some((r) => namesService(r, a.lineItem.service) && r.firstDay <= addDays(a.start, 4) && r.lastDay >= addDays(a.start, -1)),
      )!;
      expect(step, 'an unflagged step in the judged days').toBeDefined();
      const { lineItem } = step;
      ce.reset();
      ce.on(GetAnomaliesCommand).resolves({
        $metadata: { attempts: 1 },
        Anomalies: [
          awsAnomaly('aws-same', spike.start, spike.start, spike.lineItem.service, [{ account: spike.lineItem.account, usageType: spike.lineItem.usageType, contribution: 150 }], { actual: 400, expected: 250 }),
          awsAnomaly('aws-only', step.start, addDays(step.start, 3), lineItem.service, [
            { account: lineItem.account, usageType: lineItem.usageType, contribution: 231.17 },
            { account: '481516234201', usageType: 'USE1-Notebk:ml.t3.medium', contribution: 40.01 },
          ], { actual: 3521.4, expected: 3250.2 }),
        ],
      });
      const report = await scan({ awsFeed: feed() });
      expect(report.awsError).toBeUndefined();
      const after = await stored();
      expect(after).toHaveLength(before.length + 1);
      expect(after.find((record) => record.key === ours.key)).toMatchObject({ source: 'both', awsAnomalyId: 'aws-same' });
      const only = after.find((record) => record.awsAnomalyId === 'aws-only')!;
      expect(only).toMatchObject({ scope: { kind: 'aws', value: lineItem.service }, source: 'aws', team: lineItem.team, firstDay: step.start, lastDay: addDays(step.start, 3), active: false });
      expect(only.impact).toBe(only.actual - only.expected);
      for (const dimension of ['service', 'account', 'region', 'usage-type'] as const) {
        const drivers = only.drivers.filter((driver) => driver.dimension === dimension);
        expect(sumAmounts(drivers.map((driver) => driver.impact)), dimension).toBe(only.impact);
      }
      expect(only.drivers.find((driver) => driver.dimension === 'usage-type')?.key).toBe(lineItem.usageType);
    });

    it('still stores our own anomalies when AWS throttles, and says why AWS was left out', async () => {
      await emptyAnomalies();
      ce.reset();
      ce.on(GetAnomaliesCommand).rejects(new LimitExceededException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400, attempts: 5 } }));
      const warnings: string[] = [];
      const report = await scan({ awsFeed: feed(), logger: { warn: (_details, message) => warnings.push(message) } });
      expect(report.awsError).toMatch(/^AWS Cost Explorer is throttling requests.*\.$/);
      expect(warnings).toHaveLength(1);
      expect(report.saved.length).toBeGreaterThan(0);
      const records = await stored();
      expect(records.map((record) => record.key).sort()).toEqual(report.saved.map((record) => record.key).sort());
      expect(records.every((record) => record.source === 'finops')).toBe(true);
    });
  });
});
