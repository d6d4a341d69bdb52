/**
 * Budgets as people meet them, over the demo organisation synced into a real store at a fixed
 * clock and budgets kept in the real budget store: `budget` and its answers, the budget beside
 * `forecast` and in the digests, what a confined channel may see, and the threshold alerts
 * posted through the real Slack notifier to a local fake of Slack — each once a month, however
 * many instances check and whatever Slack answers.
 */
import { webApi } from '@slack/bolt';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PgBudgetStore } from '../../../src/adapters/db/budget-store.js';
import { PgCostStore } from '../../../src/adapters/db/cost-store.js';
import { type Database, openDatabase } from '../../../src/adapters/db/database.js';
import { PgDigestStore } from '../../../src/adapters/db/digest-store.js';
import { DemoCostSource } from '../../../src/adapters/demo/demo-cost-source.js';
import { budgetAlerts, budgets as budgetRows, digestSubscriptions } from '../../../src/adapters/db/schema.js';
import { type BudgetAlertDeps, checkBudgetThresholds } from '../../../src/app/budgets/budget-alerts.js';
import { buildDigest } from '../../../src/app/digest.js';
import { CommandEngine, type RequestContext } from '../../../src/app/engine.js';
import { monthEndForecast } from '../../../src/app/handlers/forecast.js';
import type { HandlerDeps } from '../../../src/app/report-context.js';
import { syncCosts } from '../../../src/app/sync-costs.js';
import { SlackAlertNotifier } from '../../../src/channels/slack/slack-alerts.js';
import { TOTAL_FACET } from '../../../src/core/cost-model.js';
import { type Amount, amountToDecimalString, sumAmounts } from '../../../src/core/money.js';
import type { Reply } from '../../../src/core/reply.js';
import type { BudgetAlertKey, BudgetStore } from '../../../src/ports.js';
import { renderText } from '../../../src/render/text.js';
import { type FakeSlack, startFakeSlack } from '../../support/fake-slack.js';
import { TEST_BOT_TOKEN } from '../../support/slack-requests.js';
import { openTestDatabase, testDatabaseKind, type TestDatabase } from '../../support/test-database.js';
import { centsIn, FixedClock, replyField, testEngineSettings, testSyncSettings } from '../../support/world.js';

const consoleContext: RequestContext = { channel: 'console' };
const logger = { error: () => undefined, warn: () => undefined };
const PAY_CHANNEL = 'C0PAY';
const SEARCH_CHANNEL = 'C0SEARCH';
/** Through the last day of data (Sunday the 22nd). */
const MONTH_TO_DATE = { start: '2026-11-01', end: '2026-11-23' };
const CONFINED = new Map<string, readonly string[]>([[PAY_CHANNEL, ['payments']], ['*', []]]);

/** "This month: USD a of USD b (p%) · forecast USD c (q%)" as its figures (cents, percents). */
function budgetFigures(text: string): { spent: bigint; budget: bigint; spentPercent: string; forecast: bigint; forecastPercent: string } {
  const match = /(USD [\d,.]+) of (USD [\d,.]+) \(([\d.]+)%\) · forecast (USD [\d,.]+) \(([\d.]+)%\)/.exec(text);
  if (!match) throw new Error(`no budget line in\n${text}`);
  return { spent: centsIn(match[1]!), budget: centsIn(match[2]!), spentPercent: match[3]!, forecast: centsIn(match[4]!), forecastPercent: match[5]! };
}
const tableRows = (reply: Reply) => reply.blocks.flatMap((block) => (block.type === 'table' ? block.rows : []));
const texts = (reply: Reply) => reply.blocks.flatMap((block) => (block.type === 'text' ? [block.text] : []));

describe(`budgets on ${testDatabaseKind}`, () => {
  let test: TestDatabase;
  let store: PgCostStore;
  let budgets: PgBudgetStore;
  let engine: CommandEngine;
  // Monday 23 November 2026, 08:00 UTC: data is through Sunday the 22nd.
  const clock = new FixedClock(new Date('2026-11-23T08:00:00Z'));
  const deps = (): HandlerDeps => ({ store, budgets, clock, settings: testEngineSettings() });
  const run = async (line: string, context = consoleContext, on = engine) => renderText(await on.handle(line, context));
  const spentThisMonth = async (team: string): Promise<Amount> =>
    sumAmounts((await store.sumBy(TOTAL_FACET, 'team', { metric: 'UnblendedCost', team, range: MONTH_TO_DATE })).map((row) => row.amount));
  const setBudget = (team: string, amount: Amount) => budgets.set({ team, amount, currency: 'USD', setBy: 'U0ALICE01', setAt: clock.now() });

  beforeAll(async () => {
    test = await openTestDatabase();
    store = new PgCostStore(test.database.db);
    budgets = new PgBudgetStore(test.database.db);
    expect((await syncCosts({ source: new DemoCostSource(), store, clock }, { ...testSyncSettings(120), readyAfterHourUtc: 0 })).errors).toEqual([]);
    engine = new CommandEngine(deps(), logger);
  }, 120_000);
  afterAll(async () => test?.dispose());
  beforeEach(async () => {
    for (const table of [budgetAlerts, budgetRows, digestSubscriptions]) await test.database.db.delete(table);
  });

  it('sets, replaces, lists and removes a team’s budget, with the month’s spend and forecast as `forecast` gives them', async () => {
    expect(await run('budget')).toContain('No team has a budget yet. Set one with `budget set TEAM AMOUNT`');
    const set = await run('budget set payments 30000');
    expect(set).toContain('The monthly budget of payments is now USD 30,000.00.');
    const forecast = await engine.handle('forecast for payments', consoleContext);
    const spent = centsIn(replyField(forecast, /^Spent 2026-11-01 – 2026-11-22$/));
    const expected = centsIn(replyField(forecast, 'Forecast'));
    const figures = budgetFigures(set.split('\n').find((line) => line.startsWith('This month: '))!);
    expect(figures).toMatchObject({ spent, budget: 3_000_000n, forecast: expected });

    expect(await run('budget set payments 25k')).toContain('The monthly budget of payments is now USD 25,000.00 (was USD 30,000.00).');
    expect(await run('status')).toMatch(/Budgets\s+1 team \(`budget` shows where each stands\)/);
    const listed = await engine.handle('budget', consoleContext);
    expect(tableRows(listed)).toHaveLength(1);
    const [team, budget, spentCell, forecastCell, setBy] = tableRows(listed)[0]!;
    expect([team, budget, setBy]).toEqual(['payments', 'USD 25,000.00', 'console · 2026-11-23']);
    expect(centsIn(spentCell!)).toBe(spent);
    expect(spentCell).toMatch(/ \(\d+\.\d%\)$/);
    expect(centsIn(forecastCell!)).toBe(expected);
    expect(forecastCell).toMatch(/ \(\d+\.\d%\)$/);

    expect(await run('budget rm payments')).toContain('The monthly budget of payments is removed.');
    expect(await run('budget rm payments')).toContain('payments has no budget to remove.');
    expect(await run('budget')).toContain('No team has a budget yet.');
    expect(await run('status')).toMatch(/Budgets\s+none set/);
  });

  it('refuses a misspelt team with the closest one, and amounts that are not above zero or not numbers', async () => {
    expect(await run('budget set paymnts 100')).toContain("I don't know the team `paymnts`; did you mean `payments`?");
    expect(await run('budget set payments -5')).toContain('A budget must be more than zero. To remove one, use `budget rm TEAM`.');
    expect(await run('budget set payments abc')).toContain('`abc` is not an amount. Write it like `25000`, `25,000.50` or `25k`.');
    expect(await budgets.list()).toEqual([]);
  });

  it('shows spend as a share of the budget: 200.0% when the budget is half of what was spent', async () => {
    const spent = await spentThisMonth('payments');
    await run(`budget set payments ${amountToDecimalString(spent / 2n)}`);
    const row = tableRows(await engine.handle('budget', consoleContext))[0]!;
    expect(row[2]).toMatch(/ \(200\.0%\)$/);
  });

  it('puts the budget beside a team’s forecast, over by or to spare, and never beside the organisation’s', async () => {
    expect(await run('forecast for payments')).not.toContain('Monthly budget');
    const forecast = centsIn(replyField(await engine.handle('forecast for payments', consoleContext), 'Forecast'));
    await setBudget('payments', (forecast * 100_000_000n) / 2n); // half the forecast: 200% of it
    const over = replyField(await engine.handle('forecast for payments', consoleContext), 'Monthly budget');
    expect(over).toMatch(/ · forecast 200\.0% of it, over by USD [\d,.]+$/);
    expect(Math.abs(Number(centsIn(over.split('over by ')[1]!) - (forecast - forecast / 2n)))).toBeLessThanOrEqual(1);
    await setBudget('payments', forecast * 2n * 100_000_000n);
    expect(replyField(await engine.handle('forecast for payments', consoleContext), 'Monthly budget')).toMatch(/ · forecast 50\.0% of it, USD [\d,.]+ to spare$/);
    expect(await run('forecast')).not.toContain('Monthly budget');
  });

  it('shows the team’s budget line in its digest, the teams forecast over budget in the organisation’s, and none for an earlier month', async () => {
    const set = await run('budget set payments 30000');
    const line = set.split('\n').find((text) => text.startsWith('This month: '))!.slice('This month: '.length, -1);
    const team = await buildDigest(deps(), { cadence: 'daily', team: 'payments', through: '2026-11-22' });
    expect(texts(team.reply)).toContain(`*Budget*: ${line}`);

    await setBudget('payments', (await spentThisMonth('payments')) * 100n); // far above
    await run('budget set search 100'); // far below
    const organisation = (await buildDigest(deps(), { cadence: 'daily', through: '2026-11-22' })).reply;
    const section = texts(organisation).find((text) => text.startsWith('*Budgets*:'));
    expect(section).toMatch(/^\*Budgets\*: 1 of 2 teams forecast over budget\n• search: USD [\d,.]+ of USD 100\.00 /);
    expect(section).not.toContain('payments');

    const october = await buildDigest(deps(), { cadence: 'daily', team: 'payments', through: '2026-10-31' });
    expect(renderText(october.reply)).not.toMatch(/Budgets?:/);
    expect(renderText((await buildDigest(deps(), { cadence: 'daily', through: '2026-10-31' })).reply)).not.toMatch(/Budgets?:/);
  });

  it('lets a channel confined to payments see and set only payments’ budget', async () => {
    const confined = new CommandEngine({ ...deps(), settings: { ...testEngineSettings(), channelTeams: CONFINED } }, logger);
    const fromPay = { channel: 'slack' as const, conversationId: PAY_CHANNEL, userId: 'U0ALICE01' };
    await run('budget set search 100');
    await run('budget set payments 30000', fromPay, confined);
    const rows = tableRows(await confined.handle('budget', fromPay));
    expect(rows.map((row) => [row[0], row[4]])).toEqual([['payments', 'U0ALICE01 · 2026-11-23']]);
    const refused = await run('budget set search 100', fromPay, confined);
    expect(refused).toContain('This conversation can see `payments` only.');
    expect(refused).not.toContain('search');
    expect((await budgets.get('search'))!.amount).toBe(100n * 10_000_000_000n);
  });

  describe('threshold alerts', () => {
    let fake: FakeSlack;
    let others: Database[] = [];
    const warnings: string[] = [];

    beforeAll(async () => {
      fake = await startFakeSlack();
      // Two more instances, each with its own pool, where there is a server to share.
      others = test.url ? await Promise.all([1, 2].map(() => openDatabase({ kind: 'postgres', url: test.url! }))) : [];
    });
    afterAll(async () => {
      for (const other of others) await other.close();
      await fake?.close();
    });
    beforeEach(() => {
      fake.calls.splice(0);
      warnings.splice(0);
    });

    /** The check as one instance runs it: its own stores over its own pool, its own Slack client. */
    function instance(index = 0): BudgetAlertDeps {
      const db = index === 0 ? test.database.db : (others[index - 1]?.db ?? test.database.db);
      const client = new webApi.WebClient(TEST_BOT_TOKEN, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } });
      return {
        store: new PgCostStore(db),
        budgets: new PgBudgetStore(db),
        subscriptions: new PgDigestStore(db),
        notifiers: new Map([['slack', new SlackAlertNotifier(client)]]),
        clock,
        settings: testEngineSettings(),
        logger: { warn: (_details, message) => warnings.push(message) },
      };
    }
    const subscribe = (team: string, conversationId: string) =>
      new PgDigestStore(test.database.db).subscribe({ platform: 'slack', conversationId, cadence: 'daily', team, timeZone: 'UTC', createdBy: 'U0ALICE01' });
    const posts = (channel?: string) => fake.callsTo('chat.postMessage').filter((call) => channel === undefined || call.args.channel === channel);
    const titles = (channel?: string) => posts(channel).map((call) => String(call.args.text).split(' · ')[0]);
    const ledger = (team: string) => test.database.db.select().from(budgetAlerts).where(eq(budgetAlerts.team, team));
    /** A budget that puts `team`'s spend so far at `percent` of it. */
    const budgetAt = async (team: string, percent: bigint) => setBudget(team, ((await spentThisMonth(team)) * 100n) / percent);

    it('posts one alert for spend past 80% and one for the forecast past 100%, not one per threshold, and nothing on the next check', async () => {
      await subscribe('payments', PAY_CHANNEL);
      await budgetAt('payments', 85n);
      const forecast = (await monthEndForecast(deps(), { team: 'payments' })).forecast.mean;
      expect(Number((forecast * 100n) / (await budgets.get('payments'))!.amount)).toBeGreaterThan(100);

      expect(await checkBudgetThresholds(instance())).toBe(2);
      expect(titles(PAY_CHANNEL).sort()).toEqual(['Budget forecast past 100%', 'Budget spent past 80%']);
      expect(String(posts(PAY_CHANNEL)[0]!.args.text)).toBe('Budget spent past 80% · payments · November');
      expect(JSON.stringify(posts(PAY_CHANNEL)[0]!.args.blocks)).toContain('(85.0%)');
      expect(posts()).toHaveLength(2);

      expect(await checkBudgetThresholds(instance())).toBe(0);
      expect(posts()).toHaveLength(2);
      expect(warnings).toEqual([]);
    });

    it('posts each alert once in total when three instances check at the same moment', async () => {
      await subscribe('payments', PAY_CHANNEL);
      await budgetAt('payments', 85n);
      const sent = await Promise.all([0, 1, 2].map((index) => checkBudgetThresholds(instance(index))));
      // Every threshold crossed is claimed by one instance; the alerts are still one per kind, about the highest.
      expect(titles(PAY_CHANNEL).sort()).toEqual(['Budget forecast past 100%', 'Budget spent past 80%']);
      expect(sent.reduce((a, b) => a + b, 0)).toBe(2);
    });

    it('posts one spent alert when one instance claims 50% just before another claims 80% (the race, made certain)', async () => {
      await subscribe('payments', PAY_CHANNEL);
      await budgetAt('payments', 85n);
      const slow = instance(0);
      const fast = instance(others.length > 0 ? 1 : 0);
      let claimed!: () => void;
      let resume!: () => void;
      const slowClaimed50 = new Promise<void>((resolve) => (claimed = resolve));
      const fastDone = new Promise<void>((resolve) => (resume = resolve));
      // The slow instance stops right after winning "spent past 50%", until the fast one has checked.
      const real = slow.budgets;
      const paused: BudgetStore = Object.assign(Object.create(real) as BudgetStore, {
        claimAlert: async (key: BudgetAlertKey, at: Date) => {
          const won = await real.claimAlert(key, at);
          if (key.kind === 'actual' && key.threshold === 50) {
            claimed();
            await fastDone;
          }
          return won;
        },
      });
      const slowCheck = checkBudgetThresholds({ ...slow, budgets: paused });
      await slowClaimed50;
      await checkBudgetThresholds(fast).finally(resume);
      await slowCheck;
      expect(titles(PAY_CHANNEL).sort()).toEqual(['Budget forecast past 100%', 'Budget spent past 80%']);
    });

    it('alerts each threshold once a month, even when the budget is raised and lowered again', async () => {
      await subscribe('payments', PAY_CHANNEL);
      await budgetAt('payments', 85n);
      expect(await checkBudgetThresholds(instance())).toBe(2);
      await budgetAt('payments', 40n);
      expect(await checkBudgetThresholds(instance())).toBe(0);
      await budgetAt('payments', 85n);
      expect(await checkBudgetThresholds(instance())).toBe(0);
      expect(posts()).toHaveLength(2);
    });

    it('keeps the alert of a team with no channel and no fallback for when the team gets a channel', async () => {
      await budgetAt('search', 85n);
      expect(await checkBudgetThresholds(instance())).toBe(0);
      expect(posts()).toEqual([]);
      expect(await ledger('search')).toEqual([]);

      await subscribe('search', SEARCH_CHANNEL);
      expect(await checkBudgetThresholds(instance())).toBe(2);
      expect(titles(SEARCH_CHANNEL).sort()).toEqual(['Budget forecast past 100%', 'Budget spent past 80%']);
    });

    it('records nothing when Slack refuses the post, and sends it on the next check', async () => {
      await subscribe('payments', PAY_CHANNEL);
      await budgetAt('payments', 85n);
      fake.failNext('chat.postMessage', { error: 'channel_not_found' });
      fake.failNext('chat.postMessage', { error: 'channel_not_found' });
      expect(await checkBudgetThresholds(instance())).toBe(0);
      expect(posts()).toEqual([]);
      expect(fake.calls.filter((call) => call.method === 'chat.postMessage' && !call.ok)).toHaveLength(2);
      expect(await ledger('payments')).toEqual([]);
      expect(warnings).toEqual(['could not post a budget alert', 'could not post a budget alert']);

      expect(await checkBudgetThresholds(instance())).toBe(2);
      expect(titles(PAY_CHANNEL).sort()).toEqual(['Budget forecast past 100%', 'Budget spent past 80%']);
      const recorded = await ledger('payments');
      expect(recorded).toHaveLength(5); // actual 50, 80; forecast 50, 80, 100
      expect(recorded.every((row) => row.conversationId === PAY_CHANNEL && row.messageId !== null)).toBe(true);
    });
  });
});
