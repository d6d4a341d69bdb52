/**
 * The budget store: budgets round-trip exactly, per team ('' apart), and a replacement hands
 * back what it replaced; each threshold alert is claimed by exactly one of however many
 * instances race for it, and a claim given back after a failed post can be taken again.
 */
import { asc } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PgBudgetStore } from '../../../src/adapters/db/budget-store.js';
import { openDatabase, type Database } from '../../../src/adapters/db/database.js';
import { budgetAlerts } from '../../../src/adapters/db/schema.js';
import { parseAmount } from '../../../src/core/money.js';
import type { Budget, BudgetAlertKey } from '../../../src/ports.js';
import { emptyAllTables, openTestDatabase, testDatabaseKind, type TestDatabase } from '../../support/test-database.js';

const AT = new Date('2026-11-21T06:00:00Z');
const LATER = new Date('2026-11-22T09:30:00Z');
/** Soon after AT: a claim without a message is still its claimer's (takeover waits 15 minutes). */
const SOON = new Date('2026-11-21T06:05:00Z');

const budget = (team: string, amount: string, extra: Partial<Budget> = {}): Budget => ({
  team,
  amount: parseAmount(amount),
  currency: 'USD',
  setBy: 'U0ALICE',
  setAt: AT,
  ...extra,
});

const KEY: BudgetAlertKey = { team: 'payments', month: '2026-11-01', kind: 'actual', threshold: 80 };

describe(`budget store on ${testDatabaseKind}`, () => {
  let test: TestDatabase;
  let others: Database[] = [];
  let store: PgBudgetStore;

  beforeAll(async () => {
    test = await openTestDatabase();
    store = new PgBudgetStore(test.database.db);
    // Two more instances, each with its own pool, where there is a server to share.
    others = test.url ? await Promise.all([1, 2].map(() => openDatabase({ kind: 'postgres', url: test.url! }))) : [];
  });

  afterAll(async () => {
    for (const other of others) await other.close();
    await test.dispose();
  });

  beforeEach(async () => emptyAllTables(test.database));

  const instances = () => [store, ...others.map((other) => new PgBudgetStore(other.db))];

  it('keeps amounts exactly, with who set them and when', async () => {
    await store.set(budget('payments', '25000.0000000001'));
    await store.set(budget('search', '0.01', { currency: 'EUR', setBy: 'console', setAt: LATER }));
    expect(await store.get('payments')).toEqual(budget('payments', '25000.0000000001'));
    expect((await store.get('payments'))!.amount).toBe(250000000000001n);
    expect(await store.get('search')).toEqual({ team: 'search', amount: parseAmount('0.01'), currency: 'EUR', setBy: 'console', setAt: LATER });
    expect(await store.get('unknown')).toBeUndefined();
  });

  it("keeps the untagged team ('') apart from every named one", async () => {
    await store.set(budget('', '100'));
    await store.set(budget('payments', '200'));
    expect(await store.get('')).toEqual(budget('', '100'));
    expect(await store.get('payments')).toEqual(budget('payments', '200'));
    expect(await store.remove('')).toBe(true);
    expect(await store.get('')).toBeUndefined();
    expect(await store.get('payments')).toEqual(budget('payments', '200'));
  });

  it('returns the budget a set replaced, and nothing for a new team', async () => {
    expect(await store.set(budget('payments', '1000'))).toBeUndefined();
    const replaced = await store.set(budget('payments', '1500.5', { setBy: 'U0BOB', setAt: LATER }));
    expect(replaced).toEqual(budget('payments', '1000'));
    expect(await store.get('payments')).toEqual(budget('payments', '1500.5', { setBy: 'U0BOB', setAt: LATER }));
    expect(await store.list()).toHaveLength(1);
  });

  it('hands each racing set back the budget it replaced, across instances', async () => {
    const amounts = ['100', '200', '300', '400', '500', '600'];
    const all = instances();
    const replaced = await Promise.all(amounts.map((amount, index) => all[index % all.length]!.set(budget('payments', amount))));
    // One set came first; every other replaced exactly one earlier budget, none twice.
    expect(replaced.filter((previous) => previous === undefined)).toHaveLength(1);
    const final = (await store.get('payments'))!.amount;
    const seen = [...replaced.flatMap((previous) => (previous ? [previous.amount] : [])), final];
    expect(seen.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(amounts.map(parseAmount));
  });

  it('removes a budget once: true when there was one, false after', async () => {
    await store.set(budget('payments', '1000'));
    expect(await store.remove('payments')).toBe(true);
    expect(await store.remove('payments')).toBe(false);
    expect(await store.remove('never-set')).toBe(false);
    expect(await store.get('payments')).toBeUndefined();
  });

  it('lists every budget by team', async () => {
    for (const team of ['search', '', 'payments', 'data']) await store.set(budget(team, '10'));
    expect((await store.list()).map((entry) => entry.team)).toEqual(['', 'data', 'payments', 'search']);
    expect(await store.list()).toContainEqual(budget('data', '10'));
  });

  it('refuses a budget that is not above zero', async () => {
    await expect(store.set(budget('payments', '0'))).rejects.toThrow();
    await expect(store.set(budget('payments', '-5'))).rejects.toThrow();
    expect(await store.list()).toEqual([]);
  });

  it('gives a threshold alert to exactly one of three racing instances, and refuses repeats', async () => {
    const all = instances();
    const claims = await Promise.all(Array.from({ length: 12 }, (_, index) => all[index % all.length]!.claimAlert(KEY, AT)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    for (const instance of all) expect(await instance.claimAlert(KEY, SOON)).toBe(false);
  });

  it('claims each team, month, kind and threshold independently', async () => {
    expect(await store.claimAlert(KEY, AT)).toBe(true);
    const variants: BudgetAlertKey[] = [
      { ...KEY, team: '' },
      { ...KEY, month: '2026-12-01' },
      { ...KEY, kind: 'forecast' },
      { ...KEY, threshold: 100 },
    ];
    expect(await Promise.all(variants.map((key) => store.claimAlert(key, AT)))).toEqual([true, true, true, true]);
    expect(await Promise.all([KEY, ...variants].map((key) => store.claimAlert(key, SOON)))).toEqual([false, false, false, false, false]);
  });

  it('lets a claim released after a failed post be taken again, once', async () => {
    expect(await store.claimAlert(KEY, AT)).toBe(true);
    await store.releaseAlert(KEY);
    const all = instances();
    const claims = await Promise.all(all.flatMap((instance) => [instance.claimAlert(KEY, LATER), instance.claimAlert(KEY, LATER)]));
    expect(claims.filter(Boolean)).toHaveLength(1);
  });

  it('lets another instance take over a claim left without a message for 15 minutes, but not a posted one', async () => {
    const posted = { ...KEY, kind: 'forecast' } as const;
    expect(await store.claimAlert(KEY, AT)).toBe(true);
    expect(await store.claimAlert(posted, AT)).toBe(true);
    await store.recordAlertMessage(posted, 'C0BUDGETS', '1795406531.000100');
    const minutes = (count: number) => new Date(AT.getTime() + count * 60_000);
    // The claiming instance may still be posting: not yet.
    expect(await store.claimAlert(KEY, minutes(14))).toBe(false);
    // It died before posting: taken over once, and the takeover starts a new 15 minutes.
    const all = instances();
    const takeovers = await Promise.all(all.map((instance) => instance.claimAlert(KEY, minutes(16))));
    expect(takeovers.filter(Boolean)).toHaveLength(1);
    expect(await store.claimAlert(KEY, minutes(20))).toBe(false);
    expect(await store.claimAlert(posted, minutes(60))).toBe(false);
  });

  it('keeps a claim whose message was recorded, even when released', async () => {
    expect(await store.claimAlert(KEY, AT)).toBe(true);
    const other = { ...KEY, kind: 'forecast' } as const;
    expect(await store.claimAlert(other, AT)).toBe(true);
    await store.recordAlertMessage(KEY, 'C0BUDGETS', '1795406531.000100');
    await store.releaseAlert(KEY);
    await store.releaseAlert(other);
    expect(await store.claimAlert(KEY, LATER)).toBe(false);
    expect(await test.database.db.select().from(budgetAlerts).orderBy(asc(budgetAlerts.kind))).toEqual([
      { ...KEY, claimedAt: AT, conversationId: 'C0BUDGETS', messageId: '1795406531.000100' },
    ]);
    // Only the alert without a message was given back.
    expect(await store.claimAlert(other, LATER)).toBe(true);
  });

  it('releases and records nothing for an alert nobody claimed', async () => {
    await store.recordAlertMessage(KEY, 'C0BUDGETS', '1.2');
    await store.releaseAlert(KEY);
    expect(await store.claimAlert(KEY, AT)).toBe(true);
  });
});
