import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgCostStore } from '../../src/adapters/db/cost-store.js';
import { DemoCostSource } from '../../src/adapters/demo/demo-cost-source.js';
import { buildDigest, type Digest, digestPeriod } from '../../src/app/digest.js';
import type { CommandEngine } from '../../src/app/engine.js';
import { handleDigest } from '../../src/app/handlers/digest.js';
import type { HandlerDeps } from '../../src/app/report-context.js';
import { syncCosts } from '../../src/app/sync-costs.js';
import { formatDay, formatDays, medianAmount } from '../../src/core/digest.js';
import { FinOpsError } from '../../src/core/errors.js';
import { type Amount, amountToNumber, formatPercent, percentShare, sumAmounts, toCents } from '../../src/core/money.js';
import { addDays, type DateRange, eachDay } from '../../src/core/period.js';
import type { Reply, ReplyBlock } from '../../src/core/reply.js';
import type { CostStore } from '../../src/ports.js';
import { openTestDatabase, testDatabaseKind, type TestDatabase } from '../support/test-database.js';
import { centsIn, engineFor, FixedClock, sourceTotalCents, testEngineSettings, testSyncSettings, replyField as field } from '../support/world.js';

const console = { channel: 'console' as const };
type Table = Extract<ReplyBlock, { type: 'table' }>;

function tables(reply: Reply): Table[] {
  return reply.blocks.filter((block): block is Table => block.type === 'table');
}

function texts(reply: Reply, type: 'text' | 'context'): string[] {
  return reply.blocks.flatMap((block) => (block.type === type ? [block.text] : []));
}

/** A store that counts the queries it is asked, delegating each to the real store. */
function countingStore(store: CostStore): { store: CostStore; calls: string[] } {
  const calls: string[] = [];
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(String(property));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, calls };
}

describe('digestPeriod', () => {
  it('a daily digest covers the last complete day, keyed by it', () => {
    expect(digestPeriod('daily', '2026-11-21')).toEqual({ range: { start: '2026-11-21', end: '2026-11-22' }, key: 'daily:2026-11-21' });
    expect(digestPeriod('daily', '2026-10-31')).toEqual({ range: { start: '2026-10-31', end: '2026-11-01' }, key: 'daily:2026-10-31' });
    expect(digestPeriod('daily', '2026-12-31').range.end).toBe('2027-01-01');
  });

  it('a weekly digest covers the latest complete Monday–Sunday week, keyed by its Monday', () => {
    const week16 = { range: { start: '2026-11-16', end: '2026-11-23' }, key: 'weekly:2026-11-16' };
    // Sunday ends its own week; Monday to Saturday fall back to the week before.
    expect(digestPeriod('weekly', '2026-11-22')).toEqual(week16);
    expect(digestPeriod('weekly', '2026-11-23')).toEqual(week16);
    expect(digestPeriod('weekly', '2026-11-28')).toEqual(week16);
    expect(digestPeriod('weekly', '2026-11-21')).toEqual({ range: { start: '2026-11-09', end: '2026-11-16' }, key: 'weekly:2026-11-09' });
    // Across a month and a year.
    expect(digestPeriod('weekly', '2026-11-01')).toEqual({ range: { start: '2026-10-26', end: '2026-11-02' }, key: 'weekly:2026-10-26' });
    expect(digestPeriod('weekly', '2027-01-04')).toEqual({ range: { start: '2026-12-28', end: '2027-01-04' }, key: 'weekly:2026-12-28' });
  });

  it('names days and weeks the way people write them', () => {
    expect(formatDay('2026-11-21')).toBe('Sat 21 Nov 2026');
    expect(formatDays({ start: '2026-11-16', end: '2026-11-23' })).toBe('16–22 Nov 2026');
    expect(formatDays({ start: '2026-10-26', end: '2026-11-02' })).toBe('26 Oct – 1 Nov 2026');
    expect(formatDays({ start: '2026-12-28', end: '2027-01-04' })).toBe('28 Dec 2026 – 3 Jan 2027');
    expect(formatDays({ start: '2026-11-21', end: '2026-11-22' })).toBe('Sat 21 Nov 2026');
  });

  it('takes the median of exact amounts', () => {
    expect(medianAmount([])).toBeUndefined();
    expect(medianAmount([5n, 1n, 3n])).toBe(3n);
    expect(medianAmount([10n, 1n, 4n, 2n])).toBe(3n);
  });
});

describe(`digests on ${testDatabaseKind}`, () => {
  let test: TestDatabase;
  let engine: CommandEngine;
  let deps: HandlerDeps;
  let calls: string[];
  const demo = new DemoCostSource();
  // Sunday 22 November 2026, noon UTC: data is through Saturday the 21st; 120 days of history from 2026-07-25.
  const clock = new FixedClock(new Date('2026-11-22T12:00:00Z'));
  const historyStart = '2026-07-25';

  /** The source's exact daily totals over a range, straight from the demo organisation. */
  async function sourceDaily(range: DateRange, team?: string): Promise<Map<string, Amount>> {
    const rows = await demo.getDailyCosts({ range, groupBy: [{ type: 'TAG', key: 'Team' }, { type: 'DIMENSION', key: 'SERVICE' }] });
    const byDay = new Map<string, Amount>(eachDay(range).map((day) => [day, 0n]));
    for (const row of rows) if (team === undefined || row.keys[0] === team) byDay.set(row.date, byDay.get(row.date)! + row.costs.UnblendedCost);
    return byDay;
  }

  /** The median, computed here, of exact totals over some ranges. */
  async function sourceMedianCents(ranges: DateRange[], team?: string): Promise<bigint> {
    const totals = await Promise.all(ranges.map(async (range) => sumAmounts((await sourceDaily(range, team)).values())));
    const sorted = totals.sort((a, b) => (a < b ? -1 : 1));
    return toCents((sorted[1]! + sorted[2]!) / 2n);
  }

  async function digest(request: Parameters<typeof buildDigest>[1]): Promise<Digest> {
    calls.length = 0;
    return buildDigest(deps, request);
  }

  /** The Total, Previous and Change fields of a digest equal those of `cost` for the same days, and the source's. */
  async function expectReconciles(reply: Reply, period: DateRange, team?: string): Promise<void> {
    const days = `${period.start}..${addDays(period.end, -1)}`;
    const cost = await engine.handle(`cost ${days}${team === undefined ? '' : ` for ${team === '' ? 'untagged' : team}`}`, console);
    const length = eachDay(period).length;
    const previous = { start: addDays(period.start, -length), end: period.start };
    const options = team === undefined ? {} : { team };
    expect(centsIn(field(reply, 'Total'))).toBe(await sourceTotalCents(demo, period, options));
    expect(field(reply, 'Total')).toBe(field(cost, 'Total'));
    expect(centsIn(field(reply, /^Previous /))).toBe(await sourceTotalCents(demo, previous, options));
    expect(field(reply, /^Previous /)).toBe(field(cost, /^Previous /));
    expect(field(reply, 'Change')).toBe(field(cost, 'Change'));
  }

  /** Each movers table: increases largest first, and the closing line's net change is the headline change. */
  function expectMoversConsistent(reply: Reply): void {
    const change = centsIn(field(reply, 'Change'));
    const lines = texts(reply, 'context').filter((text) => text.includes('add up to'));
    expect(lines).toHaveLength(tables(reply).length);
    for (const [index, movers] of tables(reply).entries()) {
      const deltas = movers.rows.map((row) => centsIn(row[1]!));
      const increases = deltas.filter((cents) => cents > 0n);
      expect(increases).toEqual([...increases].sort((a, b) => (b > a ? 1 : b < a ? -1 : 0)));
      expect(movers.rows.length).toBeLessThanOrEqual(5);
      // "These N lines add up to X of the net Y change": X is the sum of the rows, Y the headline change.
      const [explained, net] = [...lines[index]!.matchAll(/[+-]USD [\d,]+\.\d\d/g)].map((match) => centsIn(match[0]));
      expect(deltas.reduce((sum, cents) => sum + cents, 0n)).toBe(explained);
      expect(net).toBe(change);
      for (const row of movers.rows) {
        const delta = centsIn(row[1]!) - (centsIn(row[3]!) - centsIn(row[4]!));
        expect(delta < 0n ? -delta : delta).toBeLessThanOrEqual(1n);
      }
    }
  }

  beforeAll(async () => {
    test = await openTestDatabase();
    const store = new PgCostStore(test.database.db);
    await syncCosts({ source: demo, store, clock }, testSyncSettings(120));
    engine = engineFor(store, clock);
    const counted = countingStore(store);
    calls = counted.calls;
    deps = { store: counted.store, clock, settings: testEngineSettings() };
  });
  afterAll(async () => test.dispose());

  it('daily, whole organisation: the day against the day before, the usual Saturday, month to date and the forecast, as `cost` and `forecast` say', async () => {
    const { reply, period, periodKey } = await digest({ cadence: 'daily' });
    expect(reply.kind).toBe('answer');
    expect(reply.title).toBe('Daily digest · whole organisation · Sat 21 Nov 2026');
    expect(period).toEqual({ start: '2026-11-21', end: '2026-11-22' });
    expect(periodKey).toBe('daily:2026-11-21');
    await expectReconciles(reply, period);
    // The same weekday over the previous four weeks.
    const usual = await sourceMedianCents(['2026-10-24', '2026-10-31', '2026-11-07', '2026-11-14'].map((day) => ({ start: day, end: addDays(day, 1) })));
    expect(centsIn(field(reply, 'Usual for a Saturday'))).toBe(usual);
    expect(field(reply, 'Usual for a Saturday')).toMatch(/\([+-]?\d+\.\d%\)$/);
    // The period ends yesterday: month to date is `cost mtd`, the forecast is `forecast`.
    expect(field(reply, 'Month to date (1–21 Nov 2026)')).toBe(field(await engine.handle('cost mtd', console), 'Total'));
    const forecast = await engine.handle('forecast', console);
    expect(field(reply, 'November forecast')).toBe(`${field(forecast, 'Forecast')} (80% range ${field(forecast, '80% range')})`);
    expect(tables(reply).map((table) => table.columns[0]!.title)).toEqual(['Team', 'Service']);
    expectMoversConsistent(reply);
    const footer = texts(reply, 'context').at(-1)!;
    expect(footer).toContain('day (2026-11-21)');
    expect(footer).toContain('unblended cost in USD');
    expect(footer).toContain('data through 2026-11-21');
  });

  it('the organisation digest nudges about untagged spend with its exact share', async () => {
    for (const cadence of ['daily', 'weekly'] as const) {
      const { reply, period } = await digest({ cadence });
      const untagged = await sourceTotalCents(demo, period, { team: '' });
      const total = await sourceTotalCents(demo, period);
      const nudge = texts(reply, 'text').find((text) => text.startsWith('*Untagged*'))!;
      expect(centsIn(nudge)).toBe(untagged);
      const share = percentShare(untagged, total);
      expect(nudge).toContain(`(${formatPercent(share, false)})`);
      expect(nudge.includes('Tag resources with `Team` — `tags` shows the worst offenders')).toBe(share > 5);
    }
  });

  it('weekly, whole organisation: the latest complete week against the week before and the median of the four before it', async () => {
    const { reply, period, periodKey } = await digest({ cadence: 'weekly' });
    expect(reply.title).toBe('Weekly digest · whole organisation · 9–15 Nov 2026');
    expect(periodKey).toBe('weekly:2026-11-09');
    await expectReconciles(reply, period);
    const weeks = [1, 2, 3, 4].map((back) => ({ start: addDays('2026-11-09', -7 * back), end: addDays('2026-11-16', -7 * back) }));
    expect(centsIn(field(reply, 'Usual week'))).toBe(await sourceMedianCents(weeks));
    expect(centsIn(field(reply, 'Month to date (1–15 Nov 2026)'))).toBe(await sourceTotalCents(demo, { start: '2026-11-01', end: '2026-11-16' }));
    expectMoversConsistent(reply);
    expect(texts(reply, 'context').at(-1)).toContain('week (2026-11-09 – 2026-11-15)');
  });

  it('for one team: its figures only, its services as movers, and no untagged nudge', async () => {
    const weekly = await digest({ cadence: 'weekly', team: 'PAYMENTS' });
    expect(weekly.reply.title).toBe('Weekly digest · payments · 9–15 Nov 2026');
    await expectReconciles(weekly.reply, weekly.period, 'payments');
    const weeks = [1, 2, 3, 4].map((back) => ({ start: addDays('2026-11-09', -7 * back), end: addDays('2026-11-16', -7 * back) }));
    expect(centsIn(field(weekly.reply, 'Usual week'))).toBe(await sourceMedianCents(weeks, 'payments'));
    expect(field(weekly.reply, 'Month to date (1–15 Nov 2026)')).toBe(field(await engine.handle('cost 2026-11-01..2026-11-15 for payments', console), 'Total'));
    expect(tables(weekly.reply).map((table) => table.columns[0]!.title)).toEqual(['Service']);
    expectMoversConsistent(weekly.reply);
    expect(texts(weekly.reply, 'text').some((text) => text.includes('Untagged'))).toBe(false);

    const daily = await digest({ cadence: 'daily', team: 'payments' });
    await expectReconciles(daily.reply, daily.period, 'payments');
    expect(field(daily.reply, 'Month to date (1–21 Nov 2026)')).toBe(field(await engine.handle('cost mtd for payments', console), 'Total'));
    const forecast = await engine.handle('forecast for payments', console);
    expect(field(daily.reply, 'November forecast')).toBe(`${field(forecast, 'Forecast')} (80% range ${field(forecast, '80% range')})`);

    const untagged = await digest({ cadence: 'daily', team: '' });
    expect(untagged.reply.title).toBe('Daily digest · (untagged) · Sat 21 Nov 2026');
    await expectReconciles(untagged.reply, untagged.period, '');
  });

  it('the chart: 30 days ending with the period, the top 5 services and Other, each day stacking up to its total', async () => {
    for (const team of [undefined, 'search']) {
      const { chart } = await digest({ cadence: 'weekly', team });
      const range = { start: '2026-10-17', end: '2026-11-16' };
      expect(chart.days).toEqual(eachDay(range));
      expect(chart.currency).toBe('USD');
      const byService = await engine.handle(`cost 2026-10-17..2026-11-15 by service${team ? ` for ${team}` : ''}`, console);
      const topFive = tables(byService)[0]!.rows.slice(0, 5).map((row) => row[0]);
      expect(chart.series.map((series) => series.name)).toEqual([...topFive, 'Other']);
      const totals = await sourceDaily(range, team);
      chart.days.forEach((day, index) => {
        const stacked = chart.series.reduce((sum, series) => sum + series.values[index]!, 0);
        expect(Math.abs(stacked - amountToNumber(totals.get(day)!))).toBeLessThan(0.01);
      });
    }
  });

  it('reads a handful of store queries per digest, and only reads', async () => {
    await digest({ cadence: 'daily' });
    const organisation = [...calls];
    await digest({ cadence: 'weekly', team: 'payments', through: '2026-11-21' });
    const team = [...calls];
    const reads = new Set(['getSyncStates', 'estimatedFrom', 'currency', 'listTeams', 'sumBy', 'sumByDay']);
    expect([...organisation, ...team].every((call) => reads.has(call))).toBe(true);
    // Organisation (15 today): sync states twice, estimated days, currency; daily totals; teams and services now and
    // before; the 30 days' services; one daily series per charted service. None of it grows with the number of teams.
    expect(organisation.length).toBeLessThanOrEqual(15);
    expect(organisation.filter((call) => call === 'sumByDay')).toHaveLength(6);
    // A team with `through` given (13 today): no first freshness read, one team lookup, only services as movers.
    expect(team.length).toBeLessThanOrEqual(13);
  });

  it('a `through` day picks an earlier digest; history too short for the usual level is said, not guessed', async () => {
    const early = await digest({ cadence: 'daily', through: '2026-08-10' });
    expect(early.reply.title).toBe('Daily digest · whole organisation · Mon 10 Aug 2026');
    expect(field(early.reply, 'Usual for a Monday')).toBe(`needs four earlier Mondays of history (from ${historyStart})`);
    await expectReconciles(early.reply, early.period);
    const monthEnd = await digest({ cadence: 'weekly', through: '2026-11-01' });
    expect(monthEnd.reply.title).toBe('Weekly digest · whole organisation · 26 Oct – 1 Nov 2026');
    expect(centsIn(field(monthEnd.reply, 'Month to date (Sun 1 Nov 2026)'))).toBe(await sourceTotalCents(demo, { start: '2026-11-01', end: '2026-11-02' }));
  });

  it('refuses with a sentence: unknown team, days not synced yet, days before the history', async () => {
    const unknown = await digest({ cadence: 'daily', team: 'paymnts' }).catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(FinOpsError);
    expect((unknown as FinOpsError).message).toMatch(/don't know the team `paymnts`; did you mean `payments`\?/);
    await expect(digest({ cadence: 'daily', through: '2026-11-22' })).rejects.toThrow(/no cost data for 2026-11-22 .*AWS data is through 2026-11-21/);
    await expect(digest({ cadence: 'weekly', through: '2026-11-22' })).rejects.toThrow(
      'The weekly digest for 16–22 Nov 2026 needs cost data through 2026-11-22; AWS data is through 2026-11-21.',
    );
    await expect(digest({ cadence: 'weekly', through: '2026-07-26' })).rejects.toThrow(`reaches before the history I keep (from ${historyStart})`);
  });

  it('the chat preview is the digest with a line about its chart', async () => {
    const preview = await handleDigest(deps, { name: 'digest', cadence: 'daily', team: 'payments' });
    const built = await digest({ cadence: 'daily', team: 'payments' });
    expect(preview.title).toBe(built.reply.title);
    expect(preview.blocks.slice(0, -1)).toEqual(built.reply.blocks);
    expect(texts(preview, 'context').at(-1)).toBe('Preview: the posted daily digest also carries a chart of the last 30 days of daily spend, stacked by the top 5 services.');
  });

  it('with no data at all, says so', async () => {
    const empty = await openTestDatabase();
    try {
      const none = { store: new PgCostStore(empty.database.db), clock, settings: testEngineSettings() };
      await expect(buildDigest(none, { cadence: 'weekly' })).rejects.toThrow(/I have no cost data yet: the first sync is still running/);
      await expect(handleDigest(none, { name: 'digest', cadence: 'daily' })).rejects.toBeInstanceOf(FinOpsError);
    } finally {
      await empty.dispose();
    }
  });
});
