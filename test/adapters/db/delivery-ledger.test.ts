/**
 * The delivery ledger decides which of several instances answers a delivery Slack sent more
 * than once: exactly one claim wins, however many race, and a restart keeps the memory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../../src/adapters/db/database.js';
import { PgDeliveryLedger } from '../../../src/adapters/db/delivery-ledger.js';
import { openTestDatabase, testDatabaseKind, type TestDatabase } from '../../support/test-database.js';

describe(`delivery ledger on ${testDatabaseKind}`, () => {
  let test: TestDatabase;
  let second: Database | undefined;

  beforeAll(async () => {
    test = await openTestDatabase();
    // A second instance: its own connection pool to the same database where there is a server.
    second = test.url ? await openDatabase({ kind: 'postgres', url: test.url }) : undefined;
  });

  afterAll(async () => {
    await second?.close();
    await test.dispose();
  });

  it('lets exactly one of many racing claims of a key win, across instances', async () => {
    const instances = [new PgDeliveryLedger(test.database.db), new PgDeliveryLedger((second ?? test.database).db)];
    const claims = await Promise.all(Array.from({ length: 20 }, (_, index) => instances[index % 2]!.claim('slack:event:Ev0RACE')));
    expect(claims.filter(Boolean)).toHaveLength(1);
  });

  it('claims different keys independently and remembers them for a new instance', async () => {
    const first = new PgDeliveryLedger(test.database.db);
    expect(await Promise.all(['a', 'b', 'c'].map((key) => first.claim(`slack:command:${key}`)))).toEqual([true, true, true]);
    const restarted = new PgDeliveryLedger(test.database.db);
    expect(await restarted.claim('slack:command:b')).toBe(false);
  });

  it('lets a released claim be taken again, once', async () => {
    const ledger = new PgDeliveryLedger(test.database.db);
    expect(await ledger.claim('slack:share:C1:1.2')).toBe(true);
    await ledger.release('slack:share:C1:1.2');
    expect(await Promise.all([ledger.claim('slack:share:C1:1.2'), ledger.claim('slack:share:C1:1.2')])).toEqual(expect.arrayContaining([true, false]));
  });

  it('forgets claims older than a given time, and only those', async () => {
    const ledger = new PgDeliveryLedger(test.database.db);
    await ledger.claim('slack:event:Ev0OLD');
    expect(await ledger.forgetBefore(new Date(Date.now() - 60_000))).toBe(0);
    expect(await ledger.claim('slack:event:Ev0OLD')).toBe(false);
    expect(await ledger.forgetBefore(new Date(Date.now() + 60_000))).toBeGreaterThanOrEqual(1);
    expect(await ledger.claim('slack:event:Ev0OLD')).toBe(true);
  });
});
