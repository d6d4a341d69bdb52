/**
 * The conversation memory: the latest turns of a conversation in the order they were made,
 * shared by every instance, and forgotten after a while.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { openDatabase, type Database, type Db } from '../../../src/adapters/db/database.js';
import { PgConversationStore } from '../../../src/adapters/db/conversation-store.js';
import { aiConversationTurns } from '../../../src/adapters/db/schema.js';
import type { ConversationTurn } from '../../../src/ports.js';
import { emptyAllTables, openTestDatabase, testDatabaseKind, type TestDatabase } from '../../support/test-database.js';

const DAY_MS = 24 * 60 * 60 * 1000;

const turn = (role: ConversationTurn['role'], text: string, at = new Date()): ConversationTurn => ({ role, text, at });
const texts = (turns: readonly ConversationTurn[]) => turns.map((each) => each.text);

describe(`conversation store on ${testDatabaseKind}`, () => {
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

  beforeEach(async () => emptyAllTables(test.database));

  it('returns the latest turns oldest first, as many as asked', async () => {
    const store = new PgConversationStore(test.database.db);
    // Recent times: older turns would be pruned.
    const yesterday = Date.now() - DAY_MS;
    const at = (seconds: number) => new Date(yesterday + seconds * 1000);
    for (const [index, text] of ['q1', 'a1', 'q2', 'a2', 'q3'].entries()) {
      await store.append('slack:C1:1.1', [turn(index % 2 === 0 ? 'user' : 'assistant', text, at(index))]);
    }
    expect(await store.recent('slack:C1:1.1', 3)).toEqual([turn('user', 'q2', at(2)), turn('assistant', 'a2', at(3)), turn('user', 'q3', at(4))]);
    expect(texts(await store.recent('slack:C1:1.1', 10))).toEqual(['q1', 'a1', 'q2', 'a2', 'q3']);
    expect(await store.recent('slack:C1:1.1', 0)).toEqual([]);
    expect(await store.recent('slack:C1:unknown', 5)).toEqual([]);
  });

  it('gives back role, text and time as appended', async () => {
    const store = new PgConversationStore(test.database.db);
    const asked = new Date(Date.now() - DAY_MS);
    const turns = [turn('user', 'what did EC2 cost?', asked), turn('assistant', 'USD 12.34 — ‘quotes’ and\nnew lines', new Date(asked.getTime() + 4_444))];
    await store.append('teams:19:abc', turns);
    expect(await store.recent('teams:19:abc', 2)).toEqual(turns);
  });

  it('keeps conversations apart', async () => {
    const store = new PgConversationStore(test.database.db);
    await store.append('slack:C1:1.1', [turn('user', 'one')]);
    await store.append('slack:C1:2.2', [turn('user', 'two')]);
    await store.append('slack:C1:1.1', [turn('assistant', 'one answered')]);
    await store.append('slack:C2:1.1', [turn('user', 'other channel')]);
    expect(texts(await store.recent('slack:C1:1.1', 10))).toEqual(['one', 'one answered']);
    expect(texts(await store.recent('slack:C1:2.2', 10))).toEqual(['two']);
    expect(texts(await store.recent('slack:C2:1.1', 10))).toEqual(['other channel']);
  });

  it('appends several turns in their order, each batch whole even when instances append at once', async () => {
    const stores = [new PgConversationStore(test.database.db), new PgConversationStore((second ?? test.database).db)];
    await stores[0]!.append('slack:C1:1.1', [turn('user', 'q1'), turn('assistant', 'a1'), turn('user', 'q2'), turn('assistant', 'a2')]);
    expect(texts(await stores[1]!.recent('slack:C1:1.1', 10))).toEqual(['q1', 'a1', 'q2', 'a2']);

    const batches = Array.from({ length: 10 }, (_, batch) => Array.from({ length: 5 }, (_, index) => turn(index % 2 === 0 ? 'user' : 'assistant', `b${batch}-${index}`)));
    await Promise.all(batches.map((batch, index) => stores[index % 2]!.append('slack:C9:9.9', batch)));
    const stored = texts(await stores[0]!.recent('slack:C9:9.9', 100));
    expect(stored).toHaveLength(50);
    for (let start = 0; start < stored.length; start += 5) {
      const batch = stored[start]!.split('-')[0]!;
      expect(stored.slice(start, start + 5)).toEqual([0, 1, 2, 3, 4].map((index) => `${batch}-${index}`));
    }
    await stores[1]!.append('slack:C9:9.9', []);
    expect(await stores[0]!.recent('slack:C9:9.9', 100)).toHaveLength(50);
  });

  it("lets one instance read the turns another wrote, and continue the conversation", async () => {
    const first = new PgConversationStore(test.database.db);
    const other = new PgConversationStore((second ?? test.database).db);
    await first.append('slack:C1:1.1', [turn('user', 'q1'), turn('assistant', 'a1')]);
    expect(texts(await other.recent('slack:C1:1.1', 10))).toEqual(['q1', 'a1']);
    await other.append('slack:C1:1.1', [turn('user', 'q2'), turn('assistant', 'a2')]);
    expect(texts(await first.recent('slack:C1:1.1', 3))).toEqual(['a1', 'q2', 'a2']);
  });

  it('forgets turns made before a given time, and only those', async () => {
    const store = new PgConversationStore(test.database.db);
    const now = Date.now();
    await insertTurns(test.database.db, 'slack:C1:1.1', [turn('user', 'old', new Date(now - 31 * DAY_MS)), turn('assistant', 'old answer', new Date(now - 31 * DAY_MS + 1000))]);
    await insertTurns(test.database.db, 'slack:C1:2.2', [turn('user', 'recent', new Date(now - 29 * DAY_MS))]);

    expect(await store.forgetBefore(new Date(now - 32 * DAY_MS))).toBe(0);
    expect(await store.forgetBefore(new Date(now - 30 * DAY_MS))).toBe(2);
    expect(await store.recent('slack:C1:1.1', 10)).toEqual([]);
    expect(texts(await store.recent('slack:C1:2.2', 10))).toEqual(['recent']);
  });

  it('prunes turns older than 30 days on its own, at most hourly, and reports failures to the callback', async () => {
    const now = Date.now();
    await insertTurns(test.database.db, 'slack:C1:1.1', [turn('user', 'old', new Date(now - 31 * DAY_MS)), turn('user', 'kept', new Date(now - 29 * DAY_MS))]);
    const store = new PgConversationStore(test.database.db);
    await store.append('slack:C2:2.2', [turn('user', 'new')]);
    await vi.waitFor(async () => expect(texts(await store.recent('slack:C1:1.1', 10))).toEqual(['kept']));

    // Within the hour the same instance does not prune again.
    await insertTurns(test.database.db, 'slack:C1:1.1', [turn('user', 'old again', new Date(now - 40 * DAY_MS))]);
    await store.append('slack:C2:2.2', [turn('user', 'newer')]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(texts(await store.recent('slack:C1:1.1', 10))).toEqual(['kept', 'old again']);

    // A failing prune reaches the callback, once, and never the caller.
    const failures: unknown[] = [];
    const failingStore = new PgConversationStore(failingDeletes(test.database.db), (error) => failures.push(error));
    await expect(failingStore.append('slack:C3:3.3', [turn('user', 'still stored')])).resolves.toBeUndefined();
    await failingStore.append('slack:C3:3.3', [turn('assistant', 'and again')]);
    await vi.waitFor(() => expect(failures).toHaveLength(1));
    expect((failures[0] as Error).message).toBe('delete refused');
    expect(texts(await store.recent('slack:C3:3.3', 10))).toEqual(['still stored', 'and again']);
  });
});

/** Inserts turns directly, bypassing the store's pruning. */
async function insertTurns(db: Db, key: string, turns: readonly ConversationTurn[]): Promise<void> {
  await db.insert(aiConversationTurns).values(turns.map((each) => ({ conversationKey: key, ...each })));
}

/** The database, except that every delete fails. */
function failingDeletes(db: Db): Db {
  return new Proxy(db, {
    get: (target, property, receiver) =>
      property === 'delete'
        ? () => {
            throw new Error('delete refused');
          }
        : Reflect.get(target, property, receiver),
  });
}
