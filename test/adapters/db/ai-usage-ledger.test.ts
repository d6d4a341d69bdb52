/**
 * The AI usage ledger: the count per-user rate limits read, shared by every instance, and the
 * spend report by local day and model, with costs summed exactly.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PgAiUsageLedger } from '../../../src/adapters/db/ai-usage-ledger.js';
import { openDatabase, type Database } from '../../../src/adapters/db/database.js';
import { aiUsage } from '../../../src/adapters/db/schema.js';
import type { AiUsageRecord } from '../../../src/ports.js';
import { emptyAllTables, openTestDatabase, testDatabaseKind, type TestDatabase } from '../../support/test-database.js';

const CLAUDE = 'us.anthropic.claude-sonnet-4-5';
/** 2^53 + 1 nano-dollars: a float cannot hold it, nor the sums of it below. */
const BIG = 9_007_199_254_740_993n;

/** A record whose tokens are multiples of `n`, so every sum below tells which rows it took. */
const entry = (at: string, n: number, costNanoUsd: bigint | undefined, extra: Partial<AiUsageRecord> = {}): AiUsageRecord => ({
  at: new Date(at),
  model: CLAUDE,
  requester: 'slack:U0ALICE01',
  usage: { input: n * 1000, output: n * 100, cacheRead: n * 10, cacheWrite: n },
  costNanoUsd,
  toolCalls: 2,
  outcome: 'answered',
  ...extra,
});

const tokens = (n: number) => ({ input: n * 1000, output: n * 100, cacheRead: n * 10, cacheWrite: n });

describe(`AI usage ledger on ${testDatabaseKind}`, () => {
  let test: TestDatabase;
  let second: Database | undefined;
  let ledger: PgAiUsageLedger;

  beforeAll(async () => {
    test = await openTestDatabase();
    ledger = new PgAiUsageLedger(test.database.db);
    // A second instance: its own connection pool to the same database where there is a server.
    second = test.url ? await openDatabase({ kind: 'postgres', url: test.url }) : undefined;
  });

  afterAll(async () => {
    await second?.close();
    await test.dispose();
  });

  beforeEach(async () => emptyAllTables(test.database));

  it('records one row per answer, with the cost read back exactly as a bigint, or null when unpriced', async () => {
    await ledger.record(entry('2026-03-10T10:00:00Z', 1, BIG, { toolCalls: 3 }));
    await ledger.record(entry('2026-03-10T10:00:01Z', 2, undefined, { model: 'deterministic', outcome: 'fallback', toolCalls: 0 }));
    const rows = await test.database.db.select().from(aiUsage).orderBy(aiUsage.id);
    expect(rows.map(({ id: _id, ...row }) => row)).toEqual([
      {
        at: new Date('2026-03-10T10:00:00Z'),
        model: CLAUDE,
        requester: 'slack:U0ALICE01',
        inputTokens: 1000,
        outputTokens: 100,
        cacheReadTokens: 10,
        cacheWriteTokens: 1,
        costNanoUsd: BIG,
        toolCalls: 3,
        outcome: 'answered',
      },
      {
        at: new Date('2026-03-10T10:00:01Z'),
        model: 'deterministic',
        requester: 'slack:U0ALICE01',
        inputTokens: 2000,
        outputTokens: 200,
        cacheReadTokens: 20,
        cacheWriteTokens: 2,
        costNanoUsd: null,
        toolCalls: 0,
        outcome: 'fallback',
      },
    ]);
    expect(typeof rows[0]!.costNanoUsd).toBe('bigint');
  });

  it('counts a requester’s model answers at or after a time, whichever instance recorded them, and not built-in explanations', async () => {
    const other = new PgAiUsageLedger((second ?? test.database).db);
    const since = '2026-03-10T10:00:00.000Z';
    await ledger.record(entry('2026-03-10T09:59:59.999Z', 1, 1n));
    await ledger.record(entry(since, 1, 1n));
    await other.record(entry('2026-03-10T10:30:00Z', 1, undefined, { outcome: 'fallback' }));
    await other.record(entry('2026-03-10T10:31:00Z', 1, 1n, { requester: 'teams:29:bob' }));
    await other.record({ ...entry('2026-03-10T10:32:00Z', 1, 0n, { model: 'deterministic', outcome: 'fallback', toolCalls: 0 }), usage: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 } });
    expect(await ledger.countSince('slack:U0ALICE01', new Date(since))).toBe(2);
    expect(await other.countSince('slack:U0ALICE01', new Date(since))).toBe(2);
    expect(await other.countSince('slack:U0ALICE01', new Date('2026-03-10T10:00:00.001Z'))).toBe(1);
    expect(await ledger.countSince('slack:U0ALICE01', new Date('2026-03-10T09:00:00Z'))).toBe(3);
    expect(await ledger.countSince('teams:29:bob', new Date(since))).toBe(1);
    expect(await ledger.countSince('console', new Date(since))).toBe(0);
  });

  describe('daily usage', () => {
    beforeEach(async () => {
      for (const record of [
        entry('2026-03-09T22:59:00Z', 1, 1000n), // Paris 9th 23:59; UTC 9th
        entry('2026-03-09T23:00:00Z', 2, 2n), // Paris 10th 00:00; UTC 9th
        entry('2026-03-10T10:00:00Z', 3, BIG), // the 10th either way
        entry('2026-03-10T23:30:00Z', 4, BIG), // Paris 11th 00:30; UTC 10th
        entry('2026-03-11T08:00:00Z', 5, BIG),
        entry('2026-03-11T09:00:00Z', 6, undefined, { requester: 'teams:29:bob' }),
        entry('2026-03-11T09:00:00Z', 7, 0n, { model: 'deterministic', outcome: 'fallback', toolCalls: 0 }),
        entry('2026-03-11T23:00:00Z', 8, 1000n), // Paris 12th 00:00; UTC 11th
      ]) {
        await ledger.record(record);
      }
    });

    it('groups by the local day in the zone, then by model, summing tokens and costs exactly', async () => {
      const days = await ledger.dailyUsage({ start: '2026-03-10', end: '2026-03-12' }, 'Europe/Paris');
      expect(days).toEqual([
        { day: '2026-03-10', model: CLAUDE, answers: 2, usage: tokens(2 + 3), costNanoUsd: BIG + 2n, unpriced: 0 },
        { day: '2026-03-11', model: 'deterministic', answers: 1, usage: tokens(7), costNanoUsd: 0n, unpriced: 0 },
        { day: '2026-03-11', model: CLAUDE, answers: 3, usage: tokens(4 + 5 + 6), costNanoUsd: 2n * BIG, unpriced: 1 },
      ]);
      for (const day of days) expect(typeof day.costNanoUsd).toBe('bigint');
      // Neither sum survives a trip through a float.
      expect(BigInt(Number(BIG + 2n))).not.toBe(BIG + 2n);
      expect(BigInt(Number(2n * BIG))).not.toBe(2n * BIG);
    });

    it('puts the same records on other days in UTC', async () => {
      expect(await ledger.dailyUsage({ start: '2026-03-10', end: '2026-03-12' }, 'UTC')).toEqual([
        { day: '2026-03-10', model: CLAUDE, answers: 2, usage: tokens(3 + 4), costNanoUsd: 2n * BIG, unpriced: 0 },
        { day: '2026-03-11', model: 'deterministic', answers: 1, usage: tokens(7), costNanoUsd: 0n, unpriced: 0 },
        { day: '2026-03-11', model: CLAUDE, answers: 3, usage: tokens(5 + 6 + 8), costNanoUsd: BIG + 1000n, unpriced: 1 },
      ]);
    });

    it('leaves out the days outside the range, and answers nothing for an empty one', async () => {
      expect(await ledger.dailyUsage({ start: '2026-03-11', end: '2026-03-12' }, 'Europe/Paris')).toEqual([
        { day: '2026-03-11', model: 'deterministic', answers: 1, usage: tokens(7), costNanoUsd: 0n, unpriced: 0 },
        { day: '2026-03-11', model: CLAUDE, answers: 3, usage: tokens(4 + 5 + 6), costNanoUsd: 2n * BIG, unpriced: 1 },
      ]);
      expect(await ledger.dailyUsage({ start: '2026-03-09', end: '2026-03-10' }, 'Europe/Paris')).toEqual([
        { day: '2026-03-09', model: CLAUDE, answers: 1, usage: tokens(1), costNanoUsd: 1000n, unpriced: 0 },
      ]);
      expect(await ledger.dailyUsage({ start: '2026-03-12', end: '2026-03-13' }, 'UTC')).toEqual([]);
      expect(await ledger.dailyUsage({ start: '2026-03-01', end: '2026-03-09' }, 'Europe/Paris')).toEqual([]);
    });

    it('follows the zone’s offset across a daylight-saving change', async () => {
      await emptyAllTables(test.database);
      // Paris moves to UTC+2 at 01:00 UTC on 29 March 2026: that day ends at 22:00 UTC.
      await ledger.record(entry('2026-03-28T22:59:59Z', 1, 1n)); // Paris 28th 23:59:59 (UTC+1)
      await ledger.record(entry('2026-03-28T23:00:00Z', 2, 1n)); // Paris 29th 00:00
      await ledger.record(entry('2026-03-29T21:59:59Z', 3, 1n)); // Paris 29th 23:59:59 (UTC+2)
      await ledger.record(entry('2026-03-29T22:00:00Z', 4, 1n)); // Paris 30th 00:00
      expect(await ledger.dailyUsage({ start: '2026-03-29', end: '2026-03-30' }, 'Europe/Paris')).toEqual([
        { day: '2026-03-29', model: CLAUDE, answers: 2, usage: tokens(2 + 3), costNanoUsd: 2n, unpriced: 0 },
      ]);
      expect((await ledger.dailyUsage({ start: '2026-03-28', end: '2026-03-31' }, 'Europe/Paris')).map((day) => [day.day, day.answers])).toEqual([
        ['2026-03-28', 1],
        ['2026-03-29', 2],
        ['2026-03-30', 1],
      ]);
    });
  });
});
