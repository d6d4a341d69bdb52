/**
 * Subscriptions and the digest delivery ledger: each (subscription, period) is taken by one
 * instance at a time, a crashed instance's work is taken over once its lease ends, and
 * failures are retried or, when a person must act, marked on the subscription.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../../src/adapters/db/database.js';
import { PgDigestStore } from '../../../src/adapters/db/digest-store.js';
import type { NewSubscription } from '../../../src/ports.js';
import { emptyAllTables, openTestDatabase, testDatabaseKind, type TestDatabase } from '../../support/test-database.js';

const SLACK = ['slack'] as const;

const channel = (conversationId: string, extra: Partial<NewSubscription> = {}): NewSubscription => ({
  platform: 'slack',
  conversationId,
  cadence: 'daily',
  team: undefined,
  timeZone: 'UTC',
  createdBy: 'U0ALICE01',
  ...extra,
});

describe(`digest store on ${testDatabaseKind}`, () => {
  let test: TestDatabase;
  let others: Database[] = [];
  let store: PgDigestStore;

  beforeAll(async () => {
    test = await openTestDatabase();
    store = new PgDigestStore(test.database.db);
    // Two more instances, each with its own pool, where there is a server to share.
    others = test.url ? await Promise.all([1, 2].map(() => openDatabase({ kind: 'postgres', url: test.url! }))) : [];
  });

  afterAll(async () => {
    for (const other of others) await other.close();
    await test.dispose();
  });

  beforeEach(async () => emptyAllTables(test.database));

  it('keeps one subscription per conversation, cadence and team, the whole organisation included', async () => {
    expect((await store.subscribe(channel('C1'))).created).toBe(true);
    expect((await store.subscribe(channel('C1'))).created).toBe(false);
    expect((await store.subscribe(channel('C1', { team: 'payments' }))).created).toBe(true);
    expect((await store.subscribe(channel('C1', { cadence: 'weekly' }))).created).toBe(true);
    expect((await store.subscribe(channel('C1', { team: '' }))).created).toBe(true);
    const listed = await store.listFor('slack', 'C1');
    expect(listed.map(({ subscription }) => [subscription.cadence, subscription.team])).toEqual([
      ['daily', ''],
      ['daily', 'payments'],
      ['daily', undefined],
      ['weekly', undefined],
    ]);
    expect(await store.unsubscribe(channel('C1', { team: 'payments' }))).toBe(true);
    expect(await store.unsubscribe(channel('C1', { team: 'payments' }))).toBe(false);
    expect(await store.listFor('slack', 'C2')).toEqual([]);
  });

  it('plans a period once, however many instances plan it', async () => {
    await store.subscribe(channel('C1'));
    await store.subscribe(channel('C2'));
    await store.subscribe(channel('C3', { timeZone: 'Europe/Paris' }));
    await store.subscribe(channel('C4', { cadence: 'weekly' }));
    const planned = await Promise.all([1, 2, 3].map(() => store.plan('daily', 'UTC', 'daily:2026-11-21')));
    expect(planned.reduce((sum, count) => sum + count, 0)).toBe(2);
    expect(await store.schedules()).toEqual([
      { cadence: 'daily', timeZone: 'Europe/Paris' },
      { cadence: 'daily', timeZone: 'UTC' },
      { cadence: 'weekly', timeZone: 'UTC' },
    ]);
  });

  it('gives each planned delivery to exactly one of three racing instances', async () => {
    for (let index = 0; index < 12; index++) await store.subscribe(channel(`C${index}`));
    await store.plan('daily', 'UTC', 'daily:2026-11-21');
    const instances = [store, ...others.map((other) => new PgDigestStore(other.db))];
    const taken = await Promise.all(
      [0, 1, 2].map(async (index) => {
        const instance = instances[index % instances.length]!;
        const mine: string[] = [];
        for (let claim = await instance.claimNext(`i${index}`, 60_000, SLACK); claim; claim = await instance.claimNext(`i${index}`, 60_000, SLACK)) {
          mine.push(claim.subscription.conversationId);
          await instance.recordPosted(claim.delivery, `i${index}`, undefined);
        }
        return mine;
      }),
    );
    const all = taken.flat().sort();
    expect(all).toHaveLength(12);
    expect(new Set(all).size).toBe(12);
  });

  it('hands over a crashed instance’s delivery once its lease ends, keeping the message it already posted', async () => {
    await store.subscribe(channel('C1'));
    await store.plan('daily', 'UTC', 'daily:2026-11-21');
    const first = (await store.claimNext('dead', 60_000, SLACK))!;
    await store.recordMessage(first.delivery, 'dead', '1700000000.000100', 60_000);
    expect(await store.claimNext('alive', 60_000, SLACK)).toBeUndefined();
    await test.database.db.execute(sql`update digest_deliveries set lease_until = now() - interval '1 second'`);
    const second = (await store.claimNext('alive', 60_000, SLACK))!;
    expect(second.delivery.messageId).toBe('1700000000.000100');
    expect(second.delivery.attempts).toBe(2);
    // The dead instance's late write changes nothing and says so: the delivery is no longer its own.
    expect(await store.recordPosted(first.delivery, 'dead', 'F-late')).toBe(false);
    expect(await store.recordPosted(second.delivery, 'alive', 'F1')).toBe(true);
    const [listed] = await store.listFor('slack', 'C1');
    expect(listed?.lastDelivery?.status).toBe('posted');
    expect(await store.claimNext('alive', 60_000, SLACK)).toBeUndefined();
  });

  it('retries a passing failure later, and marks a permanent one on the subscription until a success', async () => {
    await store.subscribe(channel('C1'));
    await store.subscribe(channel('C2'));
    await store.plan('daily', 'UTC', 'daily:2026-11-21');
    const a = (await store.claimNext('me', 60_000, SLACK))!;
    const b = (await store.claimNext('me', 60_000, SLACK))!;
    await store.recordFailure(a.delivery, 'me', { error: 'ratelimited', permanent: false });
    await store.recordFailure(b.delivery, 'me', { error: 'not_in_channel', permanent: true });
    expect(await store.claimNext('me', 60_000, SLACK)).toBeUndefined();
    await test.database.db.execute(sql`update digest_deliveries set lease_until = now() - interval '1 second'`);
    const retried = (await store.claimNext('me', 60_000, SLACK))!;
    expect(retried.subscription.conversationId).toBe(a.subscription.conversationId);
    expect(await store.claimNext('me', 60_000, SLACK)).toBeUndefined();
    const problem = (await store.listFor('slack', b.subscription.conversationId))[0]!;
    expect(problem.subscription.problem).toBe('not_in_channel');
    expect(problem.lastDelivery?.status).toBe('gave_up');
    await store.plan('daily', 'UTC', 'daily:2026-11-22');
    let next = await store.claimNext('me', 60_000, SLACK);
    while (next && next.subscription.conversationId !== b.subscription.conversationId) next = await store.claimNext('me', 60_000, SLACK);
    await store.recordPosted(next!.delivery, 'me', undefined);
    expect((await store.listFor('slack', b.subscription.conversationId))[0]!.subscription.problem).toBeUndefined();
  });

  it('lets a digest wait for its data without using up attempts, and only for its own platform', async () => {
    await store.subscribe(channel('C1'));
    await store.subscribe(channel('T1', { platform: 'teams' }));
    await store.plan('daily', 'UTC', 'daily:2026-11-21');
    expect(await store.claimNext('me', 60_000, ['teams'])).toMatchObject({ subscription: { conversationId: 'T1' } });
    const waiting = (await store.claimNext('me', 60_000, SLACK))!;
    expect(await store.postpone(waiting.delivery, 'me', 'data through 2026-11-20 only', 60_000)).toBe(true);
    expect(await store.claimNext('me', 60_000, SLACK)).toBeUndefined();
    await test.database.db.execute(sql`update digest_deliveries set lease_until = now() - interval '1 second'`);
    const again = (await store.claimNext('me', 60_000, SLACK))!;
    expect(again.delivery.attempts).toBe(1);
    expect(again.delivery.error).toBe('data through 2026-11-20 only');
  });

  it('gives up a delivery that keeps failing and says so on the subscription', async () => {
    await store.subscribe(channel('C1'));
    await store.plan('daily', 'UTC', 'daily:2026-11-21');
    for (let attempt = 0; attempt < 4; attempt++) {
      const claim = (await store.claimNext('me', 60_000, SLACK))!;
      await store.recordFailure(claim.delivery, 'me', { error: 'internal_error', permanent: false, messageId: '1700000000.000100' });
      await test.database.db.execute(sql`update digest_deliveries set lease_until = now() - interval '1 second'`);
    }
    expect(await store.claimNext('me', 60_000, SLACK)).toBeUndefined();
    expect(await store.giveUpStale()).toBe(1);
    const [listed] = await store.listFor('slack', 'C1');
    expect(listed?.lastDelivery).toMatchObject({ status: 'gave_up', messageId: '1700000000.000100' });
    expect(listed?.subscription.problem).toContain('not delivered in time (last: internal_error)');
  });

  it('forgets deliveries with their subscription', async () => {
    await store.subscribe(channel('C1'));
    await store.plan('daily', 'UTC', 'daily:2026-11-21');
    await store.unsubscribe(channel('C1'));
    expect(await store.claimNext('me', 60_000, SLACK)).toBeUndefined();
  });
});
