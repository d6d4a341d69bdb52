import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgCostStore } from '../../src/adapters/db/cost-store.js';
import { PgDigestStore } from '../../src/adapters/db/digest-store.js';
import { openDatabase } from '../../src/adapters/db/database.js';
import { DemoCostSource } from '../../src/adapters/demo/demo-cost-source.js';
import { CommandEngine } from '../../src/app/engine.js';
import { syncCosts } from '../../src/app/sync-costs.js';
import type { Reply, ReplyBlock } from '../../src/core/reply.js';
import { renderText } from '../../src/render/text.js';
import { openTestDatabase, testDatabaseKind, type TestDatabase } from '../support/test-database.js';
import { centsIn, engineFor, FixedClock, sourceTotal, sourceTotalCents, testEngineSettings, testSyncSettings, replyField as field } from '../support/world.js';
import { toCents } from '../../src/core/money.js';

const console = { channel: 'console' as const };

function table(reply: Reply, index = 0): Extract<ReplyBlock, { type: 'table' }> {
  const tables = reply.blocks.filter((block): block is Extract<ReplyBlock, { type: 'table' }> => block.type === 'table');
  const found = tables[index];
  if (!found) throw new Error(`no table ${index} in ${renderText(reply)}`);
  return found;
}

function footerText(reply: Reply): string {
  return reply.blocks.filter((block) => block.type === 'context').map((block) => (block as { text: string }).text).join('\n');
}

/** The lines of a breakdown add up, to the cent, to its printed total. */
function expectLinesReconcile(reply: Reply): bigint {
  const breakdown = table(reply);
  const lines = breakdown.rows.map((row) => centsIn(row[1]!));
  const total = centsIn(breakdown.footer![1]!);
  expect(lines.reduce((sum, cents) => sum + cents, 0n)).toBe(total);
  expect(centsIn(field(reply, 'Total'))).toBe(total);
  return total;
}

describe(`command engine on ${testDatabaseKind}`, () => {
  let test: TestDatabase;
  let engine: CommandEngine;
  const demo = new DemoCostSource();
  // Sunday 22 November 2026, noon UTC: data is through Saturday the 21st.
  const clock = new FixedClock(new Date('2026-11-22T12:00:00Z'));

  beforeAll(async () => {
    test = await openTestDatabase();
    const store = new PgCostStore(test.database.db);
    await syncCosts({ source: demo, store, clock }, testSyncSettings(200));
    engine = engineFor(store, clock);
  });
  afterAll(async () => test.dispose());

  describe('cost', () => {
    it('shows the 30-day total equal to the source to the cent, with lines that add up, and says period, metric and freshness', async () => {
      const reply = await engine.handle('cost 30d by service', console);
      expect(reply.kind).toBe('answer');
      const total = expectLinesReconcile(reply);
      expect(total).toBe(await sourceTotalCents(demo, { start: '2026-10-23', end: '2026-11-22' }));
      expect(centsIn(field(reply, /^Previous/))).toBe(await sourceTotalCents(demo, { start: '2026-09-23', end: '2026-10-23' }));
      expect(table(reply).rows.at(-1)![0]).toMatch(/^Others \(\d+\)$/);
      expect(table(reply).rows).toHaveLength(9);
      const footer = footerText(reply);
      expect(footer).toContain('last 30 days (2026-10-23 – 2026-11-21)');
      expect(footer).toContain('unblended cost in USD');
      expect(footer).toContain('data through 2026-11-21');
      const sparkline = reply.blocks.find((block) => block.type === 'sparkline') as { line: string };
      expect([...sparkline.line]).toHaveLength(30);
    });

    it('gives the same total whichever dimension it is split by', async () => {
      const totals = new Set<bigint>();
      for (const dimension of ['service', 'team', 'account', 'region', 'usage-type', 'tag:Environment', 'tag:Team']) {
        totals.add(expectLinesReconcile(await engine.handle(`cost 30d by ${dimension}`, console)));
      }
      expect(totals.size).toBe(1);
    });

    it('shows untagged spend as a line of its own when split by team', async () => {
      const reply = await engine.handle('cost 30d by team', console);
      const untagged = table(reply).rows.find((row) => row[0] === '(untagged)');
      expect(untagged).toBeDefined();
      expect(centsIn(untagged![1]!)).toBe(await sourceTotalCents(demo, { start: '2026-10-23', end: '2026-11-22' }, { team: '' }));
    });

    it('answers for one team, matching the name whatever its case, and for untagged spend', async () => {
      const reply = await engine.handle('/finops cost last-month by usage-type for PAYMENTS', console);
      expect(reply.title).toContain('for payments');
      expect(expectLinesReconcile(reply)).toBe(await sourceTotalCents(demo, { start: '2026-10-01', end: '2026-11-01' }, { team: 'payments' }));
      const untagged = await engine.handle('cost 7d for untagged', console);
      expect(expectLinesReconcile(untagged)).toBe(await sourceTotalCents(demo, { start: '2026-11-15', end: '2026-11-22' }, { team: '' }));
    });

    it('names accounts the way people know them, with the id beside the name', async () => {
      const reply = await engine.handle('cost 30d by account', console);
      const labels = table(reply).rows.map((row) => row[0]);
      expect(labels).toContain('acme-production (481516234201)');
      expect(labels).toContain('acme-shared-services (905812347763)');
      const tags = await engine.handle('tags', console);
      expect(table(tags, 1).rows[0]![0]).toMatch(/^acme-[a-z-]+ \(\d{12}\)$/);
    });

    it('uses the metric asked for', async () => {
      const reply = await engine.handle('cost 2026-10 amortized', console);
      expect(footerText(reply)).toContain('amortized cost');
      expect(expectLinesReconcile(reply)).toBe(toCents(await sourceTotal(demo, { start: '2026-10-01', end: '2026-11-01' }, { metric: 'AmortizedCost' })));
    });

    it('marks a period that runs past the data as partial and compares like with like', async () => {
      const reply = await engine.handle('cost mtd', console);
      expect(footerText(reply)).toContain('month to date (2026-11-01 – 2026-11-21, partial)');
      // The same 21 days of October, to the cent.
      expect(centsIn(field(reply, /^Previous/))).toBe(await sourceTotalCents(demo, { start: '2026-10-01', end: '2026-10-22' }));
      expect(reply.blocks.some((block) => block.type === 'fields' && block.fields.some((f) => f.label === 'Previous 2026-10-01 – 2026-10-21'))).toBe(true);
    });

    it('says plainly when a period has no data yet', async () => {
      const reply = await engine.handle('cost today', console);
      expect(reply.kind).toBe('error');
      expect(renderText(reply)).toContain('AWS data is through 2026-11-21');
    });

    it('explains bad input instead of failing', async () => {
      const cases: [string, RegExp][] = [
        ['cost 13x', /not a period I know[\s\S]*7d[\s\S]*YYYY-MM-DD\.\.YYYY-MM-DD/],
        ['cots 7d', /did you mean `cost 7d`/i],
        ['cost 7d by regon', /did you mean `by region`/],
        ['cost 7d for paymnts', /did you mean `payments`/],
        ['cost 7d by tag:CostCenter', /don't keep the tag `CostCenter`[\s\S]*FINOPS_TAG_KEYS/],
        ['cost 2026-02-30..2026-03-02', /not a calendar date/],
        ['forecast 7d', /don't understand `7d`/],
      ];
      for (const [line, expected] of cases) {
        const reply = await engine.handle(line, console);
        expect(reply.kind, line).toBe('error');
        expect(renderText(reply), line).toMatch(expected);
        expect(renderText(reply), line).not.toMatch(/\n\s+at /);
      }
    });
  });

  describe('at the edge of the stored history (200 days, from 2026-05-06)', () => {
    it('clips a longer period to the history, says so, and shows no comparison rather than false growth', async () => {
      const reply = await engine.handle('cost 300d by team', console);
      expect(footerText(reply)).toContain('last 300 days (2026-05-06 – 2026-11-21, partial)');
      expect(footerText(reply)).toContain('history starts 2026-05-06');
      expect(field(reply, 'Change')).toMatch(/^no comparison/);
      expect(table(reply).rows.every((row) => row[3] === '')).toBe(true);
      expect(expectLinesReconcile(reply)).toBe(await sourceTotalCents(demo, { start: '2026-05-06', end: '2026-11-22' }));
    });

    it('refuses to rank movers against days it never fetched', async () => {
      const reply = await engine.handle('top 150d', console);
      expect(reply.kind).toBe('error');
      expect(renderText(reply)).toMatch(/older than the history I keep \(from 2026-05-06\)\. Try a shorter period/);
    });

    it('says when a period lies entirely before the history', async () => {
      expect(renderText(await engine.handle('cost 2024-01', console))).toMatch(/no cost data for January 2024 .*history I keep starts 2026-05-06/);
    });

    it('on the 1st, with data still at the 21st, the forecast says nothing is spent yet and compares with no partial month', async () => {
      const late = engineFor(new PgCostStore(test.database.db), new FixedClock(new Date('2026-12-01T12:00:00Z')));
      const reply = await late.handle('forecast', console);
      expect(field(reply, 'Spent so far')).toBe('nothing yet: data is through 2026-11-21');
      expect(field(reply, 'Last month (2026-11, through 2026-11-21)')).not.toMatch(/forecast [+-]/);
    });
  });

  it('top: ranks what moved, and the headline change is current minus previous', async () => {
    const reply = await engine.handle('top 7d', console);
    const current = await sourceTotalCents(demo, { start: '2026-11-15', end: '2026-11-22' });
    const previous = await sourceTotalCents(demo, { start: '2026-11-08', end: '2026-11-15' });
    expect(centsIn(field(reply, 'Total'))).toBe(current);
    expect(centsIn(field(reply, 'Change'))).toBe(current - previous);
    expect(table(reply, 0).columns[0]!.title).toBe('Team');
    expect(table(reply, 1).columns[0]!.title).toBe('Service');
    const changes = table(reply, 0).rows.map((row) => centsIn(row[1]!));
    const increases = changes.filter((cents) => cents > 0n);
    expect(increases).toEqual([...increases].sort((a, b) => (b > a ? 1 : b < a ? -1 : 0)));
    const perTeam = await engine.handle('top 30d for search', console);
    expect(table(perTeam, 1).columns[0]!.title).toBe('Usage type');
  });

  it('forecast: month-end figure within its range, spend so far from the source, and the method named', async () => {
    const reply = await engine.handle('forecast', console);
    const mean = centsIn(field(reply, 'Forecast'));
    const [low, high] = field(reply, '80% range').split('–').map(centsIn) as [bigint, bigint];
    expect(low).toBeLessThan(mean);
    expect(mean).toBeLessThan(high);
    const spent = await sourceTotalCents(demo, { start: '2026-11-01', end: '2026-11-22' });
    expect(centsIn(field(reply, 'Spent 2026-11-01 – 2026-11-21'))).toBe(spent);
    // Nine days remain; the demo organisation spends thousands a day.
    expect(mean - spent).toBeGreaterThan(9n * 100_000n);
    expect(renderText(reply)).toMatch(/Method: .*median of the same weekday/);
    const team = await engine.handle('forecast for ml-platform', console);
    expect(centsIn(field(team, 'Forecast'))).toBeLessThan(mean);
  });

  it('tags: the untagged share equals the source, with the worst services and accounts', async () => {
    const reply = await engine.handle('tags', console);
    const untagged = await sourceTotalCents(demo, { start: '2026-10-23', end: '2026-11-22' }, { team: '' });
    expect(centsIn(field(reply, 'Without `Team`'))).toBe(untagged);
    expect(centsIn(field(reply, 'Total')) - centsIn(field(reply, 'Tagged'))).toBe(untagged);
    expect(table(reply, 0).columns[0]!.title).toMatch(/^Service/);
    expect(table(reply, 1).columns[0]!.title).toMatch(/^Account/);
    const environment = await engine.handle('tags Environment 7d', console);
    expect(table(environment, 0).columns[0]!.title).toMatch(/^Team/);
    expect(renderText(await engine.handle('tags CostCenter', console))).toMatch(/don't keep the tag/);
  });

  it('help lists only what it can do, and explains one subcommand', async () => {
    const reply = await engine.handle('help', console);
    const names = table(reply).rows.map((row) => row[0]!.split(' ')[0]!.replaceAll('`', ''));
    expect(names).toEqual(['help', 'cost', 'top', 'forecast', 'tags', 'ask', 'explain', 'digest', 'status']);
    const cost = renderText(await engine.handle('help cost', console));
    expect(cost).toContain('cost [PERIOD] [by DIM] [for TEAM]');
    expect(cost).toContain('YYYY-MM-DD..YYYY-MM-DD');
    expect(cost).toContain('usage-type');
    expect((await engine.handle('budget', console)).kind).toBe('error');
  });

  it('a question in plain words gets an explanation from the data, while a mistyped or unknown word stays an error', async () => {
    const question = await engine.handle('why did our RDS bill jump?', console);
    expect(question.kind).toBe('answer');
    expect(question.title).toBe('Explanation from the data');
    const text = renderText(question);
    expect(text).toContain('Amazon Relational Database Service');
    expect(text).toContain('BEDROCK_MODEL_ID is not set');
    expect(renderText(await engine.handle('cots 7d', console))).toContain('Did you mean `cost 7d`?');
    expect((await engine.handle('frobnicate', console)).kind).toBe('error');
    expect((await engine.handle('what changed this week', console)).kind).toBe('answer');
  });

  it('dashboard: month to date by team reconciles with the source, then the forecast', async () => {
    const [spend, forecast] = await engine.dashboard(console);
    expect(spend!.title).toBe('Cost by team, month to date');
    expect(centsIn(field(spend!, 'Total'))).toBe(await sourceTotalCents(demo, { start: '2026-11-01', end: '2026-11-22' }));
    expect(forecast!.kind).toBe('answer');
    expect(forecast!.title).toMatch(/[Ff]orecast/);
  });

  it('subscriptions belong to a channel: the console is told so, and help lists them only with a store', async () => {
    const withStore = new CommandEngine({ store: new PgCostStore(test.database.db), clock, settings: testEngineSettings(), subscriptions: new PgDigestStore(test.database.db) }, { error: () => undefined, warn: () => undefined });
    const reply = await withStore.handle('subscribe daily', console);
    expect(reply.kind).toBe('error');
    expect(renderText(reply)).toContain('Subscriptions belong to a channel');
    expect(withStore.offered).toContain('subscriptions');
    expect(engine.offered).not.toContain('subscribe');
  });

  it('status says how fresh each facet is', async () => {
    const text = renderText(await engine.handle('status', console));
    expect(text).toMatch(/usage-type\s+2026-11-21/);
    expect(text).toMatch(/^History from\s+2026-05-06$/m);
    expect(text).toContain('Cost Explorer requests today (UTC)  0');
  });

  it('answers with a sentence, not a stack trace, when the database is down', async () => {
    const down = await openDatabase({ kind: 'postgres', url: 'postgres://postgres@127.0.0.1:1/none' });
    try {
      const errors: unknown[] = [];
      const broken = new CommandEngine({ store: new PgCostStore(down.db), clock, settings: testEngineSettings() }, { error: (details) => errors.push(details), warn: () => undefined });
      const reply = await broken.handle('cost 7d', console);
      expect(reply.kind).toBe('error');
      expect(renderText(reply)).toContain('The cost database is not reachable right now');
      expect((await broken.handle('help', console)).kind).toBe('help');
    } finally {
      await down.close();
    }
  });
});
