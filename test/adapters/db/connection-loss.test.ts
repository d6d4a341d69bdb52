/**
 * A PostgreSQL connection that drops in the middle of a transaction (an Aurora failover, an
 * RDS Proxy reset) fails that write with a sentence, never crashes the process, and the
 * next query reconnects. A TCP proxy in the test stands in for the network and is cut.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgCostStore } from '../../../src/adapters/db/cost-store.js';
import { type Database, openDatabase } from '../../../src/adapters/db/database.js';
import type { CostFact } from '../../../src/core/cost-model.js';
import { isFinOpsError } from '../../../src/core/errors.js';
import { parseAmount } from '../../../src/core/money.js';
import { addDays } from '../../../src/core/period.js';
import { openTestDatabase, type TestDatabase } from '../../support/test-database.js';

const onPostgres = Boolean(process.env.DATABASE_URL);
describe.skipIf(!onPostgres)(onPostgres ? 'losing the PostgreSQL connection mid-transaction' : 'skipped: losing a PostgreSQL connection needs DATABASE_URL', () => {
  let test: TestDatabase;
  let proxy: Server;
  let database: Database;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    test = await openTestDatabase();
    const target = new URL(test.url!);
    proxy = createServer((client) => {
      const upstream = connect(Number(target.port || 5432), target.hostname);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => sockets.delete(socket));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const viaProxy = new URL(test.url!);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String((proxy.address() as { port: number }).port);
    database = await openDatabase({ kind: 'postgres', url: viaProxy.toString() });
  });
  afterAll(async () => {
    await database.close();
    await new Promise((resolve) => proxy.close(resolve));
    await test.dispose();
  });

  it('fails the write with a sentence, keeps the process alive, and reconnects for the next query', async () => {
    const store = new PgCostStore(database.db);
    const amount = parseAmount('1.25');
    const facts: CostFact[] = Array.from({ length: 60_000 }, (_, i) => ({
      date: addDays('2026-01-01', i % 300),
      facet: 'service',
      team: `team-${i % 50}`,
      value: `service-${Math.floor(i / 300)}`,
      currency: 'USD',
      costs: { UnblendedCost: amount, AmortizedCost: amount, NetUnblendedCost: amount },
      estimated: false,
    }));
    const writing = store.replaceFacts('service', { start: '2026-01-01', end: '2026-11-01' }, facts);
    await new Promise((resolve) => setTimeout(resolve, 150));
    for (const socket of sockets) socket.destroy();
    const error = await writing.then(() => undefined, (caught: unknown) => caught);
    expect(isFinOpsError(error, 'database_unavailable'), String(error)).toBe(true);
    // Nothing half-written is visible, and the next query gets a new connection.
    expect(await store.sumBy('service', 'team', { range: { start: '2026-01-01', end: '2026-11-01' }, metric: 'UnblendedCost' })).toEqual([]);
    expect(await database.ping()).toBe(true);
  });
});
