/**
 * Digests (the issue: "time and peak memory to build 1,000 digests; CE requests for a day of
 * 50 team digests"; PRODUCT.md: "RSS < 256 MB under load (fits a 0.5 vCPU / 1 GB Fargate
 * task)").
 *
 * 1. Building 1,000 digests from the store, in this process, without charts: the demo
 *    organisation synced into the database (120 days to 2026-11-22 with a fixed clock), then
 *    daily and weekly digests for the organisation, each team and the untagged spend in turn.
 *    Total time, digests per second, p50/p95 per digest, and this process's peak RSS.
 * 2. Charts: 100 charts of those digests drawn with the bot's VegaChartRenderer in this
 *    process (time of the first chart, p50/p95, peak RSS and RSS after a collection).
 * 3. Cost Explorer requests for a day of 50 team digests, on the `aws` source path: the real
 *    CostExplorerSource against the local Cost Explorer server and its paid-request ledger. A
 *    backfill the day before, then on the day the hourly sync checks and, at 09:00, 50 daily
 *    team digests; the requests the digests added are read from the ledger before and after.
 * 4. The bot posting digests, as a separate process: `finops-bot serve` (the built CLI) with 50
 *    daily subscriptions on a five-second schedule, posting into a fake Slack in this process.
 *    Its RSS is read from /proc every 100 ms until all 50 digests (message and chart) arrived.
 *
 * The bot's data is in PGlite (temporary directories) or, with `databaseUrl`, in PostgreSQL:
 * that database (empty) for section 1, and databases created next to it for sections 3 and 4.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VegaChartRenderer } from '../../src/adapters/chart/vega-chart-renderer.js';
import { PgCostStore } from '../../src/adapters/db/cost-store.js';
import { type DatabaseTarget, openDatabase } from '../../src/adapters/db/database.js';
import { DEMO_TEAMS } from '../../src/adapters/demo/demo-catalogue.js';
import { DemoCostSource } from '../../src/adapters/demo/demo-cost-source.js';
import { buildDigest, type Digest } from '../../src/app/digest.js';
import type { HandlerDeps } from '../../src/app/report-context.js';
import { syncCosts } from '../../src/app/sync-costs.js';
import type { DailyStackChart } from '../../src/core/chart.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createFinOpsApp } from '../../src/main.js';
import type { Cadence } from '../../src/ports.js';
import { renderText } from '../../src/render/text.js';
import { type FakeSlack, startFakeSlack } from '../support/fake-slack.js';
import { freePort } from '../support/processes.js';
import { createScratchDatabase } from '../support/test-database.js';
import { slackTestEnv } from '../support/slack-requests.js';
import { FixedClock, startFakeAws, testEngineSettings, testSyncSettings } from '../support/world.js';

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

const DIGESTS = 1_000;
const CHARTS = 100;
const BACKFILL_DAYS = 120;
const TEAM_DIGESTS = 50;
const SUBSCRIPTIONS = 50;
/** Every five seconds: the child plans and posts within seconds of starting. */
const DAILY_CRON = '*/5 * * * * *';
/** How often this process samples its own RSS. */
const SELF_SAMPLE_MS = 20;
/** How often the child's /proc status is read. */
const CHILD_SAMPLE_MS = 100;
/** How long the child may take to post every digest before the benchmark gives up. */
const POST_TIMEOUT_MS = 5 * 60_000;
/** How long the child may take to stop after SIGTERM before it is killed. */
const STOP_TIMEOUT_MS = 15_000;
/** After everything arrived: wait past another scheduled tick, so a duplicate would show. */
const SETTLE_MS = 6_000;
const TARGET_RSS_MB = 256;
/** Chart counts at which the child's RSS is noted. */
const CHART_MILESTONES = [1, 5, 10, 20, 30, 40, 50] as const;

/** Named teams of the demo organisation (without the untagged spend). */
const TEAMS = DEMO_TEAMS.map((team) => team.name).filter((name) => name !== '');
/** Who a digest is for: the whole organisation (undefined), each team, the untagged spend (''). */
const AUDIENCES: readonly (string | undefined)[] = [undefined, ...TEAMS, ''];
const CADENCES: readonly Cadence[] = ['daily', 'weekly'];

/** Whether Vega and resvg were loaded in this process already (a second run's first chart is warm). */
let chartEngineLoaded = false;

/**
 * Prints the four sections. The bot keeps its data in PGlite in temporary directories, or in
 * PostgreSQL: the database at `databaseUrl` (which should be empty) and scratch databases
 * created next to it and dropped afterwards.
 */
export async function benchDigests(options: { databaseUrl?: string } = {}): Promise<void> {
  const name = options.databaseUrl ? 'PostgreSQL' : 'PGlite (embedded)';
  console.log(`\n== Digests, ${name}`);
  const charts = await benchBuild(options);
  await benchCharts(charts);
  await benchCostExplorer(options);
  await benchPosting(options);
}

// ---- 1. building digests ----

async function benchBuild(options: { databaseUrl?: string }): Promise<DailyStackChart[]> {
  const scratch = await scratchTarget(options, false);
  const clock = new FixedClock(new Date('2026-11-22T12:00:00Z'));
  let database = await openDatabase(scratch.target);
  try {
    await database.migrate();
    const settings = testSyncSettings(BACKFILL_DAYS);
    let started = performance.now();
    const sync = await syncCosts({ source: new DemoCostSource(), store: new PgCostStore(database.db), clock }, settings);
    if (sync.errors.length > 0) throw new Error(`the demo sync failed: ${sync.errors.map((error) => error.message).join('; ')}`);
    const facts = sync.synced.reduce((sum, entry) => sum + entry.facts, 0);
    console.log(`demo organisation synced (${BACKFILL_DAYS} days to 2026-11-22, ${settings.facets.length} facets): ${facts.toLocaleString('en')} facts, ${seconds(performance.now() - started)} s`);
    // Opened again, as a bot opens its database: a new PGlite's initdb alone takes hundreds of
    // megabytes of this process's memory, which would hide what building digests takes.
    await database.close();
    database = await openDatabase(scratch.target);
    const store = new PgCostStore(database.db);

    const deps: HandlerDeps = { store, clock, settings: testEngineSettings('demo') };
    const kinds = CADENCES.flatMap((cadence) => AUDIENCES.map((team) => ({ cadence, team })));
    const build = async (index: number): Promise<Digest> => {
      const digest = await buildDigest(deps, { ...kinds[index % kinds.length]!, through: '2026-11-21' });
      if (digest.reply.kind !== 'answer') throw new Error(`unexpected digest: ${renderText(digest.reply)}`);
      return digest;
    };
    // One of each kind first: the queries' plans and the modules are warm, as in a running bot.
    for (let index = 0; index < kinds.length; index++) await build(index);

    const charts: DailyStackChart[] = [];
    const timings: number[] = [];
    const memory = await RssSampler.start();
    started = performance.now();
    for (let index = 0; index < DIGESTS; index++) {
      const begun = performance.now();
      const digest = await build(index);
      timings.push(performance.now() - begun);
      if (charts.length < CHARTS) charts.push(digest.chart);
    }
    const elapsed = performance.now() - started;
    const rss = memory.stop();
    console.log(
      `${DIGESTS.toLocaleString('en')} digests from the store (daily and weekly × organisation, ${TEAMS.length} teams, untagged; no charts; ` +
        `after ${kinds.length} warm-up): ${seconds(elapsed)} s, ${((DIGESTS * 1000) / elapsed).toFixed(0)} digests/s, ` +
        `per digest p50 ${percentile(timings, 50).toFixed(1)} ms, p95 ${percentile(timings, 95).toFixed(1)} ms, max ${Math.max(...timings).toFixed(1)} ms`,
    );
    console.log(`memory while building them (this process${database.kind === 'pglite' ? ', PGlite included' : ''}): ${rss.describe()}`);
    return charts;
  } finally {
    await database.close();
    await scratch.dispose();
  }
}

// ---- 2. charts ----

async function benchCharts(charts: readonly DailyStackChart[]): Promise<void> {
  const renderer = new VegaChartRenderer();
  const cold = !chartEngineLoaded;
  const timings: number[] = [];
  let bytes = 0;
  const memory = await RssSampler.start();
  for (let index = 0; index < CHARTS; index++) {
    const begun = performance.now();
    const png = await renderer.renderPng(charts[index % charts.length]!);
    timings.push(performance.now() - begun);
    bytes += png.byteLength;
    // The bot uploads each chart before drawing the next, so its event loop turns between
    // charts. resvg's native memory is released by finalizers that run on such a turn: in a
    // loop of promises alone they never run, and RSS grows by some 4 MB a chart, gc() or not.
    await new Promise((resolve) => setImmediate(resolve));
  }
  chartEngineLoaded = true;
  const rss = memory.stop();
  globalThis.gc?.();
  await sleep(50); // finalizers run on a later turn of the event loop
  globalThis.gc?.();
  const afterGc = selfRss();
  const rest = timings.slice(1);
  console.log(
    `${CHARTS} digest charts (VegaChartRenderer, PNG at scale 2, ${(bytes / CHARTS / 1024).toFixed(0)} KB each on average): ` +
      `first ${timings[0]!.toFixed(0)} ms${cold ? ' (loads Vega, Vega-Lite and resvg)' : ' (engine already loaded in this process)'}, ` +
      `then p50 ${percentile(rest, 50).toFixed(1)} ms, p95 ${percentile(rest, 95).toFixed(1)} ms, max ${Math.max(...rest).toFixed(1)} ms`,
  );
  console.log(`memory while drawing them (this process): ${rss.describe()}, ${mb(afterGc)} MB after gc()`);
}

// ---- 3. Cost Explorer requests ----

async function benchCostExplorer(options: { databaseUrl?: string }): Promise<void> {
  const scratch = await scratchTarget(options, true);
  const database = await openDatabase(scratch.target);
  const clock = new FixedClock(new Date('2026-11-21T12:00:00Z'));
  let fake: Awaited<ReturnType<typeof startFakeAws>>['fake'] | undefined;
  try {
    await database.migrate();
    const store = new PgCostStore(database.db);
    // The SDK's notice that it will need Node 22 next year: not a figure of this benchmark.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const started = await startFakeAws(store, clock, 5_000);
    fake = started.fake;
    const { source } = started;
    const paid = () => fake!.requests.GetCostAndUsage + fake!.requests.GetCostForecast + fake!.requests.GetDimensionValues + fake!.requests.GetAnomalies;
    const settings = testSyncSettings(BACKFILL_DAYS);
    const backfill = await syncCosts({ source, store, clock }, settings);
    if (backfill.errors.length > 0) throw new Error(`the backfill failed: ${backfill.errors.map((error) => error.message).join('; ')}`);
    const backfillRequests = paid();

    // The day: a sync check every hour, the digests at 09:00 (the default daily schedule).
    const dayStart = new Date('2026-11-22T00:00:00Z');
    const deps: HandlerDeps = { store, clock, settings: testEngineSettings('aws') };
    let digestLedger = 0;
    let digestWire = 0;
    let syncRuns = 0;
    const timings: number[] = [];
    for (let hour = 0; hour < 24; hour++) {
      const hh = String(hour).padStart(2, '0');
      if (hour === 9) {
        clock.set(`2026-11-22T09:00:00Z`);
        const ledgerBefore = (await store.countApiRequests(dayStart)).requests;
        const wireBefore = paid();
        for (let index = 0; index < TEAM_DIGESTS; index++) {
          const begun = performance.now();
          const digest = await buildDigest(deps, { cadence: 'daily', team: TEAMS[index % TEAMS.length] });
          timings.push(performance.now() - begun);
          if (digest.reply.kind !== 'answer') throw new Error(`unexpected digest: ${renderText(digest.reply)}`);
        }
        digestLedger = (await store.countApiRequests(dayStart)).requests - ledgerBefore;
        digestWire = paid() - wireBefore;
      }
      clock.set(`2026-11-22T${hh}:17:00Z`);
      const report = await syncCosts({ source, store, clock }, settings);
      if (report.errors.length > 0) throw new Error(`the ${hh}:17 sync failed: ${report.errors.map((error) => error.message).join('; ')}`);
      if (report.ran) syncRuns += 1;
    }
    const day = await store.countApiRequests(dayStart);
    console.log(
      `Cost Explorer requests, aws source against the local Cost Explorer (real SDK, paid-request ledger): backfill the day before ` +
        `(${BACKFILL_DAYS} days): ${backfillRequests}; on 2026-11-22, ${TEAM_DIGESTS} daily team digests at 09:00 (${TEAMS.length} teams in turn, ` +
        `p50 ${percentile(timings, 50).toFixed(1)} ms each): ${digestLedger} requests (${digestWire} reached the server; expected 0)`,
    );
    console.log(
      `day total (24 hourly sync checks, ${syncRuns} of which synced, + ${TEAM_DIGESTS} digests): ${day.requests} Cost Explorer requests ` +
        `(${day.attempts} attempts), USD ${(day.requests / 100).toFixed(2)} (target: ≤ 10 a day with 500 interactive queries, which add none)`,
    );
  } finally {
    await fake?.close();
    await database.close();
    await scratch.dispose();
  }
}

// ---- 4. the bot posting digests ----

async function benchPosting(options: { databaseUrl?: string }): Promise<void> {
  if (!existsSync('/proc/self/status')) {
    console.log('bot posting digests: skipped, /proc is not available on this system');
    return;
  }
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  const scratch = await scratchTarget(options, true);
  let fake: FakeSlack | undefined;
  let child: ChildProcess | undefined;
  try {
    fake = await startFakeSlack();
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      ...scratch.env,
      ...slackTestEnv(fake.apiUrl),
      PORT: String(await freePort()),
      FINOPS_DAILY_CRON: DAILY_CRON,
      LOG_LEVEL: 'warn',
    };

    // The data and the subscriptions, as the bot would have them: synced for today with the
    // real clock (the child checks staleness with it as it starts), a 400-day backfill.
    let started = performance.now();
    const channels: string[] = [];
    const setup = await createFinOpsApp(loadConfig(env), createLogger('silent'));
    try {
      const report = await setup.sync();
      if (!report || report.errors.length > 0) throw new Error(`the setup sync failed${report ? `: ${report.errors.map((error) => error.message).join('; ')}` : ' (see the log)'}`);
      for (let index = 0; index < SUBSCRIPTIONS; index++) {
        const conversationId = `C0BENCH${String(index).padStart(3, '0')}`;
        channels.push(conversationId);
        await setup.digests.subscribe({ platform: 'slack', conversationId, cadence: 'daily', team: AUDIENCES[index % AUDIENCES.length], timeZone: 'UTC', createdBy: 'U0BENCH01' });
      }
    } finally {
      // PGlite's files belong to one process at a time: closed before the child opens them.
      await setup.close();
    }
    console.log(`bot posting digests: setup (400-day backfill of the demo organisation, real clock, ${SUBSCRIPTIONS} daily subscriptions): ${seconds(performance.now() - started)} s`);

    const messages = new Map<string, number>();
    const charts = new Map<string, number>();
    const count = () => {
      messages.clear();
      charts.clear();
      // Digests only: a team channel may also get that team's recent anomaly alert.
      for (const call of fake!.callsTo('chat.postMessage')) {
        if (!String(call.args.text ?? '').startsWith('Cost anomaly')) bump(messages, String(call.args.channel));
      }
      for (const call of fake!.callsTo('files.completeUploadExternal')) bump(charts, String(call.args.channel_id));
    };
    const done = () => channels.every((channel) => (messages.get(channel) ?? 0) > 0 && (charts.get(channel) ?? 0) > 0);

    started = performance.now();
    const spawned = spawn(process.execPath, [CLI, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = spawned;
    const output = new OutputTail();
    spawned.stdout.on('data', (chunk: Buffer) => output.add(chunk));
    spawned.stderr.on('data', (chunk: Buffer) => output.add(chunk));
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    spawned.once('exit', (code, signal) => (exited = { code, signal }));

    const status = () => readChildStatus(spawned.pid!);
    let peakRssKb = 0;
    let hwmKb = 0;
    let rssAtStartKb: number | undefined;
    let rssAtFirstMessageKb: number | undefined;
    let firstMessageMs: number | undefined;
    /** RSS as the charts go out: whether it levels off or keeps growing with each chart. */
    const rssAfterCharts = new Map<number, number>(CHART_MILESTONES.filter((milestone) => milestone <= SUBSCRIPTIONS).map((milestone) => [milestone, 0]));
    const sample = () => {
      const now = status();
      if (!now) return;
      peakRssKb = Math.max(peakRssKb, now.rssKb);
      hwmKb = Math.max(hwmKb, now.hwmKb);
    };
    const sampler = setInterval(sample, CHILD_SAMPLE_MS);
    let doneRssKb = 0;
    let postedMs = 0;
    try {
      const deadline = Date.now() + POST_TIMEOUT_MS;
      for (;;) {
        count();
        // Bolt looks the bot's identity up as it starts: the bot is up, no digest built yet.
        if (rssAtStartKb === undefined && fake.callsTo('auth.test').length > 0) rssAtStartKb = status()?.rssKb;
        if (firstMessageMs === undefined && messages.size > 0) {
          firstMessageMs = performance.now() - started;
          // Digests are being built but no chart drawn yet (the first chart follows its message by at least 1.1 s).
          rssAtFirstMessageKb = status()?.rssKb;
        }
        const chartsPosted = [...charts.values()].reduce((sum, n) => sum + n, 0);
        for (const [milestone, kb] of rssAfterCharts) if (kb === 0 && chartsPosted >= milestone) rssAfterCharts.set(milestone, status()?.rssKb ?? 0);
        if (done()) break;
        if (exited) throw new Error(`finops-bot serve exited (${exited.code ?? exited.signal}) before posting every digest:\n${output.text()}`);
        if (Date.now() > deadline) {
          throw new Error(
            `finops-bot serve posted ${channels.filter((channel) => charts.has(channel)).length} of ${SUBSCRIPTIONS} digests ` +
              `(${messages.size} messages) in ${POST_TIMEOUT_MS / 1000} s; its output:\n${output.text()}`,
          );
        }
        await sleep(50);
      }
      postedMs = performance.now() - started;
      sample();
      doneRssKb = status()?.rssKb ?? 0;
      // One more scheduled run: it must post nothing more.
      await sleep(SETTLE_MS);
      count();
      sample();
    } finally {
      clearInterval(sampler);
    }
    const exact = channels.filter((channel) => messages.get(channel) === 1 && charts.get(channel) === 1).length;
    const extra = channels.filter((channel) => (messages.get(channel) ?? 0) > 1 || (charts.get(channel) ?? 0) > 1);
    const peakMb = Math.max(hwmKb, peakRssKb) / 1024;
    console.log(
      `bot posting digests (finops-bot serve as a child process, ${SUBSCRIPTIONS} daily subscriptions, schedule \`${DAILY_CRON}\`): ` +
        `all ${SUBSCRIPTIONS} digests (message + chart) ${seconds(postedMs)} s after start (first message at ${seconds(firstMessageMs ?? 0)} s; ` +
        `one digest at a time, each chart at least 1.1 s after its message: Slack's pace per channel)`,
    );
    console.log(
      `bot memory: peak rss (VmHWM) ${peakMb.toFixed(0)} MB, rss when done ${(doneRssKb / 1024).toFixed(0)} MB, ` +
        `rss once started (before any digest) ${((rssAtStartKb ?? 0) / 1024).toFixed(0)} MB, ` +
        `at the first message (no chart drawn yet) ${((rssAtFirstMessageKb ?? 0) / 1024).toFixed(0)} MB ` +
        `(target: rss < ${TARGET_RSS_MB} MB) ${peakMb < TARGET_RSS_MB ? 'ok' : 'MISSED'}`,
    );
    console.log(`bot rss after n charts: ${[...rssAfterCharts].map(([milestone, kb]) => `${milestone}: ${(kb / 1024).toFixed(0)} MB`).join(', ')}`);
    console.log(
      `each channel exactly one message and one chart (after another ${SETTLE_MS / 1000} s of ticks): ${exact === SUBSCRIPTIONS ? 'yes' : 'NO'} ` +
        `(${exact}/${SUBSCRIPTIONS}${extra.length ? `; more than one in ${extra.join(', ')}` : ''}); ${fake.uploads.length} PNG uploads, ` +
        `${(fake.uploads.reduce((sum, upload) => sum + upload.bytes, 0) / Math.max(1, fake.uploads.length) / 1024).toFixed(0)} KB each on average`,
    );
  } finally {
    if (child) await stopChild(child);
    await fake?.close();
    await scratch.dispose();
  }
}

/** SIGTERM, then SIGKILL if it has not exited within {@link STOP_TIMEOUT_MS}. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    console.log(`finops-bot serve did not stop within ${STOP_TIMEOUT_MS / 1000} s of SIGTERM: killed`);
    child.kill('SIGKILL');
  }, STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

function readChildStatus(pid: number): { rssKb: number; hwmKb: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return { rssKb: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0), hwmKb: Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) };
  } catch {
    return undefined; // the process has exited
  }
}

/** The last few kilobytes a child wrote, for error messages. */
class OutputTail {
  private buffer = '';
  add(chunk: Buffer): void {
    this.buffer = (this.buffer + chunk.toString()).slice(-4_000);
  }
  text(): string {
    return this.buffer.trim() || '(nothing)';
  }
}

// ---- this process's memory ----

/**
 * Samples this process's RSS every {@link SELF_SAMPLE_MS} (after a collection), and, where
 * Linux allows resetting it, reads the kernel's own peak (VmHWM) too, which a busy event
 * loop cannot miss.
 */
class RssSampler {
  private peak: number;
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly before: number,
    private readonly hwmReset: boolean,
  ) {
    this.peak = before;
    this.timer = setInterval(() => (this.peak = Math.max(this.peak, selfRss())), SELF_SAMPLE_MS);
  }

  static async start(): Promise<RssSampler> {
    globalThis.gc?.();
    await sleep(50);
    globalThis.gc?.();
    return new RssSampler(selfRss(), resetPeakRss());
  }

  stop(): { describe(): string } {
    clearInterval(this.timer);
    this.peak = Math.max(this.peak, selfRss());
    const hwm = this.hwmReset ? selfStatus('VmHWM') : undefined;
    const { before, peak } = this;
    return {
      describe: () =>
        `rss before ${mb(before)} MB${globalThis.gc ? ' (after gc())' : ''}, peak ${mb(peak)} MB (+${mb(peak - before)}) sampled every ${SELF_SAMPLE_MS} ms` +
        (hwm === undefined ? '' : `, ${mb(hwm)} MB by the kernel's count (VmHWM)`),
    };
  }
}

/**
 * This process's RSS: VmRSS from /proc where there is one, else `process.memoryUsage().rss`.
 * The latter reads /proc/self/stat, whose counters recent kernels keep per CPU and sum lazily:
 * after PGlite freed its memory it still showed 120 MB more than VmRSS.
 */
function selfRss(): number {
  return selfStatus('VmRSS') ?? process.memoryUsage().rss;
}

/** Resets the kernel's peak RSS of this process (Linux ≥ 4.0); false where not allowed. */
function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** A `Vm…` figure of /proc/self/status, in bytes. */
function selfStatus(field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const kb = new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

// ---- databases ----

interface ScratchTarget {
  readonly target: DatabaseTarget;
  /** What the bot's environment needs to reach it. */
  readonly env: Record<string, string>;
  dispose(): Promise<void>;
}

/**
 * PGlite in a new temporary directory; or PostgreSQL: the database at `databaseUrl` itself,
 * or (with `separate`) a new database on the same server, dropped by `dispose`.
 */
async function scratchTarget(options: { databaseUrl?: string }, separate: boolean): Promise<ScratchTarget> {
  if (!options.databaseUrl) {
    const dataDir = mkdtempSync(join(tmpdir(), 'finops-bench-digests-'));
    return {
      target: { kind: 'pglite', dataDir },
      env: { FINOPS_DATA_DIR: dataDir },
      dispose: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  if (!separate) return { target: { kind: 'postgres', url: options.databaseUrl }, env: { DATABASE_URL: options.databaseUrl }, dispose: async () => undefined };
  const scratch = await createScratchDatabase(options.databaseUrl, 'finops_bench');
  return { target: { kind: 'postgres', url: scratch.url }, env: { DATABASE_URL: scratch.url }, dispose: scratch.drop };
}

// ---- shared ----

function bump(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(0);
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
