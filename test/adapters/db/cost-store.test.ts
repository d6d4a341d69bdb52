import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { PgCostStore } from '../../../src/adapters/db/cost-store.js';
import { selectRows } from '../../../src/adapters/db/database.js';
import type { CostFact } from '../../../src/core/cost-model.js';
import { parseAmount, sumAmounts } from '../../../src/core/money.js';
import { emptyAllTables, openTestDatabase, testDatabaseKind, type TestDatabase } from '../../support/test-database.js';

function fact(date: string, team: string, value: string, unblended: string): CostFact {
  const amount = parseAmount(unblended);
  return {
    date,
    facet: 'service',
    team,
    value,
    currency: 'USD',
    costs: { UnblendedCost: amount, AmortizedCost: amount - 1n, NetUnblendedCost: amount },
    estimated: false,
  };
}

describe(`cost store on ${testDatabaseKind}`, () => {
  let test: TestDatabase;
  let store: PgCostStore;

  beforeAll(async () => {
    test = await openTestDatabase();
    store = new PgCostStore(test.database.db);
  });
  afterAll(async () => test.dispose());
  beforeEach(async () => {
    await emptyAllTables(test.database);
  });

  it('applies the migrations: every table exists and a second migrate is a no-op', async () => {
    await test.database.migrate();
    const tables = await selectRows<{ table_name: string }>(
      test.database.db,
      sql`select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
    );
    expect(tables.map((row) => row.table_name)).toEqual(['account_names', 'ai_conversation_turns', 'ai_usage', 'anomalies', 'anomaly_alerts', 'api_requests', 'budget_alerts', 'budgets', 'cost_facts', 'cost_rollups', 'digest_deliveries', 'digest_subscriptions', 'inbound_deliveries', 'job_leases', 'rightsizing_approvers', 'rightsizing_audit', 'rightsizing_recommendations', 'rightsizing_syncs', 'source_forecasts', 'sync_state']);
  });

  it('sums exactly to the tenth digit, with no float drift', async () => {
    // 0.1 is not representable in binary floating point; seven of them sum to 0.7000000007 exactly.
    const facts = Array.from({ length: 7 }, (_, i) => fact('2026-11-01', 'payments', `svc-${i}`, '0.1000000001'));
    await store.replaceFacts('service', { start: '2026-11-01', end: '2026-11-02' }, facts);
    const sums = await store.sumBy('service', 'value', { range: { start: '2026-11-01', end: '2026-11-02' }, metric: 'UnblendedCost' });
    expect(sumAmounts(sums.map((row) => row.amount))).toBe(parseAmount('0.7000000007'));
  });

  it('re-syncing a range replaces it: nothing duplicated, nothing outside the range lost', async () => {
    await store.replaceFacts('service', { start: '2026-11-01', end: '2026-11-04' }, [
      fact('2026-11-01', 'payments', 'EC2', '10'),
      fact('2026-11-02', 'payments', 'EC2', '20'),
      fact('2026-11-03', 'payments', 'EC2', '30'),
    ]);
    await store.replaceFacts('service', { start: '2026-11-02', end: '2026-11-04' }, [
      fact('2026-11-02', 'payments', 'EC2', '21'),
      fact('2026-11-03', 'payments', 'EC2', '31'),
    ]);
    const days = await store.sumByDay('service', { range: { start: '2026-11-01', end: '2026-11-04' }, metric: 'UnblendedCost' });
    expect(days).toEqual([
      { key: '2026-11-01', amount: parseAmount('10') },
      { key: '2026-11-02', amount: parseAmount('21') },
      { key: '2026-11-03', amount: parseAmount('31') },
    ]);
  });

  it('organisation-wide sums (read from the rollups) always equal the sum over teams (read from the facts)', async () => {
    const range = { start: '2026-11-01', end: '2026-11-03' };
    const write = (scale: string) =>
      store.replaceFacts('service', range, [
        fact('2026-11-01', 'payments', 'EC2', `10.${scale}`),
        fact('2026-11-01', 'search', 'EC2', `5.${scale}`),
        fact('2026-11-02', 'search', 'S3', `2.${scale}`),
        fact('2026-11-02', '', 'EC2', `1.${scale}`),
      ]);
    for (const scale of ['0000000001', '5']) {
      await write(scale);
      for (const by of ['value', 'team'] as const) {
        const orgWide = await store.sumBy('service', by, { range, metric: 'UnblendedCost' });
        const perTeam = await Promise.all(['payments', 'search', ''].map((team) => store.sumBy('service', by, { range, metric: 'UnblendedCost', team })));
        const merged = new Map<string, bigint>();
        for (const row of perTeam.flat()) merged.set(row.key, (merged.get(row.key) ?? 0n) + row.amount);
        expect(new Map(orgWide.map((row) => [row.key, row.amount]))).toEqual(merged);
      }
      const days = await store.sumByDay('service', { range, metric: 'UnblendedCost' });
      expect(days.map((day) => day.amount)).toEqual([
        parseAmount(`10.${scale}`) + parseAmount(`5.${scale}`),
        parseAmount(`2.${scale}`) + parseAmount(`1.${scale}`),
      ]);
    }
  });

  it('filters by team and keeps untagged spend under the empty team', async () => {
    await store.replaceFacts('service', { start: '2026-11-01', end: '2026-11-02' }, [
      fact('2026-11-01', 'payments', 'EC2', '10'),
      fact('2026-11-01', '', 'EC2', '5'),
    ]);
    const byTeam = await store.sumBy('service', 'team', { range: { start: '2026-11-01', end: '2026-11-02' }, metric: 'AmortizedCost' });
    expect(byTeam.sort((a, b) => a.key.localeCompare(b.key))).toEqual([
      { key: '', amount: parseAmount('5') - 1n },
      { key: 'payments', amount: parseAmount('10') - 1n },
    ]);
    const untagged = await store.sumBy('service', 'value', { range: { start: '2026-11-01', end: '2026-11-02' }, metric: 'UnblendedCost', team: '' });
    expect(untagged).toEqual([{ key: 'EC2', amount: parseAmount('5') }]);
  });

  it('lets only one instance hold the sync lock at a time', async () => {
    const other = new PgCostStore(test.database.db);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const first = store.withSyncLock(async () => {
      await held;
      return 'first';
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await other.withSyncLock(async () => 'second')).toBeUndefined();
    release();
    expect(await first).toBe('first');
    expect(await other.withSyncLock(async () => 'second')).toBe('second');
  });

  it('remembers account names, renames included', async () => {
    await store.saveAccountNames(new Map([['481516234201', 'acme-prod'], ['905812347763', 'acme-shared']]));
    await store.saveAccountNames(new Map([['481516234201', 'acme-production']]));
    expect(await store.accountNames()).toEqual(new Map([['481516234201', 'acme-production'], ['905812347763', 'acme-shared']]));
  });

  it('keeps a ledger of paid requests', async () => {
    const at = new Date('2026-11-22T06:00:00Z');
    await store.record({ at, operation: 'GetCostAndUsage', attempts: 2, outcome: 'ok', detail: 'page 1' });
    await store.record({ at, operation: 'GetCostAndUsage', attempts: 1, outcome: 'ok', detail: 'page 2' });
    // Failed before it was sent (no credentials): not a paid request.
    await store.record({ at, operation: 'GetCostAndUsage', attempts: 0, outcome: 'error', detail: 'page 1' });
    expect(await store.countApiRequests(new Date('2026-11-22T00:00:00Z'))).toEqual({ requests: 2, attempts: 3 });
    expect(await store.countApiRequests(new Date('2026-11-23T00:00:00Z'))).toEqual({ requests: 0, attempts: 0 });
  });
});
