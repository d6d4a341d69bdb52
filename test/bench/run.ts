/**
 * `npm run bench`: the figures behind PRODUCT.md's targets for this part of the bot.
 *
 * 1. Latency of `cost 30d by service` answered from the store (p50/p95/p99), on PGlite and,
 *    when DATABASE_URL is set, on PostgreSQL.
 * 2. Cost Explorer requests in one simulated day: hourly sync checks plus 500 interactive
 *    queries, against a local server speaking the Cost Explorer protocol (real AWS SDK).
 * 3. Peak resident memory of the bot itself: a `finops-bot chat` child process doing the
 *    400-day backfill from that server and then answering 500 queries.
 * 4. Slack ack latency: bursts of 50 simultaneous signed `/finops` commands at the real
 *    server and, in the same run, at a bare Bolt app whose handler only acks (p50/p99 of
 *    both, their p99 ratio, and how long the answers took to reach `response_url`); on
 *    PGlite and, when DATABASE_URL is set, on PostgreSQL. See ./slack-ack.ts.
 * 5. Digests: time and peak memory to build 1,000 digests from the store, 100 charts drawn,
 *    Cost Explorer requests for a day of 50 team digests (expected: none added), and the RSS
 *    of a `finops-bot serve` child process posting 50 digests with charts into a fake Slack;
 *    on PGlite and, when DATABASE_URL is set, on PostgreSQL. See ./digests.ts.
 * 6. AI answers: input tokens per answer for a fixed question set (median, max), the bot
 *    (real engine and Bedrock client, scripted fake Bedrock) against a naive prompt that
 *    pastes the period's cost table. See ./ai-tokens.ts.
 * 7. Anomalies: precision, recall and F1 of the anomaly detector on the demo organisation's
 *    injected anomalies and on NAB's AWS CloudWatch series, beside a rolling 7-day mean + 2σ
 *    baseline on the same data; and the time to scan 10,000 daily series × 400 days on one
 *    core. See ./anomaly-quality.ts and ./anomaly-speed.ts.
 * 8. Rightsizing: time to sync 5,000 recommendations (new, unchanged, 10% changed and 5% gone),
 *    p50/p95/p99 of 1,000 sequential approvals, and 1,200 simultaneous clicks on 200
 *    recommendations (repeats and a second approver) ending in exactly one decision each; on
 *    PGlite and, when DATABASE_URL is set, on PostgreSQL. See ./rightsizing.ts.
 *
 * `BENCH=name[,name…]` runs only those sections: queries (1 and 2, and the large organisation
 * on PostgreSQL), memory (3), slack-ack (4), digests (5), ai-tokens (6), anomalies (7),
 * rightsizing (8); unset, all of them.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { DemoCostSource } from '../../src/adapters/demo/demo-cost-source.js';
import { PgCostStore } from '../../src/adapters/db/cost-store.js';
import { type Database, openDatabase } from '../../src/adapters/db/database.js';
import { syncCosts } from '../../src/app/sync-costs.js';
import { renderText } from '../../src/render/text.js';
import { startFakeCostExplorer } from '../support/fake-cost-explorer.js';
import { createScratchDatabase } from '../support/test-database.js';
import { engineFor, FixedClock, startFakeAws, testSyncSettings } from '../support/world.js';
import { benchAiTokens } from './ai-tokens.js';
import { benchAnomalyQuality } from './anomaly-quality.js';
import { benchAnomalySpeed } from './anomaly-speed.js';
import { benchDigests } from './digests.js';
import { benchRightsizing } from './rightsizing.js';
import { benchSlackAck } from './slack-ack.js';

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

const QUERY_RUNS = 300;
const WARMUP_RUNS = 20;
const INTERACTIVE_QUERIES = 500;
const BACKFILL_DAYS = 400;

const QUERY_MIX = [
  'cost 30d by service',
  'cost 7d by team',
  'cost mtd by account for payments',
  'top 7d',
  'top 30d for search',
  'forecast',
  'forecast for checkout',
  'tags',
  'cost last-month by usage-type',
  'cost 90d by region',
];

/** Sections `BENCH` may name. */
const SECTIONS = ['queries', 'memory', 'slack-ack', 'digests', 'ai-tokens', 'anomalies', 'rightsizing'] as const;

/** The sections to run: those `BENCH` names (comma-separated), or all of them. */
function selectedSections(): ReadonlySet<string> {
  const named = (process.env.BENCH ?? '').split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = named.filter((name) => !(SECTIONS as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`BENCH names unknown sections (${unknown.join(', ')}); they are: ${SECTIONS.join(', ')}`);
  return new Set(named.length > 0 ? named : SECTIONS);
}

async function main(): Promise<void> {
  const run = selectedSections();
  console.log(`finops-bot benchmark · node ${process.version} · ${new Date().toISOString()}${process.env.BENCH ? ` · BENCH=${[...run].join(',')}` : ''}`);
  if (run.has('queries')) await benchQueries();
  if (run.has('memory')) await benchAllMemory();
  if (run.has('slack-ack')) await benchAllSlackAck();
  if (run.has('digests')) await benchAllDigests();
  if (run.has('ai-tokens')) await benchAiTokens();
  if (run.has('anomalies')) {
    await benchAnomalyQuality();
    await benchAnomalySpeed();
  }
  if (run.has('rightsizing')) await benchAllRightsizing();
}

async function benchQueries(): Promise<void> {
  await benchTarget('PGlite (embedded)', { kind: 'pglite', dataDir: undefined });
  if (process.env.DATABASE_URL) {
    const { url, drop } = await createScratchDatabase(process.env.DATABASE_URL, 'finops_bench');
    try {
      await benchTarget('PostgreSQL', { kind: 'postgres', url });
    } finally {
      await drop();
    }
  } else {
    console.log('\nPostgreSQL: skipped (set DATABASE_URL to measure it too)');
  }
  if (process.env.DATABASE_URL) {
    const { url, drop } = await createScratchDatabase(process.env.DATABASE_URL, 'finops_bench');
    try {
      await benchLargeOrganisation(url);
    } finally {
      await drop();
    }
  }
}

async function benchAllMemory(): Promise<void> {
  await benchMemory('PGlite (embedded)', {});
  if (process.env.DATABASE_URL) {
    const { url, drop } = await createScratchDatabase(process.env.DATABASE_URL, 'finops_bench');
    try {
      await benchMemory('PostgreSQL', { DATABASE_URL: url });
    } finally {
      await drop();
    }
  }
}

async function benchAllSlackAck(): Promise<void> {
  await benchSlackAck();
  if (process.env.DATABASE_URL) {
    const { url, drop } = await createScratchDatabase(process.env.DATABASE_URL, 'finops_bench');
    try {
      await benchSlackAck({ databaseUrl: url });
    } finally {
      await drop();
    }
  }
}

async function benchAllDigests(): Promise<void> {
  await benchDigests();
  if (process.env.DATABASE_URL) {
    const { url, drop } = await createScratchDatabase(process.env.DATABASE_URL, 'finops_bench');
    try {
      await benchDigests({ databaseUrl: url });
    } finally {
      await drop();
    }
  }
}

async function benchAllRightsizing(): Promise<void> {
  await benchRightsizing();
  if (process.env.DATABASE_URL) {
    const { url, drop } = await createScratchDatabase(process.env.DATABASE_URL, 'finops_bench');
    try {
      await benchRightsizing({ databaseUrl: url });
    } finally {
      await drop();
    }
  }
}

/**
 * Runs the real bot (`finops-bot chat`) against the fake Cost Explorer and samples its
 * resident memory: first on an empty database (a 400-day backfill, then 500 queries), then
 * again on the same database (500 queries, the steady state of a running bot).
 */
async function benchMemory(name: string, env: Record<string, string>): Promise<void> {
  if (!existsSync('/proc/self/status')) {
    console.log(`\nmemory (${name}): skipped, /proc is not available on this system`);
    return;
  }
  const fake = await startFakeCostExplorer({ source: new DemoCostSource(), pageSize: 5_000 });
  const dataDir = mkdtempSync(join(tmpdir(), 'finops-bench-'));
  try {
    const childEnv = {
      PATH: process.env.PATH ?? '',
      FINOPS_DATA_DIR: dataDir,
      FINOPS_COST_SOURCE: 'aws',
      FINOPS_TAG_KEYS: 'Environment',
      AWS_ENDPOINT_URL_COST_EXPLORER: fake.url,
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'not-a-secret',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      LOG_LEVEL: 'warn',
      ...env,
    };
    console.log('');
    const first = await measureChat(childEnv);
    console.log(`memory (${name}), empty database: peak rss ${first.peakMb} MB (${name.startsWith('PGlite') ? 'includes PGlite\'s one-time initdb, ' : ''}${BACKFILL_DAYS}-day backfill, ${first.answers} answers, ${first.seconds} s)`);
    const second = await measureChat(childEnv);
    console.log(`memory (${name}), synced database: peak rss ${second.peakMb} MB (${second.answers} answers, ${second.seconds} s; target: rss < 256 MB)`);
  } finally {
    await fake.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function measureChat(env: NodeJS.ProcessEnv): Promise<{ peakMb: string; answers: number; seconds: string }> {
  const queries = Array.from({ length: INTERACTIVE_QUERIES }, (_, i) => QUERY_MIX[i % QUERY_MIX.length]).join('\n');
  const child = spawn(process.execPath, [CLI, 'chat'], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  let peakKb = 0;
  let answers = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    answers += chunk.toString().split('\n\n').length - 1;
  });
  const sampler = setInterval(() => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      peakKb = Math.max(peakKb, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
    } catch {
      // the process has exited
    }
  }, 50);
  const started = performance.now();
  child.stdin.end(`${queries}\n`);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(sampler);
  if (code !== 0) throw new Error(`finops-bot chat exited with ${code}`);
  return { peakMb: (peakKb / 1024).toFixed(0), answers, seconds: seconds(performance.now() - started) };
}

/**
 * Query latency for a large payer: 50 teams × 150 services × 400 days (3 million facts in
 * the service facet), written straight into PostgreSQL, the production database.
 */
async function benchLargeOrganisation(url: string): Promise<void> {
  const teams = 50;
  const services = 150;
  const days = 400;
  console.log(`\n== PostgreSQL, large organisation (${teams} teams × ${services} services × ${days} days)`);
  const database = await openDatabase({ kind: 'postgres', url });
  try {
    await database.migrate();
    const clock = new FixedClock(new Date('2026-11-22T12:00:00Z'));
    const started = performance.now();
    // In 40-day chunks: each statement stays well inside the pool's statement timeout.
    for (let offset = days; offset > 0; offset -= 40) {
      await database.db.execute(sql`
        insert into cost_facts (facet, usage_date, team, value, currency, unblended_cost, amortized_cost, net_unblended_cost)
        select 'service', day::date, 'team-' || t, 'Service ' || s, 'USD', amount, amount * 0.95, amount * 0.97
        from generate_series(date '2026-11-22' - ${offset}::int, date '2026-11-22' - ${Math.max(1, offset - 39)}::int, interval '1 day') as day,
             generate_series(1, ${teams}) as t,
             generate_series(1, ${services}) as s,
             lateral (select round((random() * 40)::numeric, 10) as amount) as a`);
    }
    for (const grouping of ['value', 'team']) {
      await database.db.execute(sql`
        insert into cost_rollups (facet, grouping, usage_date, key, currency, unblended_cost, amortized_cost, net_unblended_cost)
        select facet, ${grouping}, usage_date, ${sql.raw(grouping)}, min(currency), sum(unblended_cost), sum(amortized_cost), sum(net_unblended_cost)
        from cost_facts group by facet, usage_date, ${sql.raw(grouping)}`);
    }
    await database.db.execute(sql`analyze cost_facts`);
    await database.db.execute(sql`analyze cost_rollups`);
    for (const facet of testSyncSettings().facets) {
      await database.db.execute(sql`
        insert into sync_state (facet, synced_until, synced_from, last_success_at, last_attempt_at)
        values (${facet}, '2026-11-22', ${`2026-11-22`}::date - ${days}::int, now(), now())`);
    }
    console.log(`loaded ${(teams * services * days).toLocaleString('en')} facts in ${seconds(performance.now() - started)} s`);
    const engine = engineFor(new PgCostStore(database.db), clock, 'aws');
    for (const command of ['cost 30d by service', 'cost 30d by team', 'cost 90d by service for team-7', 'top 30d', 'forecast']) {
      for (let i = 0; i < 5; i++) await engine.handle(command, { channel: 'console' });
      const timings: number[] = [];
      for (let i = 0; i < 50; i++) {
        const begun = performance.now();
        const reply = await engine.handle(command, { channel: 'console' });
        timings.push(performance.now() - begun);
        if (reply.kind !== 'answer') throw new Error(`unexpected reply: ${renderText(reply)}`);
      }
      console.log(`${command.padEnd(32)} ${percentiles(timings)}`);
    }
  } finally {
    await database.close();
  }
}

async function benchTarget(name: string, target: Parameters<typeof openDatabase>[0]): Promise<void> {
  console.log(`\n== ${name}`);
  const database: Database = await openDatabase(target);
  await database.migrate();
  const store = new PgCostStore(database.db);
  const clock = new FixedClock(new Date('2026-11-22T06:17:00Z'));
  const { fake, source } = await startFakeAws(store, clock, 5_000);
  try {
    const settings = testSyncSettings(BACKFILL_DAYS);
    let started = performance.now();
    const backfill = await syncCosts({ source, store, clock }, settings);
    const backfillFacts = backfill.synced.reduce((sum, entry) => sum + entry.facts, 0);
    console.log(
      `first sync (${BACKFILL_DAYS} days, ${settings.facets.length} facets): ${fake.requests.GetCostAndUsage} GetCostAndUsage + ` +
        `${fake.requests.GetDimensionValues + fake.requests.GetCostForecast} other Cost Explorer requests ` +
        `(5,000 groups a page), ${backfillFacts.toLocaleString('en')} facts, ${seconds(performance.now() - started)} s`,
    );

    const engine = engineFor(store, clock, 'aws');
    for (let i = 0; i < WARMUP_RUNS; i++) await engine.handle('cost 30d by service', { channel: 'console' });
    const timings: number[] = [];
    for (let i = 0; i < QUERY_RUNS; i++) {
      started = performance.now();
      const reply = await engine.handle('cost 30d by service', { channel: 'console' });
      renderText(reply);
      timings.push(performance.now() - started);
      if (reply.kind !== 'answer') throw new Error(`unexpected reply: ${renderText(reply)}`);
    }
    console.log(`cost 30d by service, answered from the store (${QUERY_RUNS} runs): ${percentiles(timings)} (target: p95 < 200 ms)`);

    // One simulated day: the sync check runs every hour, people ask 500 questions.
    const paid = () => fake.requests.GetCostAndUsage + fake.requests.GetCostForecast + fake.requests.GetDimensionValues + fake.requests.GetAnomalies;
    const before = paid();
    const mixTimings: number[] = [];
    for (let hour = 0; hour < 24; hour++) {
      clock.set(`2026-11-23T${String(hour).padStart(2, '0')}:17:00Z`);
      await syncCosts({ source, store, clock }, settings);
      const queriesThisHour = Math.round(((hour + 1) * INTERACTIVE_QUERIES) / 24) - Math.round((hour * INTERACTIVE_QUERIES) / 24);
      for (let i = 0; i < queriesThisHour; i++) {
        started = performance.now();
        const reply = await engine.handle(QUERY_MIX[(hour * 31 + i) % QUERY_MIX.length]!, { channel: 'console' });
        mixTimings.push(performance.now() - started);
        if (reply.kind !== 'answer') throw new Error(`unexpected reply: ${renderText(reply)}`);
      }
    }
    const daily = paid() - before;
    console.log(`one simulated day (24 hourly sync checks + ${mixTimings.length} mixed queries): ${daily} Cost Explorer requests, USD ${(daily / 100).toFixed(2)} (target: ≤ 10)`);
    console.log(`mixed queries (${QUERY_MIX.length} kinds): ${percentiles(mixTimings)}`);
  } finally {
    await fake.close();
    await database.close();
  }
}

function percentiles(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return `p50 ${at(50).toFixed(1)} ms, p95 ${at(95).toFixed(1)} ms, p99 ${at(99).toFixed(1)} ms`;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
