/**
 * Slack ack latency (PRODUCT.md: "bursts of 50 simultaneous signed slash commands: p99
 * within 1.2× of a bare Bolt app measured in the same run; the ack never waits on AWS,
 * Bedrock or a slow query").
 *
 * Two targets in this process, each on its own port:
 * - this app: the real `serve()` with its database (PGlite in a temporary directory, or a
 *   PostgreSQL database), engine and Slack channel, started as the end-to-end test starts
 *   it, on data synced beforehand (a fake Slack for the Web API and `response_url`);
 * - a bare Bolt app whose `/finops` handler only acks.
 *
 * Slack's side — the client sending the commands and the fake Slack receiving the answers —
 * runs in a worker thread, so its clock and its sockets are read on an event loop of their
 * own: an ack is timed when its bytes arrive, not when the servers' thread next lets a
 * client on the same thread read them.
 *
 * Bursts of 50 signed `/finops` commands (distinct trigger ids) are sent at once over
 * keep-alive sockets with Nagle off, alternating between the two targets so that machine
 * noise lands on both alike. The ack time of a command is from sending it to the complete
 * 200 response. After each burst at this app, the next burst waits until every answer has
 * reached its `response_url`, so answering one burst never slows the acks of the next; the
 * time from sending to that post is the answer latency people see.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, type ClientRequestArgs, type Server as HttpServer } from 'node:http';
import { type AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Duplex, PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { App, LogLevel } from '@slack/bolt';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createFinOpsApp, type Server, serve } from '../../src/main.js';
import { type FakeSlack, startFakeSlack } from '../support/fake-slack.js';
import { postToSlackRoute, slashCommand, TEST_BOT_TOKEN, TEST_SIGNING_SECRET, slackTestEnv } from '../support/slack-requests.js';
import { FixedClock } from '../support/world.js';

const BURST_SIZE = 50;
const WARMUP_BURSTS = 2;
const MEASURED_BURSTS = 20;
const BACKFILL_DAYS = 45;
/** How long a burst's answers may take before the benchmark gives up. */
const ANSWER_TIMEOUT_MS = 60_000;
/** The target: this app's ack p99 at most this multiple of bare Bolt's. */
const TARGET_RATIO = 1.2;
const WORKER_ROLE = 'slack-ack-client';

/** What people ask, in turn (answered from the store, as in production). */
const COMMAND_MIX = [
  'cost 7d by service',
  'cost 30d by team',
  'cost mtd by account for payments',
  'top 7d',
  'forecast',
  'cost last-month by usage-type',
  'tags',
  'cost 90d by region',
  'help',
  'cots 7d',
];

/** Messages from the client thread. */
type FromClient =
  | { type: 'fake'; apiUrl: string }
  | { type: 'gc' }
  | { type: 'result'; ours: number[]; bare: number[]; answers: number[]; socketsOurs: number; socketsBare: number; elapsedMs: number }
  | { type: 'failed'; message: string };

/** Messages to the client thread. */
type ToClient = { type: 'targets'; ours: string; bare: string } | { type: 'gc-done' };

/**
 * Prints ack latency p50/p99 of this app and of a bare Bolt app, their p99 ratio against
 * the target, and the answer latency. The bot keeps its data in PGlite in a temporary
 * directory, or in the PostgreSQL database at `databaseUrl` (which should be empty).
 */
export async function benchSlackAck(options: { databaseUrl?: string } = {}): Promise<void> {
  const database = options.databaseUrl ? 'PostgreSQL' : 'PGlite';
  console.log(`\n== Slack ack latency, ${database} (bursts of ${BURST_SIZE} simultaneous signed /finops commands, keep-alive sockets, Nagle off)`);
  const client = new Worker(fileURLToPath(import.meta.url), { workerData: { role: WORKER_ROLE } });
  const inbox = new Inbox<FromClient>();
  client.on('message', (message: FromClient) => inbox.put(message));
  const exited = new Promise<number>((resolve) => client.once('exit', resolve));
  client.on('error', (error) => inbox.put({ type: 'failed', message: error instanceof Error ? error.stack ?? error.message : String(error) }));
  const send = (message: ToClient) => client.postMessage(message);

  const clock = new FixedClock(new Date('2026-11-22T12:00:00Z'));
  const dataDir = options.databaseUrl ? undefined : mkdtempSync(join(tmpdir(), 'finops-bench-slack-'));
  const stopping = new AbortController();
  let server: Server | undefined;
  let bare: App | undefined;
  try {
    const { apiUrl } = await inbox.take('fake');
    const env: Record<string, string> = {
      ...slackTestEnv(apiUrl),
      LOG_LEVEL: 'silent',
      ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : { FINOPS_DATA_DIR: dataDir! }),
    };
    const config: Config = { ...loadConfig(env), port: 0 };
    // The data is synced before the server starts, as it is by the time people ask.
    const setup = await createFinOpsApp(config, createLogger('silent'), { clock, backfillDays: BACKFILL_DAYS });
    await setup.sync();
    await setup.close();
    const io = { stdin: Readable.from([]), stdout: new PassThrough() };
    server = await serve(config, createLogger('silent'), io, stopping.signal, { clock, backfillDays: BACKFILL_DAYS });

    bare = new App({
      signingSecret: TEST_SIGNING_SECRET,
      token: TEST_BOT_TOKEN,
      // With both ids given, Bolt's authorize makes no Web API call at all.
      tokenVerificationEnabled: false,
      botId: 'B1',
      botUserId: 'U1',
      logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: apiUrl },
    });
    bare.command('/finops', async ({ ack }) => {
      await ack();
    });
    const bareServer = (await bare.start(0)) as HttpServer;
    // The same keep-alive settings as the bot's own server, so neither reconnects between bursts.
    bareServer.keepAliveTimeout = 65_000;
    bareServer.headersTimeout = 66_000;

    send({ type: 'targets', ours: `http://127.0.0.1:${server.port}/slack/events`, bare: `http://127.0.0.1:${(bareServer.address() as AddressInfo).port}/slack/events` });
    for (;;) {
      const message = await inbox.take('gc', 'result');
      if (message.type === 'result') {
        report(message, `finops-bot (serve, ${database})`);
        break;
      }
      // Between bursts: both targets start each burst with the same clean heap.
      globalThis.gc?.();
      send({ type: 'gc-done' });
    }
  } finally {
    stopping.abort();
    await server?.stop();
    await bare?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
    await client.terminate();
  }
}

function report(result: Extract<FromClient, { type: 'result' }>, ours: string): void {
  const bare = 'bare Bolt app (handler only acks)';
  const width = Math.max(ours.length, bare.length) + 1;
  const ratio = percentile(result.ours, 99) / percentile(result.bare, 99);
  console.log(
    `${MEASURED_BURSTS} bursts per target (${result.ours.length} commands each, after ${WARMUP_BURSTS} warm-up bursts), interleaved, ` +
      `${(result.elapsedMs / 1000).toFixed(1)} s; sockets opened: ${result.socketsOurs} and ${result.socketsBare}`,
  );
  console.log(`ack, ${`${bare}:`.padEnd(width)} ${latencies(result.bare)}`);
  console.log(`ack, ${`${ours}:`.padEnd(width)} ${latencies(result.ours)}`);
  console.log(
    `ack p99 ratio finops-bot / bare Bolt: ${ratio.toFixed(2)}× (p50 ratio ${(percentile(result.ours, 50) / percentile(result.bare, 50)).toFixed(2)}×; ` +
      `target: p99 ≤ ${TARGET_RATIO}×) ${ratio <= TARGET_RATIO ? 'ok' : 'MISSED'}`,
  );
  console.log(`answers through response_url (send → post, ${result.answers.length} commands, ${BURST_SIZE} at a time): ${latencies(result.answers)}`);
}

// ---- Slack's side, in the worker thread ----

interface Target {
  readonly name: string;
  readonly url: string;
  readonly agent: CountingAgent;
  /** Whether it answers through `response_url` (the bare app only acks). */
  readonly answers: boolean;
}

interface BurstResult {
  readonly acks: number[];
  readonly answers: number[];
}

/** A keep-alive agent that turns Nagle off on every socket and counts the sockets it opens. */
class CountingAgent extends Agent {
  opened = 0;

  constructor() {
    super({ keepAlive: true, maxSockets: BURST_SIZE, maxFreeSockets: BURST_SIZE, keepAliveMsecs: 60_000 });
  }

  override createConnection(options: ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const socket = super.createConnection(options, callback);
    if (socket instanceof Socket) {
      socket.setNoDelay(true);
      this.opened++;
    }
    return socket;
  }
}

async function runClient(port: NonNullable<typeof parentPort>): Promise<void> {
  const inbox = new Inbox<ToClient>();
  port.on('message', (message: ToClient) => inbox.put(message));
  const post = (message: FromClient) => port.postMessage(message);
  const fake = await startFakeSlack();
  const ours = new CountingAgent();
  const bare = new CountingAgent();
  try {
    const arrivals = recordResponseArrivals(fake);
    post({ type: 'fake', apiUrl: fake.apiUrl });
    const urls = await inbox.take('targets');
    // The bot looks its identity up once as it starts; let that finish before measuring.
    await fake.waitFor(() => fake.callsTo('auth.test').length > 0);
    const targets = {
      ours: { name: 'finops-bot', url: urls.ours, agent: ours, answers: true },
      bare: { name: 'bare Bolt', url: urls.bare, agent: bare, answers: false },
    } satisfies Record<string, Target>;
    let burstNumber = 0;
    const run = async (target: Target): Promise<BurstResult> => {
      post({ type: 'gc' });
      await inbox.take('gc-done');
      const result = await burst(target, fake, arrivals, `b${burstNumber++}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
      return result;
    };
    for (let i = 0; i < WARMUP_BURSTS; i++) {
      await run(targets.ours);
      await run(targets.bare);
    }
    const acks = { ours: [] as number[], bare: [] as number[] };
    const answers: number[] = [];
    const started = performance.now();
    for (let i = 0; i < MEASURED_BURSTS; i++) {
      // A,B then B,A: neither target always follows the other's work.
      for (const key of i % 2 === 0 ? (['ours', 'bare'] as const) : (['bare', 'ours'] as const)) {
        const result = await run(targets[key]);
        acks[key].push(...result.acks);
        answers.push(...result.answers);
      }
    }
    post({ type: 'result', ours: acks.ours, bare: acks.bare, answers, socketsOurs: ours.opened, socketsBare: bare.opened, elapsedMs: performance.now() - started });
  } catch (error) {
    post({ type: 'failed', message: error instanceof Error ? error.stack ?? error.message : String(error) });
  } finally {
    ours.destroy();
    bare.destroy();
    await fake.close();
    port.close();
  }
}

/** Sends one burst at `target` and, for this app, waits for all its answers. */
async function burst(target: Target, fake: FakeSlack, arrivals: Map<string, number>, prefix: string): Promise<BurstResult> {
  const ids = Array.from({ length: BURST_SIZE }, (_, i) => `${prefix}-${i}`);
  const bodies = ids.map((id, i) => slashCommand({ text: COMMAND_MIX[i % COMMAND_MIX.length]!, responseUrl: fake.responseUrl(id) }));
  const sentAt: number[] = [];
  const acks = await Promise.all(
    bodies.map(async (body, i) => {
      const begun = performance.now();
      sentAt[i] = begun;
      const ack = await postToSlackRoute(target.url, body, { agent: target.agent });
      const took = performance.now() - begun;
      if (ack.status !== 200 || ack.body !== '') throw new Error(`${target.name} answered a slash command with ${ack.status} ${JSON.stringify(ack.body.slice(0, 200))}`);
      return took;
    }),
  );
  if (!target.answers) return { acks, answers: [] };
  await fake.waitFor(() => ids.every((id) => arrivals.has(id)), ANSWER_TIMEOUT_MS);
  const answers = ids.map((id, i) => arrivals.get(id)! - sentAt[i]!);
  for (const id of ids) arrivals.delete(id);
  return { acks, answers };
}

/**
 * When each `response_url` post reached the fake (performance.now()), by id. The fake keeps
 * posts without a time, so this notes the time as it records each one (and keeps no posts:
 * thousands of rendered answers would only be memory).
 */
function recordResponseArrivals(fake: FakeSlack): Map<string, number> {
  const arrivals = new Map<string, number>();
  const responses = fake.responses;
  responses.push = (...posts) => {
    const now = performance.now();
    for (const post of posts) if (!arrivals.has(post.id)) arrivals.set(post.id, now);
    return responses.length;
  };
  return arrivals;
}

// ---- shared ----

/** Messages in arrival order, taken by type. */
class Inbox<M extends { type: string }> {
  private readonly queue: M[] = [];
  private waiting: { types: readonly string[]; resolve: (message: M) => void; reject: (error: Error) => void } | undefined;

  put(message: M): void {
    if (message.type === 'failed') {
      const error = new Error(`the Slack benchmark client failed: ${(message as { message?: string }).message ?? ''}`);
      if (this.waiting) this.waiting.reject(error);
      else this.queue.push(message);
      this.waiting = undefined;
      return;
    }
    if (this.waiting?.types.includes(message.type)) {
      const { resolve } = this.waiting;
      this.waiting = undefined;
      resolve(message);
      return;
    }
    this.queue.push(message);
  }

  take<T extends M['type']>(...types: T[]): Promise<Extract<M, { type: T }>> {
    const failed = this.queue.find((message) => message.type === 'failed');
    if (failed) return Promise.reject(new Error(`the Slack benchmark client failed: ${(failed as { message?: string }).message ?? ''}`));
    const index = this.queue.findIndex((message) => (types as string[]).includes(message.type));
    if (index >= 0) return Promise.resolve(this.queue.splice(index, 1)[0] as Extract<M, { type: T }>);
    return new Promise((resolve, reject) => {
      this.waiting = { types, resolve: resolve as (message: M) => void, reject };
    });
  }
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function latencies(values: readonly number[]): string {
  return `p50 ${percentile(values, 50).toFixed(1)} ms, p99 ${percentile(values, 99).toFixed(1)} ms, max ${Math.max(...values).toFixed(1)} ms`;
}

if (!isMainThread && parentPort && (workerData as { role?: string } | null)?.role === WORKER_ROLE) {
  void runClient(parentPort);
}
