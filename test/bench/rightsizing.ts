/**
 * Rightsizing: the desk (sync, decisions) over the real store, on one fresh database.
 *
 * 1. Sync: 5,000 synthetic recommendations (deterministic ids, types and accounts over 50
 *    teams, exact amounts; every 4th saves at least the two-approver bar) saved by
 *    `desk.sync`; then the same 5,000 again (nothing changes), then a report where 10% have
 *    new figures and 5% are gone (withdrawn). Time and rows a second of each, and the
 *    added / updated / withdrawn counts against those expected.
 * 2. Decision latency: 1,000 approvals one after the other through `desk.decide`, each of a
 *    different single-approver recommendation (p50/p95/p99; no warm-up, so the first ones count).
 * 3. Idempotence under load: 200 recommendations (every 4th needing two approvers), each
 *    clicked Approve 5 times by one approver and once by a second, all 1,200 clicks at once
 *    (one Promise.all). Expected: all 200 approved, exactly one `approve` audit entry on each
 *    single-approver one, exactly two (one per approver) on each two-approver one. Counts are
 *    printed as "expected X, got Y" and any difference throws (the bench exits non-zero).
 *
 * A fixed clock, a silent logger, execution off. PGlite in memory or, with `databaseUrl`, that
 * (empty) PostgreSQL database through the bot's own pool.
 */
import { PgCostStore } from '../../src/adapters/db/cost-store.js';
import { type DatabaseTarget, openDatabase } from '../../src/adapters/db/database.js';
import { PgRightsizingStore } from '../../src/adapters/db/rightsizing-store.js';
import { ApproverPolicy, EVERY_TEAM } from '../../src/app/rightsizing/approver-policy.js';
import { type DeskLogger, type DeskResult, type DeskSettings, RightsizingDesk } from '../../src/app/rightsizing/desk.js';
import { type Amount, parseAmount } from '../../src/core/money.js';
import type { Clock, RightsizingCandidate, RightsizingRecord, RightsizingSource, SourceMessage } from '../../src/ports.js';

const CANDIDATES = 5_000;
const TEAMS = 50;
/** Every 20th recommendation disappears from the changed report (5%). */
const GONE_EVERY = 20;
/** Every 10th, offset by 5 (never a disappearing one), gets new figures (10%). */
const CHANGED_EVERY = 10;
const CHANGED_OFFSET = 5;
const SEQUENTIAL_DECISIONS = 1_000;
const LOAD_RECOMMENDATIONS = 200;
const CLICKS_BY_FIRST = 5;
/** Every 4th recommendation of the load test needs two approvers. */
const TWO_APPROVER_EVERY = 4;

const FIRST_APPROVER = 'U0BENCHAPP1';
const SECOND_APPROVER = 'U0BENCHAPP2';
const SOURCE: SourceMessage = { platform: 'slack', conversationId: 'C0BENCH001', messageId: '1798000000.000100' };
const CLOCK: Clock = { now: () => new Date('2026-11-01T12:00:00Z') };
const SETTINGS: DeskSettings = { twoApproverFrom: parseAmount('1000'), expireDays: 14, execute: 'off', metric: 'UnblendedCost' };

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2'] as const;
/** Current type → one size down (a `terminate` stops it instead). */
const DOWNSIZE: readonly (readonly [string, string])[] = [
  ['m6i.2xlarge', 'm6i.xlarge'],
  ['m6i.4xlarge', 'm6i.2xlarge'],
  ['c6i.4xlarge', 'c6i.2xlarge'],
  ['c6i.2xlarge', 'c6i.xlarge'],
  ['r6g.2xlarge', 'r6g.xlarge'],
  ['r6g.8xlarge', 'r6g.4xlarge'],
  ['t3.xlarge', 't3.large'],
];

/** The source: whatever report it was last given. */
class SyntheticSource implements RightsizingSource {
  constructor(public report: RightsizingCandidate[]) {}
  async getRecommendations(): Promise<RightsizingCandidate[]> {
    return this.report;
  }
}

/** Prints nothing; keeps the last sync's counts (the desk logs them). */
class SilentLogger implements DeskLogger {
  lastSync: { added?: number; updated?: number; withdrawn?: number } = {};
  info(details: object, message: string): void {
    if (message === 'rightsizing recommendations synced') this.lastSync = details;
  }
  warn(): void {}
  error(): void {}
}

export async function benchRightsizing(options: { databaseUrl?: string } = {}): Promise<void> {
  const target: DatabaseTarget = options.databaseUrl ? { kind: 'postgres', url: options.databaseUrl } : { kind: 'pglite', dataDir: undefined };
  const name = options.databaseUrl ? 'PostgreSQL' : 'PGlite (in memory)';
  console.log(`\n== Rightsizing desk, ${name}`);
  const database = await openDatabase(target);
  try {
    await database.migrate();
    const store = new PgRightsizingStore(database.db);
    const logger = new SilentLogger();
    const source = new SyntheticSource(Array.from({ length: CANDIDATES }, (_, i) => candidate(i, false)));
    const policy = new ApproverPolicy({
      store,
      configured: { admins: [], approvers: new Map([[EVERY_TEAM, [{ kind: 'user', id: FIRST_APPROVER }, { kind: 'user', id: SECOND_APPROVER }]]]) },
      clock: CLOCK,
    });
    const desk = new RightsizingDesk({ store, costs: new PgCostStore(database.db), policy, clock: CLOCK, logger, holder: 'bench', settings: SETTINGS, source });
    const failures: string[] = [];

    // 1. Sync.
    const twoApproverCount = Math.ceil(CANDIDATES / TWO_APPROVER_EVERY);
    await timedSync('first sync', `${CANDIDATES.toLocaleString('en')} new, ${TEAMS} teams, ${twoApproverCount.toLocaleString('en')} at or above the two-approver bar`, desk, logger, source.report.length, { added: CANDIDATES, updated: 0, withdrawn: 0 }, failures);
    await timedSync('re-sync', 'the same report, nothing changed', desk, logger, source.report.length, { added: 0, updated: 0, withdrawn: 0 }, failures);
    const changed = Array.from({ length: CANDIDATES }, (_, i) => i).filter((i) => i % CHANGED_EVERY === CHANGED_OFFSET).length;
    const gone = Array.from({ length: CANDIDATES }, (_, i) => i).filter((i) => i % GONE_EVERY === 0).length;
    source.report = Array.from({ length: CANDIDATES }, (_, i) => i)
      .filter((i) => i % GONE_EVERY !== 0)
      .map((i) => candidate(i, i % CHANGED_EVERY === CHANGED_OFFSET));
    await timedSync('changed sync', `${source.report.length.toLocaleString('en')} reported: ${changed} with new figures, ${gone} gone`, desk, logger, source.report.length, { added: 0, updated: changed, withdrawn: gone }, failures);

    const pending = (await store.list({ statuses: ['pending'] })).sort((a, b) => a.id - b.id);
    const singles = pending.filter((record) => record.approvalsNeeded === 1);
    const doubles = pending.filter((record) => record.approvalsNeeded === 2);
    check(failures, 'pending after the syncs', CANDIDATES - gone, pending.length);

    // 2. Decision latency.
    const sequential = singles.slice(0, SEQUENTIAL_DECISIONS);
    if (sequential.length < SEQUENTIAL_DECISIONS) throw new Error(`only ${sequential.length} single-approver recommendations pending`);
    const timings: number[] = [];
    let approvedInTurn = 0;
    const sequentialStarted = performance.now();
    for (const record of sequential) {
      const started = performance.now();
      const result = await desk.decide({ id: record.id, decision: 'approve', userId: FIRST_APPROVER, source: SOURCE });
      timings.push(performance.now() - started);
      if (result.ok && result.changed && result.record.status === 'approved') approvedInTurn++;
    }
    const sequentialMs = performance.now() - sequentialStarted;
    console.log(
      `decide, ${SEQUENTIAL_DECISIONS.toLocaleString('en')} sequential approvals (each a different recommendation, ${TEAMS} teams, approvers configured for '*'): ` +
        `${percentiles(timings)}; ${ms(sequentialMs)} ms in all, ${perSecond(SEQUENTIAL_DECISIONS, sequentialMs)} decisions/s`,
    );
    check(failures, 'sequential approvals that approved', SEQUENTIAL_DECISIONS, approvedInTurn);

    // 3. Idempotence under load.
    const used = new Set(sequential.map((record) => record.id));
    const freeSingles = singles.filter((record) => !used.has(record.id));
    const targets: RightsizingRecord[] = [];
    for (let n = 0, s = 0, d = 0; n < LOAD_RECOMMENDATIONS; n++) {
      const next = n % TWO_APPROVER_EVERY === 0 ? doubles[d++] : freeSingles[s++];
      if (!next) throw new Error('not enough pending recommendations left for the load test');
      targets.push(next);
    }
    const twoApproverIds = new Set(targets.filter((record) => record.approvalsNeeded === 2).map((record) => record.id));
    const clicks: { id: number; userId: string }[] = [];
    targets.forEach((record, n) => {
      const own: { id: number; userId: string }[] = Array.from({ length: CLICKS_BY_FIRST }, () => ({ id: record.id, userId: FIRST_APPROVER }));
      // The second approver's click lands at a different place among the six for each one.
      own.splice(n % (CLICKS_BY_FIRST + 1), 0, { id: record.id, userId: SECOND_APPROVER });
      clicks.push(...own);
    });
    const loadStarted = performance.now();
    const results: DeskResult[] = await Promise.all(clicks.map((click) => desk.decide({ id: click.id, decision: 'approve', userId: click.userId, source: SOURCE })));
    const loadMs = performance.now() - loadStarted;

    const refused = results.filter((result) => !result.ok).length;
    const changedClicks = results.filter((result) => result.ok && result.changed).length;
    const after = await Promise.all(targets.map((record) => store.get(record.id)));
    const approved = after.filter((record) => record?.status === 'approved');
    const approveEntries = new Map<number, number>();
    for (const entry of await store.audit({ limit: 1_000_000 })) {
      if (entry.action !== 'approve' || entry.recommendationId === undefined) continue;
      approveEntries.set(entry.recommendationId, (approveEntries.get(entry.recommendationId) ?? 0) + 1);
    }
    const singleIds = targets.filter((record) => !twoApproverIds.has(record.id)).map((record) => record.id);
    const doubleIds = [...twoApproverIds];
    const singlesWithOne = singleIds.filter((id) => approveEntries.get(id) === 1).length;
    const doublesApprovedWithTwo = doubleIds.filter((id) => {
      const record = after.find((candidate) => candidate?.id === id);
      return record?.status === 'approved' && approveEntries.get(id) === 2 && new Set(record.approvals.map((approval) => approval.userId)).size === 2;
    }).length;
    const entriesOnTargets = targets.reduce((sum, record) => sum + (approveEntries.get(record.id) ?? 0), 0);

    console.log(
      `decide under load: ${LOAD_RECOMMENDATIONS} recommendations (${doubleIds.length} needing two approvers) × (${CLICKS_BY_FIRST} clicks by one approver + 1 by another), ` +
        `${clicks.length.toLocaleString('en')} decide calls at once: ${ms(loadMs)} ms wall, ${perSecond(clicks.length, loadMs)} calls/s`,
    );
    check(failures, 'recommendations approved', LOAD_RECOMMENDATIONS, approved.length);
    check(failures, `single-approver ones with exactly 1 approve audit entry (of ${singleIds.length})`, singleIds.length, singlesWithOne);
    check(failures, `two-approver ones approved with exactly 2 approve audit entries, one per approver (of ${doubleIds.length})`, doubleIds.length, doublesApprovedWithTwo);
    check(failures, 'approve audit entries on these recommendations', singleIds.length + 2 * doubleIds.length, entriesOnTargets);
    check(failures, 'clicks that changed something', singleIds.length + 2 * doubleIds.length, changedClicks);
    check(failures, 'clicks refused', 0, refused);

    if (failures.length > 0) throw new Error(`rightsizing bench (${name}): ${failures.length} count(s) differ from what was expected: ${failures.join('; ')}`);
  } finally {
    await database.close();
  }
}

/** One forced sync, timed; prints the time, rows a second and the store's counts against `expected`. */
async function timedSync(
  label: string,
  what: string,
  desk: RightsizingDesk,
  logger: SilentLogger,
  rows: number,
  expected: { added: number; updated: number; withdrawn: number },
  failures: string[],
): Promise<void> {
  const started = performance.now();
  if (!(await desk.sync({ force: true }))) throw new Error(`${label}: the desk did not sync`);
  const elapsed = performance.now() - started;
  const got = logger.lastSync;
  console.log(`sync, ${label} (${what}): ${ms(elapsed)} ms, ${perSecond(rows, elapsed)} rows/s`);
  for (const field of ['added', 'updated', 'withdrawn'] as const) check(failures, `  ${label}, ${field}`, expected[field], got[field]);
}

/** Prints "expected X, got Y" and notes a difference. */
function check(failures: string[], what: string, expected: number, got: number | undefined): void {
  const ok = got === expected;
  console.log(`${what}: expected ${expected}, got ${got ?? 'nothing'}${ok ? '' : '  <-- MISMATCH'}`);
  if (!ok) failures.push(`${what.trim()}: expected ${expected}, got ${got ?? 'nothing'}`);
}

/**
 * Recommendation `i`: team i mod 50, one of 10 accounts and 3 regions, a 17-hex-digit instance
 * id, every 8th an idle instance to stop; every 4th saves USD 1,000 or more (two approvers),
 * the others under USD 1,000. Amounts are exact, with all ten fractional digits. `changed`:
 * the saving one cent higher (never across the bar) and other utilisation figures.
 */
function candidate(i: number, changed: boolean): RightsizingCandidate {
  const accountId = String(100_000_000_000 + (i % 10) * 111_111_111);
  const instanceId = `i-${(0x0a000000000000000n + BigInt(i) * 7_919n).toString(16).padStart(17, '0')}`;
  const terminate = i % 8 === 3;
  const [currentType, downsized] = DOWNSIZE[i % DOWNSIZE.length]!;
  const targetType = terminate ? undefined : downsized;
  const fraction = String((i * 7_919_123_457) % 10_000_000_000).padStart(10, '0');
  const dollars = i % TWO_APPROVER_EVERY === 0 ? 1_000 + ((i * 37) % 4_000) : 5 + ((i * 53) % 990);
  let monthlySavings: Amount = parseAmount(`${dollars}.${fraction}`);
  if (changed) monthlySavings += parseAmount('0.01');
  const currentMonthlyCost = monthlySavings * 2n + parseAmount(`${(i * 13) % 500}.25`);
  return {
    key: `${accountId}:${instanceId}:${currentType}>${targetType ?? 'stop'}`,
    accountId,
    region: REGIONS[i % REGIONS.length]!,
    instanceId,
    instanceName: i % 5 === 4 ? undefined : `bench-${i}`,
    team: `team-${String((i % TEAMS) + 1).padStart(2, '0')}`,
    action: terminate ? 'terminate' : 'modify',
    currentType,
    targetType,
    cpuMaxPercent: terminate ? 1.5 : 20 + (i % 30) + (changed ? 7 : 0),
    memoryMaxPercent: i % 6 === 0 ? undefined : 30 + (i % 40),
    currentMonthlyCost,
    monthlySavings,
    currency: 'USD',
    lookbackDays: 14,
  };
}

function percentiles(values: readonly number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return `p50 ${at(50).toFixed(1)} ms, p95 ${at(95).toFixed(1)} ms, p99 ${at(99).toFixed(1)} ms`;
}

function ms(value: number): string {
  return value.toFixed(0);
}

function perSecond(count: number, elapsedMs: number): string {
  return Math.round((count / elapsedMs) * 1000).toLocaleString('en');
}
