/**
 * Conversations confined to teams (FINOPS_CHANNEL_TEAMS): every command answers about the
 * conversation's own teams only, whatever is typed, and no sentence names the other teams.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgCostStore } from '../../src/adapters/db/cost-store.js';
import { PgDigestStore } from '../../src/adapters/db/digest-store.js';
import { DemoCostSource } from '../../src/adapters/demo/demo-cost-source.js';
import { CommandEngine } from '../../src/app/engine.js';
import { syncCosts } from '../../src/app/sync-costs.js';
import { renderText } from '../../src/render/text.js';
import { openTestDatabase, testDatabaseKind, type TestDatabase } from '../support/test-database.js';
import { centsIn, engineFor, FixedClock, replyField, sourceTotalCents, testEngineSettings, testSyncSettings } from '../support/world.js';

const RULES = new Map<string, readonly string[]>([
  ['C0PAY', ['payments']],
  ['C0TWO', ['payments', 'search']],
  ['C0TYPO', ['paymnts']],
  ['C0NONE', []],
]);

describe(`team confinement on ${testDatabaseKind}`, () => {
  let test: TestDatabase;
  let confined: CommandEngine;
  let open: CommandEngine;
  const demo = new DemoCostSource();
  const clock = new FixedClock(new Date('2026-11-22T12:00:00Z'));
  const inChannel = (conversationId: string) => ({ channel: 'slack' as const, userId: 'U0ALICE01', conversationId });
  const OTHER_TEAMS = ['search', 'checkout', 'ml-platform', 'data-platform'];

  beforeAll(async () => {
    test = await openTestDatabase();
    const store = new PgCostStore(test.database.db);
    await syncCosts({ source: demo, store, clock }, testSyncSettings(60));
    confined = new CommandEngine(
      { store, clock, settings: { ...testEngineSettings(), channelTeams: RULES }, subscriptions: new PgDigestStore(test.database.db) },
      { error: () => undefined, warn: () => undefined },
    );
    open = engineFor(store, clock);
  });
  afterAll(async () => test.dispose());

  it("answers a confined channel about its team without `for`, to the cent of that team's spend", async () => {
    const reply = await confined.handle('cost 7d', inChannel('C0PAY'));
    expect(reply.title).toBe('Cost by service for payments, last 7 days');
    expect(centsIn(replyField(reply, 'Total'))).toBe(await sourceTotalCents(demo, { start: '2026-11-15', end: '2026-11-22' }, { team: 'payments' }));
    const byTeam = renderText(await confined.handle('cost 7d by team', inChannel('C0PAY')));
    for (const team of OTHER_TEAMS) expect(byTeam).not.toContain(team);
  });

  it('refuses other teams, org-wide views and unlisted choices with a sentence that names only its own teams', async () => {
    for (const line of ['cost 7d for search', 'top 30d for checkout', 'forecast for ml-platform', 'digest weekly for search', 'explain 7d for search']) {
      const reply = await confined.handle(line, inChannel('C0PAY'));
      expect(reply.kind, line).toBe('error');
      expect(renderText(reply), line).toContain('This conversation can see `payments` only.');
    }
    expect(renderText(await confined.handle('tags', inChannel('C0PAY')))).toContain('cannot see');
    const two = renderText(await confined.handle('cost 7d', inChannel('C0TWO')));
    expect(two).toContain('This conversation can see `payments`, `search`: say which with `for TEAM`.');
    expect((await confined.handle('top 7d for search', inChannel('C0TWO'))).kind).toBe('answer');
    expect(renderText(await confined.handle('why did spend go up?', inChannel('C0NONE')))).toContain("This conversation can't see any team's spend.");
  });

  it('names no other team when a configured team has no spend (a typo in the rules)', async () => {
    const text = renderText(await confined.handle('cost 7d', inChannel('C0TYPO')));
    expect(text).toContain('I have no cost data for the team `paymnts`.');
    for (const team of ['payments', ...OTHER_TEAMS]) expect(text).not.toContain(team);
  });

  it('leaves conversations without a rule (and no `*` rule) open, like an unconfined bot', async () => {
    const free = await confined.handle('cost 7d by team', inChannel('C0ELSEWHERE'));
    const plain = await open.handle('cost 7d by team', inChannel('C0ELSEWHERE'));
    expect(renderText(free)).toBe(renderText(plain));
  });

  it("lets a confined channel subscribe only to its team's digest", async () => {
    const subscribed = renderText(await confined.handle('subscribe daily', inChannel('C0PAY')));
    expect(subscribed).toContain('payments');
    expect(renderText(await confined.handle('subscribe daily for search', inChannel('C0PAY')))).toContain('This conversation can see `payments` only.');
    expect(renderText(await confined.handle('unsubscribe daily for payments', inChannel('C0PAY')))).toContain('Unsubscribed');
  });
});
