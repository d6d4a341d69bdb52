/**
 * The anomaly store: detections round-trip exactly and are updated in place (their version
 * growing only when an alert would show something new), status clicks are idempotent, and
 * each alert is delivered by one instance at a time however many race for it.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PgAnomalyStore } from '../../../src/adapters/db/anomaly-store.js';
import { openDatabase, selectRows, type Database } from '../../../src/adapters/db/database.js';
import { parseAmount } from '../../../src/core/money.js';
import type { DetectedAnomaly } from '../../../src/ports.js';
import { emptyAllTables, openTestDatabase, testDatabaseKind, type TestDatabase } from '../../support/test-database.js';

const SLACK = ['slack'] as const;
const AT = new Date('2026-11-21T06:00:00Z');

const detection = (key: string, extra: Partial<DetectedAnomaly> = {}): DetectedAnomaly => ({
  key,
  scope: { kind: 'team-service', team: 'payments', value: 'Amazon EC2' },
  team: 'payments',
  firstDay: '2026-11-18',
  lastDay: '2026-11-20',
  active: true,
  expected: parseAmount('300'),
  actual: parseAmount('1200.5'),
  impact: parseAmount('900.5'),
  severity: 'medium',
  score: 7.25,
  currency: 'USD',
  drivers: [
    { dimension: 'region', key: 'eu-west-1', impact: parseAmount('900') },
    { dimension: 'region', key: '*', impact: parseAmount('0.5') },
  ],
  source: 'finops',
  awsAnomalyId: undefined,
  ...extra,
});

describe(`anomaly store on ${testDatabaseKind}`, () => {
  let test: TestDatabase;
  let others: Database[] = [];
  let store: PgAnomalyStore;

  beforeAll(async () => {
    test = await openTestDatabase();
    store = new PgAnomalyStore(test.database.db);
    // Two more instances, each with its own pool, where there is a server to share.
    others = test.url ? await Promise.all([1, 2].map(() => openDatabase({ kind: 'postgres', url: test.url! }))) : [];
  });

  afterAll(async () => {
    for (const other of others) await other.close();
    await test.dispose();
  });

  beforeEach(async () => emptyAllTables(test.database));

  const expireLeases = () => test.database.db.execute(sql`update anomaly_alerts set lease_until = now() - interval '1 second'`);

  it('keeps amounts, scope, drivers and the untagged team exactly', async () => {
    const tiny = detection('tiny', {
      scope: { kind: 'team', team: '' },
      team: '',
      expected: parseAmount('0'),
      actual: parseAmount('0.0000000001'),
      impact: parseAmount('0.0000000001'),
      drivers: [{ dimension: 'usage-type', key: 'BoxUsage:m5.large', impact: parseAmount('0.0000000001') }],
    });
    const huge = detection('huge', {
      scope: { kind: 'account', value: '123456789012' },
      team: undefined,
      expected: parseAmount('-12345678901.0000000001'),
      actual: parseAmount('99999999999999.9999999999'),
      impact: parseAmount('87654321098765.4321098765'),
      drivers: [],
      source: 'both',
      awsAnomalyId: 'aws-1',
    });
    const aws = detection('aws', { scope: { kind: 'aws', value: '' }, team: undefined, source: 'aws', severity: 'high', score: 0.125 });
    const saved = await store.saveDetected([tiny, huge, aws], AT);
    expect(saved.map((record) => record.key)).toEqual(['tiny', 'huge', 'aws']);
    for (const [index, input] of [tiny, huge, aws].entries()) {
      const record = (await store.get(saved[index]!.id))!;
      expect(record).toEqual({
        ...input,
        id: saved[index]!.id,
        status: 'open',
        statusBy: undefined,
        statusAt: undefined,
        snoozedUntil: undefined,
        version: 1,
        detectedAt: AT,
        updatedAt: AT,
      });
      expect(saved[index]).toEqual(record);
    }
    expect((await store.get(saved[0]!.id))!.team).toBe('');
    expect(await store.get(saved[2]!.id + 1000)).toBeUndefined();
    expect(await store.saveDetected([], AT)).toEqual([]);
  });

  it('updates a detection in place, growing its version only when a shown field changed', async () => {
    const [first] = await store.saveDetected([detection('a')], AT);
    const later = new Date(AT.getTime() + 3_600_000);
    const [same] = await store.saveDetected([detection('a')], later);
    expect(same).toEqual(first);
    // Score and currency are not shown: stored, but no new version.
    const [rescored] = await store.saveDetected([detection('a', { score: 9.5 })], later);
    expect(rescored).toMatchObject({ id: first!.id, score: 9.5, version: 1, updatedAt: later });
    const [grown] = await store.saveDetected([detection('a', { lastDay: '2026-11-21', actual: parseAmount('1500.5'), impact: parseAmount('1200.5') })], later);
    expect(grown).toMatchObject({ id: first!.id, lastDay: '2026-11-21', impact: parseAmount('1200.5'), version: 2, detectedAt: AT });
    const [redriven] = await store.saveDetected(
      [detection('a', { lastDay: '2026-11-21', actual: parseAmount('1500.5'), impact: parseAmount('1200.5'), drivers: [] })],
      later,
    );
    expect(redriven!.version).toBe(3);
    const [ended] = await store.saveDetected([detection('a', { lastDay: '2026-11-21', actual: parseAmount('1500.5'), impact: parseAmount('1200.5'), drivers: [], active: false })], later);
    expect(ended!.version).toBe(4);
    expect(await store.listSince('2026-01-01')).toHaveLength(1);
  });

  it('returns the records in input order, and keeps the last of repeated keys', async () => {
    await store.saveDetected([detection('b')], AT);
    const saved = await store.saveDetected([detection('c'), detection('b', { severity: 'high' }), detection('c', { severity: 'low' })], AT);
    expect(saved.map((record) => [record.key, record.severity])).toEqual([
      ['c', 'low'],
      ['b', 'high'],
      ['c', 'low'],
    ]);
  });

  it('never lets a scan touch what people decided', async () => {
    const [record] = await store.saveDetected([detection('a')], AT);
    await store.setStatus(record!.id, { status: 'acknowledged', by: 'U0ALICE01', at: AT });
    const [rescanned] = await store.saveDetected([detection('a', { severity: 'high' })], AT);
    expect(rescanned).toMatchObject({ status: 'acknowledged', statusBy: 'U0ALICE01', version: 3 });
  });

  it('lists anomalies since a day and those overlapping a range, by team', async () => {
    await store.saveDetected(
      [
        detection('old', { firstDay: '2026-10-01', lastDay: '2026-10-03' }),
        detection('late', { firstDay: '2026-11-15', lastDay: '2026-11-16', impact: parseAmount('50') }),
        detection('early', { firstDay: '2026-11-10', lastDay: '2026-11-20', impact: parseAmount('50') }),
        detection('untagged', { firstDay: '2026-11-20', lastDay: '2026-11-30', team: '', scope: { kind: 'team', team: '' }, impact: parseAmount('70') }),
        detection('account', { firstDay: '2026-11-12', lastDay: '2026-11-12', team: undefined, scope: { kind: 'account', value: '1' } }),
      ],
      AT,
    );
    expect((await store.listSince('2026-11-16')).map((record) => record.key)).toEqual(['early', 'late', 'untagged']);
    const november = { start: '2026-11-12', end: '2026-11-20' };
    expect((await store.listOverlapping(november)).map((record) => record.key)).toEqual(['account', 'late', 'early']);
    expect((await store.listOverlapping(november, 'payments')).map((record) => record.key)).toEqual(['late', 'early']);
    expect((await store.listOverlapping({ start: '2026-11-20', end: '2026-11-21' }, '')).map((record) => record.key)).toEqual(['untagged']);
    expect(await store.listOverlapping({ start: '2026-12-01', end: '2027-01-01' })).toEqual([]);
  });

  it('changes a status once: a repeated click writes nothing', async () => {
    const [record] = await store.saveDetected([detection('a')], AT);
    const id = record!.id;
    const clicked = new Date(AT.getTime() + 60_000);
    const acknowledged = (await store.setStatus(id, { status: 'acknowledged', by: 'U0ALICE01', at: clicked }))!;
    expect(acknowledged.changed).toBe(true);
    expect(acknowledged.record).toMatchObject({ status: 'acknowledged', statusBy: 'U0ALICE01', statusAt: clicked, version: 2, updatedAt: clicked });
    const again = (await store.setStatus(id, { status: 'acknowledged', by: 'U0BOB0002', at: new Date(clicked.getTime() + 1_000) }))!;
    expect(again).toEqual({ record: acknowledged.record, changed: false });

    const until = new Date('2026-11-28T00:00:00Z');
    const snoozed = (await store.setStatus(id, { status: 'snoozed', by: 'U0BOB0002', at: clicked, snoozedUntil: until }))!;
    expect(snoozed).toMatchObject({ changed: true, record: { status: 'snoozed', snoozedUntil: until, version: 3 } });
    const snoozedAgain = (await store.setStatus(id, { status: 'snoozed', by: 'U0BOB0002', at: clicked, snoozedUntil: new Date('2026-12-28T00:00:00Z') }))!;
    expect(snoozedAgain).toEqual({ record: snoozed.record, changed: false });
    const dismissed = (await store.setStatus(id, { status: 'dismissed', by: 'U0ALICE01', at: clicked }))!;
    expect(dismissed.record).toMatchObject({ status: 'dismissed', snoozedUntil: undefined, version: 4 });
    expect(await store.setStatus(id + 1000, { status: 'open', by: 'U0ALICE01', at: clicked })).toBeUndefined();
  });

  it('reopens snoozes that have ended, and only those', async () => {
    const [a, b, c] = await store.saveDetected([detection('a'), detection('b'), detection('c')], AT);
    await store.setStatus(a!.id, { status: 'snoozed', by: 'U1', at: AT, snoozedUntil: new Date('2026-11-22T00:00:00Z') });
    await store.setStatus(b!.id, { status: 'snoozed', by: 'U1', at: AT, snoozedUntil: new Date('2026-11-25T00:00:00Z') });
    await store.setStatus(c!.id, { status: 'acknowledged', by: 'U1', at: AT });
    const now = new Date('2026-11-22T00:00:00Z');
    expect(await store.endSnoozes(now)).toBe(1);
    expect(await store.endSnoozes(now)).toBe(0);
    expect(await store.get(a!.id)).toMatchObject({ status: 'open', snoozedUntil: undefined, statusBy: undefined, statusAt: now, version: 3 });
    expect(await store.get(b!.id)).toMatchObject({ status: 'snoozed', version: 2 });
    expect(await store.get(c!.id)).toMatchObject({ status: 'acknowledged', version: 2 });
  });

  it('plans each alert once and gives each to exactly one of three racing instances', async () => {
    const saved = await store.saveDetected(
      Array.from({ length: 4 }, (_, index) => detection(`k${index}`)),
      AT,
    );
    const targets = [
      { platform: 'slack', conversationId: 'C1' },
      { platform: 'slack', conversationId: 'C2' },
      { platform: 'slack', conversationId: 'C3' },
    ] as const;
    await Promise.all(saved.flatMap((record) => [1, 2].map(() => store.planAlerts(record.id, targets))));
    await store.planAlerts(saved[0]!.id, []);
    expect(await store.alertsOf(saved[0]!.id)).toHaveLength(3);
    const instances = [store, ...others.map((other) => new PgAnomalyStore(other.db))];
    const taken = await Promise.all(
      [0, 1, 2].map(async (index) => {
        const instance = instances[index % instances.length]!;
        const mine: string[] = [];
        for (let claim = await instance.claimAlert(`i${index}`, 60_000, SLACK); claim; claim = await instance.claimAlert(`i${index}`, 60_000, SLACK)) {
          mine.push(`${claim.anomaly.key}/${claim.alert.conversationId}`);
          expect(await instance.recordAlertPosted(claim.alert, `i${index}`, `ts-${claim.alert.conversationId}`, claim.anomaly.version)).toBe(true);
        }
        return mine;
      }),
    );
    const all = taken.flat();
    expect(all).toHaveLength(12);
    expect(new Set(all).size).toBe(12);
    expect(await store.alertsOf(saved[0]!.id)).toEqual(
      ['C1', 'C2', 'C3'].map((conversationId) => ({
        anomalyId: saved[0]!.id,
        platform: 'slack',
        conversationId,
        messageId: `ts-${conversationId}`,
        postedVersion: 1,
        attempts: 0,
        error: undefined,
      })),
    );
  });

  it('takes alerts only for the platforms asked, never-posted ones first', async () => {
    const [a, b] = await store.saveDetected([detection('a'), detection('b')], AT);
    await store.planAlerts(a!.id, [{ platform: 'slack', conversationId: 'C1' }]);
    const first = (await store.claimAlert('me', 60_000, SLACK))!;
    await store.recordAlertPosted(first.alert, 'me', 'ts-1', first.anomaly.version);
    await store.planAlerts(b!.id, [
      { platform: 'slack', conversationId: 'C1' },
      { platform: 'teams', conversationId: 'T1' },
    ]);
    await store.setStatus(a!.id, { status: 'acknowledged', by: 'U1', at: AT });
    expect(await store.claimAlert('me', 60_000, [])).toBeUndefined();
    const teams = (await store.claimAlert('me', 60_000, ['teams']))!;
    expect(teams.alert).toMatchObject({ anomalyId: b!.id, conversationId: 'T1', attempts: 1 });
    const next = (await store.claimAlert('me', 60_000, SLACK))!;
    expect(next.alert).toMatchObject({ anomalyId: b!.id, conversationId: 'C1', postedVersion: 0 });
    const update = (await store.claimAlert('me', 60_000, SLACK))!;
    expect(update).toMatchObject({ alert: { anomalyId: a!.id, messageId: 'ts-1', postedVersion: 1 }, anomaly: { status: 'acknowledged', version: 2 } });
    expect(await store.claimAlert('me', 60_000, SLACK)).toBeUndefined();
  });

  it('refuses a late write from an instance whose lease was taken over', async () => {
    const [record] = await store.saveDetected([detection('a')], AT);
    await store.planAlerts(record!.id, [{ platform: 'slack', conversationId: 'C1' }]);
    const first = (await store.claimAlert('dead', 60_000, SLACK))!;
    expect(await store.claimAlert('alive', 60_000, SLACK)).toBeUndefined();
    await expireLeases();
    const second = (await store.claimAlert('alive', 60_000, SLACK))!;
    expect(second.alert.attempts).toBe(2);
    expect(await store.recordAlertPosted(first.alert, 'dead', 'ts-late', 1)).toBe(false);
    expect(await store.recordAlertFailure(first.alert, 'dead', { error: 'late', permanent: true })).toBe(false);
    expect(await store.recordAlertPosted(second.alert, 'alive', 'ts-1', second.anomaly.version)).toBe(true);
    expect(await store.recordAlertPosted(second.alert, 'alive', 'ts-again', second.anomaly.version)).toBe(false);
    expect((await store.alertsOf(record!.id))[0]).toMatchObject({ messageId: 'ts-1', postedVersion: 1, attempts: 0 });
  });

  it('makes a posted alert due again when its anomaly changes, keeping its message', async () => {
    const [record] = await store.saveDetected([detection('a')], AT);
    await store.planAlerts(record!.id, [{ platform: 'slack', conversationId: 'C1' }]);
    const posted = (await store.claimAlert('me', 60_000, SLACK))!;
    await store.recordAlertPosted(posted.alert, 'me', 'ts-1', posted.anomaly.version);
    expect(await store.claimAlert('me', 60_000, SLACK)).toBeUndefined();
    await store.saveDetected([detection('a')], AT);
    expect(await store.claimAlert('me', 60_000, SLACK)).toBeUndefined();
    await store.saveDetected([detection('a', { severity: 'high' })], AT);
    const update = (await store.claimAlert('me', 60_000, SLACK))!;
    expect(update).toMatchObject({ alert: { messageId: 'ts-1', postedVersion: 1 }, anomaly: { severity: 'high', version: 2 } });
    expect(await store.recordAlertPosted(update.alert, 'me', 'ts-1', update.anomaly.version)).toBe(true);
    expect(await store.claimAlert('me', 60_000, SLACK)).toBeUndefined();
    // A version recorded late never moves the posted version back.
    await store.saveDetected([detection('a', { severity: 'low' })], AT);
    const third = (await store.claimAlert('me', 60_000, SLACK))!;
    expect(await store.recordAlertPosted(third.alert, 'me', 'ts-1', 1)).toBe(true);
    expect((await store.alertsOf(record!.id))[0]!.postedVersion).toBe(2);
  });

  it('sets a message back when a click redrew it with an older version than the one posted', async () => {
    const [record] = await store.saveDetected([detection('a')], AT);
    const target = { platform: 'slack', conversationId: 'C1' } as const;
    await store.planAlerts(record!.id, [target]);
    const posted = (await store.claimAlert('me', 60_000, SLACK))!;
    await store.saveDetected([detection('a', { severity: 'high' })], AT);
    await store.recordAlertPosted(posted.alert, 'me', 'ts-1', 2);
    // A redraw at the current version changes nothing; an older one makes the alert due again.
    await store.noteAlertRedrawn(record!.id, target, 2);
    expect(await store.claimAlert('me', 60_000, SLACK)).toBeUndefined();
    await store.noteAlertRedrawn(record!.id, target, 1);
    const again = (await store.claimAlert('me', 60_000, SLACK))!;
    expect(again).toMatchObject({ alert: { messageId: 'ts-1', postedVersion: 1 }, anomaly: { version: 2 } });
  });

  it('retries a passing failure later, never a permanent one, and after five attempts waits for the next scan', async () => {
    const [a, b] = await store.saveDetected([detection('a'), detection('b')], AT);
    await store.planAlerts(a!.id, [{ platform: 'slack', conversationId: 'C1' }]);
    await store.planAlerts(b!.id, [{ platform: 'slack', conversationId: 'C2' }]);
    const passing = (await store.claimAlert('me', 60_000, SLACK))!;
    const permanent = (await store.claimAlert('me', 60_000, SLACK))!;
    expect(await store.recordAlertFailure(passing.alert, 'me', { error: 'ratelimited', permanent: false })).toBe(true);
    expect(await store.recordAlertFailure(permanent.alert, 'me', { error: 'channel_not_found', permanent: true })).toBe(true);
    // The retry waits, and the failed attempt can no longer be recorded by its holder.
    expect(await store.claimAlert('me', 60_000, SLACK)).toBeUndefined();
    expect(await store.recordAlertPosted(passing.alert, 'me', 'ts', 1)).toBe(false);
    await expireLeases();
    const retried = (await store.claimAlert('me', 60_000, SLACK))!;
    expect(retried.alert).toMatchObject({ conversationId: passing.alert.conversationId, attempts: 2, error: 'ratelimited' });
    expect(await store.claimAlert('me', 60_000, SLACK)).toBeUndefined();
    // A permanent failure stays given up, even when its anomaly changes.
    await store.setStatus(b!.id, { status: 'dismissed', by: 'U1', at: AT });
    expect(await store.claimAlert('me', 60_000, SLACK)).toBeUndefined();
    expect((await store.alertsOf(b!.id))[0]).toMatchObject({ error: 'channel_not_found', attempts: 1 });

    await store.recordAlertFailure(retried.alert, 'me', { error: 'internal_error', permanent: false });
    await expireLeases();
    for (let attempt = 3; attempt <= 5; attempt++) {
      const claim = (await store.claimAlert('me', 60_000, SLACK))!;
      expect(claim.alert.attempts).toBe(attempt);
      await store.recordAlertFailure(claim.alert, 'me', { error: 'internal_error', permanent: false });
      await expireLeases();
    }
    expect(await store.claimAlert('me', 60_000, SLACK)).toBeUndefined();
    // The next scan gives an alert still behind its anomaly another round: late, not lost.
    await store.saveDetected([detection('a'), detection('b')], AT);
    expect((await store.claimAlert('me', 60_000, SLACK))!.alert).toMatchObject({ conversationId: 'C1', attempts: 1 });
    expect(await store.claimAlert('me', 60_000, SLACK)).toBeUndefined();
  });

  it('waits longer after each passing failure', async () => {
    const [record] = await store.saveDetected([detection('a')], AT);
    await store.planAlerts(record!.id, [{ platform: 'slack', conversationId: 'C1' }]);
    const waits: number[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const claim = (await store.claimAlert('me', 60_000, SLACK))!;
      await store.recordAlertFailure(claim.alert, 'me', { error: 'internal_error', permanent: false });
      const [row] = await selectRows<{ wait: number }>(test.database.db, sql`select extract(epoch from lease_until - now())::float8 as wait from anomaly_alerts`);
      waits.push(Math.round(row!.wait / 60));
      await expireLeases();
    }
    expect(waits).toEqual([1, 2, 4]);
  });

  it('forgets alerts with their anomaly', async () => {
    const [record] = await store.saveDetected([detection('a')], AT);
    await store.planAlerts(record!.id, [{ platform: 'slack', conversationId: 'C1' }]);
    await test.database.db.execute(sql`delete from anomalies`);
    expect(await store.alertsOf(record!.id)).toEqual([]);
    expect(await store.claimAlert('me', 60_000, SLACK)).toBeUndefined();
  });

  it('lets one scan run at a time, on any instance, and frees the lock when the scan ends or fails', async () => {
    const instances = [store, ...others.map((other) => new PgAnomalyStore(other.db))];
    let release!: () => void;
    const blocker = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const running = store.withScanLock(async () => {
      entered();
      await blocker;
      return 'first';
    });
    await inside;
    for (const instance of instances) expect(await instance.withScanLock(async () => 'second')).toBeUndefined();
    release();
    expect(await running).toBe('first');
    await expect(instances.at(-1)!.withScanLock(async () => Promise.reject(new Error('scan failed')))).rejects.toThrow('scan failed');
    expect(await store.withScanLock(async () => 'third')).toBe('third');
  });

  it('says the database is unavailable when it cannot be reached', async () => {
    const closed = test.url ? await openDatabase({ kind: 'postgres', url: test.url }) : await openDatabase({ kind: 'pglite', dataDir: undefined });
    await closed.close();
    const unreachable = new PgAnomalyStore(closed.db);
    await expect(unreachable.get(1)).rejects.toMatchObject({ code: 'database_unavailable' });
    await expect(unreachable.withScanLock(async () => 'never')).rejects.toMatchObject({ code: 'database_unavailable' });
  });
});
