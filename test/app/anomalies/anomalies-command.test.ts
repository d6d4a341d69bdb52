/**
 * The `anomalies` command, and where else people meet anomalies (digests, explanations, the
 * AI's tool), over the demo organisation synced into a real store and anomalies written
 * through the real anomaly store: what is listed, in which order, with which figures, who
 * may see it, and what people decided about it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgAnomalyStore } from '../../../src/adapters/db/anomaly-store.js';
import { PgCostStore } from '../../../src/adapters/db/cost-store.js';
import { DemoCostSource } from '../../../src/adapters/demo/demo-cost-source.js';
import { runTool } from '../../../src/app/ai/tools.js';
import { buildDigest } from '../../../src/app/digest.js';
import { CommandEngine } from '../../../src/app/engine.js';
import type { HandlerDeps } from '../../../src/app/report-context.js';
import { syncCosts } from '../../../src/app/sync-costs.js';
import { type Amount, parseAmount, sumAmounts, toCents } from '../../../src/core/money.js';
import type { Reply, ReplyBlock } from '../../../src/core/reply.js';
import type { AnomalyDriver, AnomalyRecord, AnomalyStatus, DetectedAnomaly } from '../../../src/ports.js';
import { renderText } from '../../../src/render/text.js';
import { openTestDatabase, testDatabaseKind, type TestDatabase } from '../../support/test-database.js';
import { centsIn, FixedClock, testEngineSettings, testSyncSettings } from '../../support/world.js';

const console = { channel: 'console' as const };
const logger = { error: () => undefined, warn: () => undefined };
const EC2 = 'Amazon Elastic Compute Cloud - Compute';
const PAY_DAYS = 'Tue 17 Nov 2026 – Thu 19 Nov 2026 (3 days)';
type Table = Extract<ReplyBlock, { type: 'table' }>;

function tableOf(reply: Reply): Table {
  const found = reply.blocks.find((block): block is Table => block.type === 'table');
  if (!found) throw new Error(`no table in\n${renderText(reply)}`);
  return found;
}
const footerOf = (reply: Reply) => reply.blocks.flatMap((block) => (block.type === 'context' ? [block.text] : [])).join('\n');
const digestSection = (reply: Reply) => reply.blocks.flatMap((block) => (block.type === 'text' && block.text.startsWith('*Open anomalies*') ? [block.text] : []))[0];

/** An anomaly as a scan would write it: impact = actual − expected; each dimension's drivers add up to it. */
function detected(key: string, fields: Pick<DetectedAnomaly, 'scope' | 'team' | 'firstDay' | 'lastDay' | 'severity'> & { expected: string; actual: string; active?: boolean; byUsage?: [string, string][] }): DetectedAnomaly {
  const expected = parseAmount(fields.expected);
  const actual = parseAmount(fields.actual);
  const impact = actual - expected;
  const service = 'value' in fields.scope ? fields.scope.value : EC2;
  const usage = (fields.byUsage ?? []).map(([usageType, amount]): AnomalyDriver => ({ dimension: 'usage-type', key: usageType, impact: parseAmount(amount) }));
  const otherUsage = impact - sumAmounts(usage.map((driver) => driver.impact));
  const drivers: AnomalyDriver[] = [
    ...(fields.team === undefined ? [] : [{ dimension: 'team' as const, key: fields.team, impact }]),
    { dimension: 'service', key: service, impact },
    ...usage,
    ...(usage.length > 0 && otherUsage !== 0n ? [{ dimension: 'usage-type' as const, key: '*', impact: otherUsage }] : []),
  ];
  const { scope, team, firstDay, lastDay, severity } = fields;
  return { key, scope, team, firstDay, lastDay, severity, active: fields.active ?? false, expected, actual, impact, score: 7.4, currency: 'USD', drivers, source: 'finops', awsAnomalyId: undefined };
}

const SAVED: DetectedAnomaly[] = [
  detected('finops/payments/ec2/2026-11-17', {
    scope: { kind: 'team-service', team: 'payments', value: EC2 }, team: 'payments', firstDay: '2026-11-17', lastDay: '2026-11-19', severity: 'high',
    expected: '3012.4400000000', actual: '4862.6951234567', byUsage: [['USE1-BoxUsage:c6i.2xlarge', '1500.1000000000'], ['USE1-SpotUsage:m5.2xlarge', '200.0000000000']],
  }),
  detected('finops/search/opensearch/2026-11-21', {
    scope: { kind: 'team-service', team: 'search', value: 'Amazon OpenSearch Service' }, team: 'search', firstDay: '2026-11-21', lastDay: '2026-11-22', severity: 'medium',
    expected: '820.0000000000', actual: '1460.4049999999', active: true,
  }),
  detected('finops/untagged/s3/2026-11-10', {
    scope: { kind: 'team-service', team: '', value: 'Amazon Simple Storage Service' }, team: '', firstDay: '2026-11-10', lastDay: '2026-11-10', severity: 'low',
    expected: '301.1000000000', actual: '513.4450000001',
  }),
  // Starts before the 30 days and ends inside them: it overlaps, so it is listed.
  detected('finops/checkout/rds/2026-10-20', {
    scope: { kind: 'team-service', team: 'checkout', value: 'Amazon Relational Database Service' }, team: 'checkout', firstDay: '2026-10-20', lastDay: '2026-10-25', severity: 'low',
    expected: '1200.0000000000', actual: '1295.5000000000',
  }),
  detected('finops/data-platform/2026-11-16', { scope: { kind: 'team', team: 'data-platform' }, team: 'data-platform', firstDay: '2026-11-16', lastDay: '2026-11-16', severity: 'low', expected: '640.0000000000', actual: '760.0000000000' }),
  detected('finops/*/lambda/2026-11-18', { scope: { kind: 'service', value: 'AWS Lambda' }, team: undefined, firstDay: '2026-11-18', lastDay: '2026-11-18', severity: 'low', expected: '90.0000000000', actual: '177.2500000000' }),
  // Outside the last 30 days.
  detected('finops/search/opensearch/2026-10-01', {
    scope: { kind: 'team-service', team: 'search', value: 'Amazon OpenSearch Service' }, team: 'search', firstDay: '2026-10-01', lastDay: '2026-10-02', severity: 'high',
    expected: '800.0000000000', actual: '3800.0000000000',
  }),
];
const IN_30_DAYS = SAVED.filter((anomaly) => anomaly.lastDay >= '2026-10-24');

describe(`the anomalies command on ${testDatabaseKind}`, () => {
  let test: TestDatabase;
  let store: PgCostStore;
  let anomalies: PgAnomalyStore;
  let engine: CommandEngine;
  let records: AnomalyRecord[];
  // Monday 23 November 2026, 08:00 UTC: data is through Sunday the 22nd.
  const clock = new FixedClock(new Date('2026-11-23T08:00:00Z'));
  const deps = (): HandlerDeps => ({ store, anomalies, clock, settings: testEngineSettings() });
  const idOf = (key: string) => records.find((record) => record.key === key)!.id;
  const setStatus = (key: string, status: AnomalyStatus) => anomalies.setStatus(idOf(key), { status, by: 'U0ALICE01', at: clock.now() });
  const rowOf = (reply: Reply, what: string) => tableOf(reply).rows.find((row) => row[1] === what);

  beforeAll(async () => {
    test = await openTestDatabase();
    store = new PgCostStore(test.database.db);
    anomalies = new PgAnomalyStore(test.database.db);
    expect((await syncCosts({ source: new DemoCostSource(), store, clock }, { ...testSyncSettings(120), readyAfterHourUtc: 0 })).errors).toEqual([]);
    records = await anomalies.saveDetected(SAVED, new Date('2026-11-23T07:00:00Z'));
    engine = new CommandEngine(deps(), logger);
  }, 120_000);
  afterAll(async () => test?.dispose());

  it('lists the last 30 days’ anomalies biggest first, each with days, scope, excess, severity, status and main driver, totalled exactly', async () => {
    await setStatus(SAVED[0]!.key, 'open');
    const reply = await engine.handle('anomalies 30d', console);
    expect(reply.title).toBe('Anomalies · last 30 days');
    const table = tableOf(reply);
    const byImpact = [...IN_30_DAYS].sort((a, b) => (b.impact > a.impact ? 1 : -1));
    expect(table.rows.map((row) => centsIn(row[2]!))).toEqual(byImpact.map((anomaly) => toCents(anomaly.impact)));
    expect(table.rows[0]).toEqual([PAY_DAYS, `payments · ${EC2}`, 'USD 1,850.26', 'high', 'Open', 'Usage type: USE1-BoxUsage:c6i.2xlarge']);
    expect(rowOf(reply, 'search · Amazon OpenSearch Service')).toEqual(['Sat 21 Nov 2026 – Sun 22 Nov 2026 (2 days)', 'search · Amazon OpenSearch Service', 'USD 640.40', 'medium', 'Open, ongoing', 'Service: Amazon OpenSearch Service']);
    expect(rowOf(reply, '(untagged) · Amazon Simple Storage Service')?.slice(0, 3)).toEqual(['Tue 10 Nov 2026', '(untagged) · Amazon Simple Storage Service', 'USD 212.35']);
    expect(rowOf(reply, 'AWS Lambda (all teams)')).toBeDefined();
    expect(rowOf(reply, 'checkout · Amazon Relational Database Service')?.[0]).toBe('Tue 20 Oct 2026 – Sun 25 Oct 2026 (6 days)');
    expect(renderText(reply)).not.toContain('Oct 2026 (2 days)');
    expect(table.footer!.slice(0, 3)).toEqual(['Total', `${IN_30_DAYS.length} anomalies`, `USD ${formatted(sumAmounts(IN_30_DAYS.map((a) => a.impact)))}`]);
    expect(footerOf(reply)).toContain('last 30 days (2026-10-24 – 2026-11-22) · unblended cost in USD · data through 2026-11-22');
  });

  it('lists one team’s anomalies with `for TEAM`, the untagged ones with `for untagged`, and suggests the closest team for a typo', async () => {
    const payments = await engine.handle('anomalies 30d for payments', console);
    expect(payments.title).toBe('Anomalies for payments · last 30 days');
    expect(tableOf(payments).rows.map((row) => row[1])).toEqual([`payments · ${EC2}`]);
    const untagged = await engine.handle('anomalies 30d for untagged', console);
    expect(tableOf(untagged).rows.map((row) => row[1])).toEqual(['(untagged) · Amazon Simple Storage Service']);
    const typo = await engine.handle('anomalies 30d for paymnts', console);
    expect(typo.kind).toBe('error');
    expect(renderText(typo)).toContain("I don't know the team `paymnts`; did you mean `payments`?");
  });

  it('says in a sentence, without a table, when a period had none', async () => {
    const reply = await engine.handle('anomalies 2026-08', console);
    expect(reply.kind).toBe('answer');
    expect(reply.blocks.some((block) => block.type === 'table')).toBe(false);
    expect(renderText(reply)).toContain('No anomalies over August 2026: nothing rose above its usual level by the minimum impact.');
    expect(footerOf(reply)).toContain('2026-08-01 – 2026-08-31');
  });

  it('counts the last 30 days’ anomalies in `status`, and those still open or acknowledged', async () => {
    const today = '2026-11-23';
    const inWindow = SAVED.filter((anomaly) => anomaly.lastDay >= '2026-10-24' && anomaly.firstDay <= today);
    await setStatus(SAVED[0]!.key, 'dismissed');
    const text = renderText(await engine.handle('status', console));
    expect(text).toMatch(new RegExp(`Anomalies \\(last 30 days\\)\\s+${inWindow.length} found, ${inWindow.length - 1} open or acknowledged`));
    await setStatus(SAVED[0]!.key, 'open');
  });

  it('shows the status people set: Acknowledged, then Not an anomaly', async () => {
    await setStatus(SAVED[0]!.key, 'acknowledged');
    expect(rowOf(await engine.handle('anomalies 30d for payments', console), `payments · ${EC2}`)?.[4]).toBe('Acknowledged');
    await setStatus(SAVED[0]!.key, 'dismissed');
    expect(rowOf(await engine.handle('anomalies 30d for payments', console), `payments · ${EC2}`)?.[4]).toBe('Not an anomaly');
    await setStatus(SAVED[0]!.key, 'open');
  });

  it('shows a channel confined to payments only payments’ anomalies, and refuses another team naming only payments', async () => {
    const confined = new CommandEngine({ ...deps(), settings: { ...testEngineSettings(), channelTeams: new Map([['C0PAY', ['payments']], ['*', []]]) } }, logger);
    const inPay = { channel: 'slack' as const, userId: 'U0ALICE01', conversationId: 'C0PAY' };
    const reply = await confined.handle('anomalies 30d', inPay);
    expect(tableOf(reply).rows.map((row) => row[1])).toEqual([`payments · ${EC2}`]);
    for (const other of ['search', 'checkout', 'data-platform', 'untagged', 'Lambda']) expect(renderText(reply)).not.toContain(other);
    const refused = renderText(await confined.handle('anomalies 30d for search', inPay));
    expect(refused).toContain('This conversation can see `payments` only.');
    expect(refused).not.toMatch(/search|checkout/);
    expect(renderText(await confined.handle('anomalies 30d', { channel: 'slack', conversationId: 'C0ELSE' }))).toContain('cannot see any team’s spend');
  });

  it('offers `anomalies` in help only when there is an anomaly store, and answers a sentence without one', async () => {
    expect(renderText(await engine.handle('help', console))).toContain('anomalies [PERIOD] [for TEAM]');
    const bare = new CommandEngine({ store, clock, settings: testEngineSettings() }, logger);
    expect(renderText(await bare.handle('help', console))).not.toContain('anomalies');
    const reply = await bare.handle('anomalies 30d', console);
    expect(reply.kind).toBe('error');
    expect(renderText(reply)).toMatch(/don't know|did you mean|not a command/i);
    expect(renderText(reply)).not.toMatch(/went wrong|\n\s+at /);
  });

  it('puts open anomalies in the team digest, drops dismissed ones, and shows the organisation three with a count of the rest', async () => {
    await setStatus(SAVED[0]!.key, 'open');
    const daily = await buildDigest(deps(), { cadence: 'daily', team: 'payments', through: '2026-11-18' });
    expect(digestSection(daily.reply)).toBe(
      `*Open anomalies* (1, acknowledged ones included)\n• ${PAY_DAYS} · payments · ${EC2}: *USD 1,850.26* above expected, mostly USE1-BoxUsage:c6i.2xlarge (high, open)`,
    );
    await setStatus(SAVED[0]!.key, 'dismissed');
    expect(digestSection((await buildDigest(deps(), { cadence: 'daily', team: 'payments', through: '2026-11-18' })).reply)).toBeUndefined();
    await setStatus(SAVED[0]!.key, 'open');
    // The week of 16–22 Nov: payments, search, data-platform and Lambda touch it; the rest ended earlier.
    const lines = digestSection((await buildDigest(deps(), { cadence: 'weekly', through: '2026-11-22' })).reply)!.split('\n');
    expect(lines[0]).toBe('*Open anomalies* (4, acknowledged ones included) — 1 more in `anomalies`');
    expect(lines.slice(1).map((line) => line.split(': ')[0]!.split(' · ').slice(1).join(' · '))).toEqual([`payments · ${EC2}`, 'search · Amazon OpenSearch Service', 'data-platform · all services']);
  });

  it('explains payments’ last 30 days with an Anomalies paragraph, and the AI tool lists it but refuses a team the conversation may not see', async () => {
    await setStatus(SAVED[0]!.key, 'open');
    const explained = renderText(await engine.handle('explain 30d for payments', console));
    expect(explained).toContain(`Anomalies. 1 found on these days:\n• ${PAY_DAYS} · payments · ${EC2}: USD 1,850.26 above expected, mostly USE1-BoxUsage:c6i.2xlarge (high, open)\n`);
    const tool = await runTool(deps(), { kind: 'teams', teams: ['payments'] }, 'anomalies', { period: '30d' });
    expect(tool.isError).toBe(false);
    expect(tool.output.text).toContain(`payments · ${EC2}`);
    expect(tool.output.text).toContain('USD 1,850.26');
    const refused = await runTool(deps(), { kind: 'teams', teams: ['payments'] }, 'anomalies', { period: '30d', team: 'search' });
    expect(refused).toEqual({ isError: true, output: { text: 'This conversation can see `payments` only.', basis: undefined } });
  });

  it('rounds each impact to the cent, and its total row agrees with the rows a reader adds up', async () => {
    // Each rounds down by almost half a cent: three rows of .x0, but exact sum .x2 → the rounding differs.
    const precise = [
      detected('finops/payments/ec2/2026-09-08', { scope: { kind: 'team-service', team: 'payments', value: EC2 }, team: 'payments', firstDay: '2026-09-08', lastDay: '2026-09-08', severity: 'medium', expected: '1000.0000000001', actual: '1234.5678901234' }),
      detected('finops/search/ec2/2026-09-09', { scope: { kind: 'team-service', team: 'search', value: EC2 }, team: 'search', firstDay: '2026-09-09', lastDay: '2026-09-09', severity: 'low', expected: '400.0000000000', actual: '500.0040000000' }),
      detected('finops/checkout/ec2/2026-09-10', { scope: { kind: 'team-service', team: 'checkout', value: EC2 }, team: 'checkout', firstDay: '2026-09-10', lastDay: '2026-09-10', severity: 'low', expected: '50.0000000000', actual: '100.0040000000' }),
    ];
    await anomalies.saveDetected(precise, clock.now());
    const reply = await engine.handle('anomalies 2026-09', console);
    const rows = tableOf(reply).rows.map((row) => row[2]);
    // The total is the exact sum (384.5758901233) rounded once: USD 384.58 …
    const total = centsIn(tableOf(reply).footer![2]!);
    expect(total).toBe(toCents(sumAmounts(precise.map((anomaly) => anomaly.impact))));
    expect(total).toBe(38458n);
    // … and the rows are rounded together (largest remainder), so a reader adding them gets
    // the total printed: the row nearest to rounding up (100.004 over 50.004) takes the cent.
    expect(rows).toEqual(['USD 234.57', 'USD 100.01', 'USD 50.00']);
    expect(rows.reduce((sum, cell) => sum + centsIn(cell!), 0n), renderText(reply)).toBe(total);
  });
});

/** "1,234.56" for an exact amount. */
function formatted(amount: Amount): string {
  const cents = toCents(amount);
  return `${(cents / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${(cents % 100n).toString().padStart(2, '0')}`;
}
