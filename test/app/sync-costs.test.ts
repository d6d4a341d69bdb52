import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PgCostStore } from '../../src/adapters/db/cost-store.js';
import { DemoCostSource } from '../../src/adapters/demo/demo-cost-source.js';
import { isStale, syncCosts } from '../../src/app/sync-costs.js';
import { COST_METRICS } from '../../src/core/cost-model.js';
import { toCents } from '../../src/core/money.js';
import { FinOpsError } from '../../src/core/errors.js';
import { addDays } from '../../src/core/period.js';
import type { CostSource, DailyCostRequest } from '../../src/ports.js';
import { emptyAllTables, openTestDatabase, testDatabaseKind, type TestDatabase } from '../support/test-database.js';
import { renderText } from '../../src/render/text.js';
import { centsIn, engineFor, FixedClock, sourceTotal, startFakeAws, TEST_FACETS, testSyncSettings } from '../support/world.js';

/** AWS revising recent days: every amount on or after `from` is scaled by `factor`. */
class RevisingSource implements CostSource {
  readonly kind = 'demo' as const;
  revision: { from: string; factor: bigint } | undefined;
  constructor(private readonly inner: CostSource) {}
  async getDailyCosts(request: DailyCostRequest) {
    const rows = await this.inner.getDailyCosts(request);
    const revision = this.revision;
    if (!revision) return rows;
    return rows.map((row) =>
      row.date >= revision.from
        ? { ...row, costs: Object.fromEntries(COST_METRICS.map((metric) => [metric, row.costs[metric] * revision.factor])) as typeof row.costs }
        : row,
    );
  }
  getForecast: CostSource['getForecast'] = (range, metric) => this.inner.getForecast(range, metric);
  getAccountNames: CostSource['getAccountNames'] = (range) => this.inner.getAccountNames(range);
}

describe(`cost sync on ${testDatabaseKind}`, () => {
  let test: TestDatabase;
  let store: PgCostStore;
  const clock = new FixedClock(new Date('2026-11-22T06:30:00Z'));
  const demo = new DemoCostSource();

  beforeAll(async () => {
    test = await openTestDatabase();
    store = new PgCostStore(test.database.db);
  });
  afterAll(async () => test.dispose());
  beforeEach(async () => {
    await emptyAllTables(test.database);
    clock.set('2026-11-22T06:30:00Z');
  });

  const total = (start: string, end: string, facet: 'service' | 'usage-type' = 'service') =>
    store.sumBy(facet, 'team', { range: { start, end }, metric: 'UnblendedCost' }).then((rows) => rows.reduce((sum, row) => sum + row.amount, 0n));

  it('backfills every facet through yesterday (UTC) and each facet holds the same exact daily total as the source', async () => {
    expect(await isStale({ store, clock }, testSyncSettings())).toBe(true);
    const report = await syncCosts({ source: demo, store, clock }, testSyncSettings(30));
    expect(report.errors).toEqual([]);
    expect(report.synced.map((entry) => entry.facet).sort()).toEqual([...TEST_FACETS].sort());
    expect(report.synced.every((entry) => entry.start === '2026-10-23' && entry.end === '2026-11-22')).toBe(true);
    expect(await isStale({ store, clock }, testSyncSettings())).toBe(false);
    const expected = await sourceTotal(demo, { start: '2026-10-23', end: '2026-11-22' });
    for (const facet of ['service', 'usage-type'] as const) expect(await total('2026-10-23', '2026-11-22', facet)).toBe(expected);
    // Nothing for today: the day is not complete.
    expect(await total('2026-11-22', '2026-11-23')).toBe(0n);
    expect(await store.accountNames()).toEqual(await demo.getAccountNames({ start: '2026-10-23', end: '2026-11-22' }));
  });

  it('re-running on the same day does nothing, and a forced re-sync neither duplicates nor loses a fact', async () => {
    await syncCosts({ source: demo, store, clock }, testSyncSettings(30));
    const before = await total('2026-10-23', '2026-11-22');
    expect((await syncCosts({ source: demo, store, clock }, testSyncSettings(30))).skipped).toBe('fresh');
    const forced = await syncCosts({ source: demo, store, clock }, testSyncSettings(30), { force: true });
    expect(forced.synced.map((entry) => entry.start)).toEqual(TEST_FACETS.map(() => '2026-11-19'));
    expect(await total('2026-10-23', '2026-11-22')).toBe(before);
    const rows = await test.database.db.execute(sql`select count(*) as n from cost_facts group by facet, usage_date, team, value having count(*) > 1`);
    expect((rows as unknown as { rows: unknown[] }).rows).toEqual([]);
  });

  it('the next day re-fetches the last three days, so AWS revisions replace the old figures', async () => {
    const revising = new RevisingSource(demo);
    await syncCosts({ source: revising, store, clock }, testSyncSettings(30));
    const oldDay = await total('2026-11-18', '2026-11-19');
    const revisedDay = await total('2026-11-20', '2026-11-21');
    clock.set('2026-11-23T06:30:00Z');
    revising.revision = { from: '2026-11-19', factor: 2n };
    const report = await syncCosts({ source: revising, store, clock }, testSyncSettings(30));
    expect(report.synced[0]).toMatchObject({ start: '2026-11-19', end: '2026-11-23' });
    expect(await total('2026-11-18', '2026-11-19')).toBe(oldDay);
    expect(await total('2026-11-20', '2026-11-21')).toBe(revisedDay * 2n);
    expect(await total('2026-11-22', '2026-11-23')).toBe((await sourceTotal(demo, { start: '2026-11-22', end: '2026-11-23' })) * 2n);
  });

  it('costs one Cost Explorer request per facet per day, however many times it is asked', async () => {
    const { fake, source } = await startFakeAws(store, clock);
    try {
      await syncCosts({ source, store, clock }, testSyncSettings(30));
      // The backfill may page (usage types are many); every page is a request in the ledger.
      const backfill = fake.requests.GetCostAndUsage;
      expect(backfill).toBeGreaterThanOrEqual(TEST_FACETS.length);
      // Plus one request for account names and one for Cost Explorer's own forecast.
      expect(fake.requests.GetDimensionValues).toBe(1);
      expect(fake.requests.GetCostForecast).toBe(1);
      expect((await store.countApiRequests(new Date('2026-11-22T00:00:00Z'))).requests).toBe(backfill + 2);
      const awsForecast = await new DemoCostSource().getForecast({ start: '2026-11-22', end: '2026-12-01' }, 'UnblendedCost');
      expect(await store.sourceForecast('UnblendedCost', '2026-11-22')).toEqual(awsForecast);
      // `forecast` shows it beside the bot's own: spend so far plus Cost Explorer's rest of the month.
      const forecast = renderText(await engineFor(store, clock, 'aws').handle('forecast', { channel: 'console' }));
      const spent = toCents(await sourceTotal(demo, { start: '2026-11-01', end: '2026-11-22' }));
      expect(centsIn(/AWS Cost Explorer forecast\s+(.*)/.exec(forecast)![1]!)).toBe(toCents(awsForecast.mean) + spent);
      for (let i = 0; i < 20; i++) await syncCosts({ source, store, clock }, testSyncSettings(30));
      expect(fake.requests.GetCostAndUsage).toBe(backfill);
      clock.set('2026-11-23T06:20:00Z');
      await syncCosts({ source, store, clock }, testSyncSettings(30));
      // A daily sync re-fetches four days: one page per facet, then names and the forecast again.
      expect(fake.requests.GetCostAndUsage - backfill).toBe(TEST_FACETS.length);
      expect(fake.requests.GetDimensionValues).toBe(2);
      expect(fake.requests.GetCostForecast).toBe(2);
      const paid = backfill + TEST_FACETS.length + 4;
      expect(await store.countApiRequests(new Date('2026-11-22T00:00:00Z'))).toEqual({ requests: paid, attempts: paid });
    } finally {
      await fake.close();
    }
  });

  it('stops at the first throttled facet, records the sentence, and backs off instead of retrying every run', async () => {
    const { fake, source } = await startFakeAws(store, clock);
    try {
      fake.throttleNext(Number.POSITIVE_INFINITY);
      const report = await syncCosts({ source, store, clock }, testSyncSettings(30));
      expect(report.errors).toHaveLength(1);
      expect(report.errors[0]!.message).toMatch(/throttl/i);
      const sent = fake.requests.GetCostAndUsage;
      expect(sent).toBe(3); // the SDK's three attempts at the first facet, then we stop
      const states = await store.getSyncStates();
      expect(states.find((state) => state.facet === 'service')?.lastError).toMatch(/throttl/i);
      // What a user sees meanwhile: why there is nothing to show, in a sentence.
      const reply = await engineFor(store, clock, 'aws').handle('cost 7d', { channel: 'console' });
      expect(reply.kind).toBe('error');
      expect(renderText(reply)).toMatch(/^I have no cost data yet, because the last sync failed\. AWS Cost Explorer is throttling requests/);
      clock.set('2026-11-22T06:45:00Z');
      expect((await syncCosts({ source, store, clock }, testSyncSettings(30))).skipped).toBe('backing-off');
      expect(fake.requests.GetCostAndUsage).toBe(sent);
      fake.throttleNext(0);
      clock.set('2026-11-22T07:31:00Z');
      const retried = await syncCosts({ source, store, clock }, testSyncSettings(30));
      expect(retried.errors).toEqual([]);
      expect((await store.getSyncStates()).every((state) => state.lastError === undefined)).toBe(true);
      expect((await store.accountNames()).size).toBeGreaterThan(0);
    } finally {
      await fake.close();
    }
  });

  it('when several instances sync at once, only one of them fetches', async () => {
    const { fake, source } = await startFakeAws(store, clock);
    try {
      const stores = [store, new PgCostStore(test.database.db), new PgCostStore(test.database.db)];
      const reports = await Promise.all(stores.map((instance) => syncCosts({ source, store: instance, clock }, testSyncSettings(30))));
      expect(reports.filter((report) => report.ran && report.synced.length > 0)).toHaveLength(1);
      expect((await store.countApiRequests(new Date('2026-11-22T00:00:00Z'))).requests).toBe(
        fake.requests.GetCostAndUsage + fake.requests.GetDimensionValues + fake.requests.GetCostForecast,
      );
      expect(fake.requests.GetCostForecast).toBe(1);
      expect(await total('2026-10-23', '2026-11-22')).toBe(await sourceTotal(demo, { start: '2026-10-23', end: '2026-11-22' }));
    } finally {
      await fake.close();
    }
  });

  it('backfills in windows, so an interrupted backfill keeps what it got and resumes there', async () => {
    let calls = 0;
    const flaky: CostSource = {
      kind: 'demo',
      getDailyCosts: async (request) => {
        calls++;
        if (calls === 3) throw new FinOpsError('cost_source_throttled', 'AWS Cost Explorer is throttling requests.');
        return demo.getDailyCosts(request);
      },
      getForecast: (range, metric) => demo.getForecast(range, metric),
      getAccountNames: (range) => demo.getAccountNames(range),
    };
    const settings = { ...testSyncSettings(90), windowDays: 31 };
    const first = await syncCosts({ source: flaky, store, clock }, settings);
    expect(first.errors).toHaveLength(1);
    // Two 31-day windows of the first facet landed before the failure.
    const service = (await store.getSyncStates()).find((state) => state.facet === 'service')!;
    expect(service.syncedUntil).toBe(addDays('2026-11-22', -90 + 62));
    clock.set('2026-11-22T08:00:00Z');
    const resumed = await syncCosts({ source: flaky, store, clock }, settings);
    expect(resumed.errors).toEqual([]);
    expect(resumed.synced.find((entry) => entry.facet === 'service')!.start).toBe(addDays('2026-11-22', -90 + 62 - 3));
    expect(await total(addDays('2026-11-22', -90), '2026-11-22')).toBe(await sourceTotal(demo, { start: addDays('2026-11-22', -90), end: '2026-11-22' }));
  });

  it("waits until 06:00 UTC to fetch yesterday, which AWS is still filling in just after midnight", async () => {
    await syncCosts({ source: demo, store, clock }, testSyncSettings(30));
    clock.set('2026-11-23T03:00:00Z');
    expect(await isStale({ store, clock }, testSyncSettings())).toBe(false);
    expect((await syncCosts({ source: demo, store, clock }, testSyncSettings(30))).skipped).toBe('fresh');
    clock.set('2026-11-23T06:05:00Z');
    const report = await syncCosts({ source: demo, store, clock }, testSyncSettings(30));
    expect(report.synced[0]).toMatchObject({ start: '2026-11-19', end: '2026-11-23' });
  });

  it('on the 3rd and the 8th re-fetches the whole previous month, for its month-close items', async () => {
    clock.set('2026-12-02T06:30:00Z');
    await syncCosts({ source: demo, store, clock }, testSyncSettings(60));
    clock.set('2026-12-03T06:30:00Z');
    const early = await syncCosts({ source: demo, store, clock }, testSyncSettings(60));
    expect(early.synced.map((entry) => entry.start)).toEqual(TEST_FACETS.map(() => '2026-11-01'));
    // Not every day: on the 4th only the usual three days.
    clock.set('2026-12-04T06:30:00Z');
    const next = await syncCosts({ source: demo, store, clock }, testSyncSettings(60));
    expect(next.synced.map((entry) => entry.start)).toEqual(TEST_FACETS.map(() => '2026-11-30'));
    clock.set('2026-12-08T06:30:00Z');
    const again = await syncCosts({ source: demo, store, clock }, testSyncSettings(60));
    expect(again.synced.map((entry) => entry.start)).toEqual(TEST_FACETS.map(() => '2026-11-01'));
    clock.set('2026-12-10T06:30:00Z');
    await syncCosts({ source: demo, store, clock }, testSyncSettings(60));
    clock.set('2026-12-11T06:30:00Z');
    const later = await syncCosts({ source: demo, store, clock }, testSyncSettings(60));
    expect(later.synced.map((entry) => entry.start)).toEqual(TEST_FACETS.map(() => '2026-12-07'));
  });

  it('stops at the first failure, retries the failing facet last and ever less often, with a short error and no SQL', async () => {
    const calls = new Map<string, number>();
    const broken: CostSource = {
      kind: 'demo',
      getDailyCosts: async (request) => {
        const key = request.groupBy[1].key;
        calls.set(key, (calls.get(key) ?? 0) + 1);
        if (key === 'USAGE_TYPE') throw new Error(`Failed query: insert into "cost_facts" ${'($1, $2, $3) '.repeat(2_000)}`);
        return demo.getDailyCosts(request);
      },
      getForecast: (range, metric) => demo.getForecast(range, metric),
      getAccountNames: (range) => demo.getAccountNames(range),
    };
    const first = await syncCosts({ source: broken, store, clock }, testSyncSettings(30));
    expect(first.errors.map((error) => error.facet)).toEqual(['usage-type']);
    // Nothing after the failure was asked for: the Environment tag waits for the next run.
    expect(calls.get('Environment')).toBeUndefined();
    const message = (await store.getSyncStates()).find((state) => state.facet === 'usage-type')!.lastError!;
    expect(message).toBe('The sync of usage-type failed on our side (Error); the details are in the logs.');
    expect(first.errors[0]!.cause).toBeInstanceOf(Error);
    // The totals are current, so Cost Explorer's forecast was still fetched.
    expect(await store.sourceForecast('UnblendedCost', '2026-11-22')).toBeDefined();
    const healthy = ['SERVICE', 'LINKED_ACCOUNT', 'REGION'].map((key) => calls.get(key));
    // Retries after 1 hour, then 2, then 4: the failing facet goes last, healthy ones are not asked again.
    const attempts: [string, boolean][] = [
      ['2026-11-22T07:00:00Z', false],
      ['2026-11-22T07:31:00Z', true],
      ['2026-11-22T09:00:00Z', false],
      ['2026-11-22T09:32:00Z', true],
      ['2026-11-22T13:00:00Z', false],
      ['2026-11-22T13:33:00Z', true],
    ];
    for (const [at, runs] of attempts) {
      clock.set(at);
      const before = calls.get('USAGE_TYPE');
      const report = await syncCosts({ source: broken, store, clock }, testSyncSettings(30));
      expect(report.ran, at).toBe(runs);
      expect(calls.get('USAGE_TYPE')! - before!, at).toBe(runs ? 1 : 0);
    }
    expect(calls.get('Environment')).toBe(1);
    expect(['SERVICE', 'LINKED_ACCOUNT', 'REGION'].map((key) => calls.get(key))).toEqual(healthy);
  });

  it('keeps where the history starts: a legacy database without it is filled in by migration, and re-fetches never move it', async () => {
    await syncCosts({ source: demo, store, clock }, testSyncSettings(30));
    await test.database.db.execute(sql`update sync_state set synced_from = null`);
    clock.set('2026-11-23T06:30:00Z');
    await syncCosts({ source: demo, store, clock }, testSyncSettings(30));
    expect((await store.getSyncStates()).every((state) => state.syncedFrom === undefined)).toBe(true);
    // Apply the migration that fills synced_from in again, as an upgrade would: forget it and
    // every later one, and drop what the later ones created so they apply cleanly.
    const journal = JSON.parse(readFileSync('src/adapters/db/migrations/meta/_journal.json', 'utf8')) as { entries: { tag: string; when: number }[] };
    const fillIn = journal.entries.find((entry) => entry.tag === '0006_backfill_synced_from')!;
    await test.database.db.execute(sql`delete from drizzle.__drizzle_migrations where created_at >= ${fillIn.when}`);
    await test.database.db.execute(sql`drop table if exists inbound_deliveries, digest_deliveries, digest_subscriptions, ai_conversation_turns, ai_usage, anomaly_alerts, anomalies, budget_alerts, budgets, rightsizing_audit, rightsizing_recommendations, rightsizing_approvers, rightsizing_syncs`);
    await test.database.migrate();
    expect((await store.getSyncStates()).map((state) => state.syncedFrom)).toEqual(TEST_FACETS.map(() => '2026-10-23'));
    const reply = renderText(await engineFor(store, clock).handle('cost 7d', { channel: 'console' }));
    expect(reply).toMatch(/^Previous 2026-11-09 – 2026-11-15/m);
  });

  it('runs one sync at a time even within one process', async () => {
    const { fake, source } = await startFakeAws(store, clock);
    try {
      const reports = await Promise.all([1, 2, 3].map(() => syncCosts({ source, store, clock }, testSyncSettings(30))));
      expect(reports.filter((report) => report.ran)).toHaveLength(1);
      expect(reports.filter((report) => report.skipped === 'locked')).toHaveLength(2);
    } finally {
      await fake.close();
    }
  });

  it('answers say which recent days AWS still marks as estimated', async () => {
    const estimating: CostSource = {
      kind: 'demo',
      getDailyCosts: async (request) => (await demo.getDailyCosts(request)).map((row) => ({ ...row, estimated: row.date >= '2026-11-20' })),
      getForecast: (range, metric) => demo.getForecast(range, metric),
      getAccountNames: (range) => demo.getAccountNames(range),
    };
    await syncCosts({ source: estimating, store, clock }, testSyncSettings(30));
    const engine = engineFor(store, clock);
    expect(renderText(await engine.handle('cost 7d', { channel: 'console' }))).toContain('AWS still estimates days from 2026-11-20');
    expect(renderText(await engine.handle('cost 2026-11-21', { channel: 'console' }))).toContain('AWS still estimates days from 2026-11-21');
    expect(renderText(await engine.handle('cost 2026-10', { channel: 'console' }))).not.toContain('estimates');
  });

  it('keeps exactly the configured backfill window on the first sync', async () => {
    await syncCosts({ source: demo, store, clock }, testSyncSettings(45));
    const days = await store.sumByDay('service', { range: { start: '2020-01-01', end: '2030-01-01' }, metric: 'UnblendedCost' });
    expect(days[0]!.key).toBe(addDays('2026-11-22', -45));
    expect(days.at(-1)!.key).toBe('2026-11-21');
    expect(days).toHaveLength(45);
  });
});
