/**
 * Wiring only: configuration → adapters → engine → channels and scheduler. The one module
 * that knows every concrete class.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import cron, { type ScheduledTask } from 'node-cron';
import { CostExplorerSource, createCostExplorerClient } from './adapters/aws/cost-explorer-source.js';
import { PgCostStore } from './adapters/db/cost-store.js';
import { type Database, type DatabaseTarget, openDatabase } from './adapters/db/database.js';
import { DemoCostSource } from './adapters/demo/demo-cost-source.js';
import { CommandEngine } from './app/engine.js';
import { DEFAULT_SYNC_SETTINGS, isStale, type SyncReport, type SyncSettings, syncCosts } from './app/sync-costs.js';
import { PgDeliveryLedger } from './adapters/db/delivery-ledger.js';
import { PgDigestStore } from './adapters/db/digest-store.js';
import { VegaChartRenderer } from './adapters/chart/vega-chart-renderer.js';
import { DigestRunner } from './app/digest-runner.js';
import type { HandlerDeps } from './app/report-context.js';
import { type DigestTimers, startDigestTimers } from './channels/schedule/digest-timers.js';
import { runConsole } from './channels/console/console-channel.js';
import { type RouteHandler, startHttpServer } from './channels/http/http-server.js';
import { createSlackChannel, SLACK_EVENTS_PATH, type SlackChannel } from './channels/slack/slack-channel.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import type { AlertNotifier, ApproverDirectory, AwsAnomalyFeed, Clock, CostSource, InstanceExecutor, LanguageModel, Platform, RightsizingSource } from './ports.js';
import { BedrockLanguageModel, createBedrockClient } from './adapters/aws/bedrock-model.js';
import { PgConversationStore } from './adapters/db/conversation-store.js';
import { PgAiUsageLedger } from './adapters/db/ai-usage-ledger.js';
import { loadPromptFiles } from './adapters/prompts/prompt-files.js';
import { DEFAULT_AI_LIMITS } from './app/ai/agent.js';
import { OTHER_CONVERSATIONS } from './app/team-access.js';
import { PgAnomalyStore } from './adapters/db/anomaly-store.js';
import { PgBudgetStore } from './adapters/db/budget-store.js';
import { checkBudgetThresholds } from './app/budgets/budget-alerts.js';
import { AwsBudgets } from './adapters/aws/budgets-source.js';
import { CostAnomalyFeed } from './adapters/aws/cost-anomaly-feed.js';
import { AnomalyMonitor } from './app/anomalies/monitor.js';
import { DEFAULT_SCAN_SETTINGS } from './app/anomalies/scan.js';
import { DEFAULT_DETECTOR_SETTINGS } from './core/anomaly.js';
import { labellerFor, type RightsizingServices } from './app/report-context.js';
import { rightsizingServices } from './rightsizing-wiring.js';
import { rightsizingView } from './app/handlers/rightsizing.js';
import { accessFor } from './app/team-access.js';

/** The assembled application. */
export interface FinOpsApp {
  readonly config: Config;
  readonly database: Database;
  readonly store: PgCostStore;
  readonly source: CostSource;
  readonly engine: CommandEngine;
  /** What the handlers read: the store, the clock and the settings (digests are built from them too). */
  readonly handlerDeps: HandlerDeps;
  /** Subscriptions and the digest delivery ledger. */
  readonly digests: PgDigestStore;
  /** Detected anomalies and their alerts. */
  readonly anomalies: PgAnomalyStore;
  /** Teams' monthly budgets and their threshold alerts. */
  readonly budgets: PgBudgetStore;
  /** Rightsizing recommendations, approvers, the audit log and the desk that runs them. */
  readonly rightsizing: RightsizingServices;
  /** From now on, approver groups are read from this directory (the chat platform's). */
  useApproverDirectory(directory: ApproverDirectory): void;
  /** Syncs recommendations when due, expires undecided ones, carries approved ones out and reports realised savings; never throws. */
  tendRightsizing(): Promise<void>;
  /** The anomaly monitor in use (scans after each sync; alerts through the notifiers it was given). */
  monitor(): AnomalyMonitor;
  /** From now on, anomaly alerts go out through these notifiers. */
  useAlertNotifiers(notifiers: ReadonlyMap<Platform, AlertNotifier>): AnomalyMonitor;
  /** Scans for anomalies now (without asking AWS, a paid request kept for new days) and delivers pending alerts; never throws. */
  scanAnomalies(): Promise<void>;
  /** Syncs stale facets (or all recent days with `force`); never throws. */
  sync(options?: { force?: boolean }): Promise<SyncReport | undefined>;
  /** Resolves when no sync is running, or after `timeoutMs`. */
  idle(timeoutMs: number): Promise<void>;
  isStale(): Promise<boolean>;
  close(): Promise<void>;
}

/** Things tests and benchmarks may swap; production uses the defaults. */
export interface AppOverrides {
  readonly clock?: Clock;
  readonly source?: CostSource;
  /** Days of history the first sync fetches (400 in production; tests keep it short). */
  readonly backfillDays?: number;
  /** When to sweep for unfinished digest deliveries (every 15 seconds in production). */
  readonly digestSweepCron?: string;
  /** Retries of a failed Slack Web API call (3 in production). */
  readonly slackWebApiRetries?: number;
  /** The language model (production: Claude on Bedrock when BEDROCK_MODEL_ID is set). */
  readonly model?: LanguageModel;
  /** Most time one AI answer may take (60 s in production). */
  readonly aiTimeoutMs?: number;
  /** AWS Cost Anomaly Detection (production: with the `aws` source, the real API). */
  readonly awsAnomalyFeed?: AwsAnomalyFeed;
  /** Where rightsizing recommendations come from (production: Cost Explorer with the `aws` source, else the demo's). */
  readonly rightsizingSource?: RightsizingSource;
  /** What carries approved changes out (production: EC2 with the `aws` source, a simulation with the demo's). */
  readonly instanceExecutor?: InstanceExecutor;
}

/** A running `serve`. */
export interface Server {
  /** The HTTP port it listens on (useful with `PORT=0` in tests). */
  readonly port: number;
  /** Stops everything, letting work under way finish briefly. */
  stop(): Promise<void>;
}

const systemClock: Clock = { now: () => new Date() };

/** Where the configured database is (the region is needed to sign IAM auth tokens). */
export function databaseTarget(config: Config): DatabaseTarget {
  return config.database.kind === 'postgres'
    ? { kind: 'postgres', url: config.database.url, iamAuth: config.database.iamAuth, region: config.awsRegion }
    : { kind: 'pglite', dataDir: config.database.dataDir };
}

/** Opens the database, applies migrations and assembles the engine. */
export async function createFinOpsApp(config: Config, logger: Logger, overrides: AppOverrides = {}): Promise<FinOpsApp> {
  const clock = overrides.clock ?? systemClock;
  const database = await openDatabase(databaseTarget(config));
  await database.migrate();
  const store = new PgCostStore(database.db);
  const source =
    overrides.source ??
    (config.costSource === 'aws'
      ? new CostExplorerSource({ client: createCostExplorerClient(), ledger: store, clock, logger })
      : new DemoCostSource());
  const digests = new PgDigestStore(database.db);
  const anomalies = new PgAnomalyStore(database.db);
  const budgets = new PgBudgetStore(database.db);
  const prompts = loadPromptFiles();
  const model = overrides.model ?? (config.bedrockModelId ? new BedrockLanguageModel(config.bedrockModelId, { client: createBedrockClient() }) : undefined);
  // Reports go through the alert notifiers in use when they are posted (set once a chat platform starts).
  const rightsizing = rightsizingServices(config, logger, overrides, { db: database.db, store, digests, clock, source, notifiers: () => alertNotifiers });
  const handlerDeps: HandlerDeps = {
    store,
    anomalies,
    budgets,
    rightsizing: rightsizing.services,
    clock,
    settings: {
      timeZone: config.timeZone,
      teamTag: config.teamTag,
      defaultMetric: config.defaultMetric,
      facets: config.facets,
      sourceKind: source.kind,
      digestSchedule: { daily: config.dailyCron, weekly: config.weeklyCron },
      channelTeams: config.ai.channelTeams,
    },
  };
  const ai = {
    model,
    conversations: new PgConversationStore(database.db, (error) => logger.warn({ err: error }, 'pruning old AI conversation turns failed')),
    usage: new PgAiUsageLedger(database.db),
    prompts,
    limits: { ...DEFAULT_AI_LIMITS, answersPerHour: config.ai.answersPerHour, ...(overrides.aiTimeoutMs ? { timeoutMs: overrides.aiTimeoutMs } : {}) },
    price: config.ai.price,
  };
  // AWS Budgets beside ours: the `aws` source and the account they live in.
  const awsBudgets =
    config.costSource === 'aws' && config.awsAccountId && !overrides.source
      ? new AwsBudgets({ accountId: config.awsAccountId, teamTag: config.teamTag, logger })
      : undefined;
  const engine = new CommandEngine({ ...handlerDeps, subscriptions: digests, ai, awsBudgets }, logger);
  const syncSettings: SyncSettings = {
    ...DEFAULT_SYNC_SETTINGS,
    facets: config.facets,
    teamTag: config.teamTag,
    forecastMetric: config.defaultMetric,
    // The demo organisation's days are complete at midnight; Cost Explorer's fill in until about 06:00 UTC.
    ...(source.kind === 'demo' ? { readyAfterHourUtc: 0 } : {}),
    ...(overrides.backfillDays === undefined ? {} : { backfillDays: overrides.backfillDays }),
  };
  const awsFeed =
    overrides.awsAnomalyFeed ?? (config.costSource === 'aws' && !overrides.source ? new CostAnomalyFeed({ ledger: store, clock, logger }) : undefined);
  const monitorFor = (notifiers: ReadonlyMap<Platform, AlertNotifier>) =>
    new AnomalyMonitor({
      store,
      anomalies,
      subscriptions: digests,
      notifiers,
      clock,
      logger: logger.child({ component: 'anomalies' }),
      holder: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
      scan: {
        ...DEFAULT_SCAN_SETTINGS,
        detector: { ...DEFAULT_DETECTOR_SETTINGS, minImpact: config.anomalies.minImpactUsd, minRelative: config.anomalies.minPercent / 100 },
        teamThresholds: config.anomalies.teamThresholds,
        metric: config.defaultMetric,
      },
      fallback: config.anomalies.fallbackChannel ? { platform: 'slack', conversationId: config.anomalies.fallbackChannel } : undefined,
      awsFeed,
      accountLabel: () => labellerFor(handlerDeps, 'account'),
      channelTeams: config.ai.channelTeams,
    });
  let monitor = monitorFor(new Map());
  let alertNotifiers: ReadonlyMap<Platform, AlertNotifier> = new Map();
  const checkBudgets = () =>
    checkBudgetThresholds({
      ...handlerDeps,
      budgets,
      subscriptions: digests,
      notifiers: alertNotifiers,
      fallback: config.anomalies.fallbackChannel ? { platform: 'slack', conversationId: config.anomalies.fallbackChannel } : undefined,
      logger: logger.child({ component: 'budgets' }),
    });
  // A scan that failed (the database was down) is tried again on the next hourly sync check.
  let scanOwed = false;
  const scanAnomalies = async (options: { askAws?: boolean } = {}): Promise<void> => {
    try {
      await monitor.run(options);
      // Budgets are checked against the same new days: each threshold once a month.
      await checkBudgets();
      scanOwed = false;
    } catch (error) {
      scanOwed = true;
      logger.error({ err: error, component: 'anomalies' }, 'anomaly scan or budget check failed; it is tried again at the next sync check');
    }
  };
  const tendRightsizing = async (): Promise<void> => {
    const desk = rightsizing.services.desk;
    for (const [what, step] of [
      ['sync', () => desk.sync()],
      ['expiry', () => desk.expireDue()],
      ['execution', () => desk.executeApproved()],
      ['realised savings', () => desk.reportRealised()],
    ] as const) {
      try {
        await step();
      } catch (error) {
        logger.warn({ err: error, component: 'rightsizing' }, `rightsizing ${what} failed; it is tried again at the next sync check`);
      }
    }
  };
  const runSync = async (options?: { force?: boolean }): Promise<SyncReport | undefined> => {
    try {
      const report = await syncCosts({ source, store, clock }, syncSettings, options);
      if (report.ran) logger.info({ synced: report.synced, errors: report.errors.length }, 'cost sync finished');
      for (const error of report.errors) logger.warn({ facet: error.facet, err: error.cause }, error.message);
      // New days: look for anomalies in them (one instance scans; the others find the lease taken).
      if (report.synced.length > 0 || scanOwed) await scanAnomalies({ askAws: report.synced.length > 0 });
      await tendRightsizing();
      return report;
    } catch (error) {
      logger.error({ err: error }, 'cost sync failed');
      return undefined;
    }
  };
  // One sync at a time in this process (the start-up sync and the schedule can meet); the
  // lease in the database keeps other instances out.
  let running: Promise<SyncReport | undefined> | undefined;
  return {
    config,
    database,
    store,
    source,
    engine,
    handlerDeps,
    digests,
    anomalies,
    budgets,
    rightsizing: rightsizing.services,
    useApproverDirectory: (directory) => rightsizing.useDirectory(directory),
    tendRightsizing,
    monitor: () => monitor,
    useAlertNotifiers: (notifiers) => {
      alertNotifiers = notifiers;
      return (monitor = monitorFor(notifiers));
    },
    scanAnomalies: () => scanAnomalies(),
    sync: (options) => (running ??= runSync(options).finally(() => (running = undefined))),
    idle: async (timeoutMs) => {
      if (running) await Promise.race([running, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
    },
    isStale: () => isStale({ store, clock }, syncSettings),
    close: () => database.close(),
  };
}

/**
 * `finops-bot serve`: the HTTP port, the sync schedule, and the console when no Slack or
 * Teams credentials are set. Resolves with a function that stops everything; if `stopping`
 * is aborted while it starts, it starts nothing more.
 */
export async function serve(
  config: Config,
  logger: Logger,
  io: { stdin: NodeJS.ReadableStream; stdout: NodeJS.WritableStream },
  stopping: AbortSignal,
  overrides: AppOverrides = {},
): Promise<Server> {
  const app = await createFinOpsApp(config, logger, overrides);
  // Stopped while the database was opening: start nothing else, and no paid sync.
  if (stopping.aborted) {
    await app.close();
    return { port: config.port, stop: async () => undefined };
  }
  if (app.source.kind === 'demo') logger.info('cost source: the built-in demo organisation (set FINOPS_COST_SOURCE=aws for real data)');
  if (config.ai.channelTeams && !config.ai.channelTeams.has(OTHER_CONVERSATIONS)) {
    logger.warn('FINOPS_CHANNEL_TEAMS has no `*` rule: conversations it does not list (direct messages, App Home, other channels) see every team');
  }
  if (!config.bedrockModelId) logger.info('BEDROCK_MODEL_ID is not set: questions get deterministic explanations from the data, without an LLM');
  else logger.info({ model: config.bedrockModelId }, 'AI answers: Amazon Bedrock');
  const slack = config.slack ? slackChannelFor(config.slack, app, logger, overrides) : undefined;
  const routes: Record<string, RouteHandler> = {};
  if (slack?.route) routes[SLACK_EVENTS_PATH] = slack.route;
  let http: Awaited<ReturnType<typeof startHttpServer>> | undefined;
  try {
    http = await startHttpServer({
      port: config.port,
      health: { databaseReachable: () => app.database.ping() },
      routes,
      onError: (error) => logger.error({ err: error }, 'http request failed'),
    });
    logger.info({ port: http.port }, 'listening');
    if (slack) {
      // Socket Mode may retry connecting for a long time: a stop request ends the wait.
      const stopped = new Promise<'stopped'>((resolve) => stopping.addEventListener('abort', () => resolve('stopped'), { once: true }));
      if ((await Promise.race([slack.start().then(() => 'started' as const), stopped])) === 'stopped') throw new StartAborted();
      logger.info(slack.mode === 'socket' ? 'Slack: connected over Socket Mode' : `Slack: serving ${SLACK_EVENTS_PATH}`);
    }
  } catch (error) {
    // Leave nothing running: the caller reports the error and the process ends.
    await slack?.stop().catch(() => undefined);
    await http?.close();
    await app.close();
    if (error instanceof StartAborted) return { port: config.port, stop: async () => undefined };
    throw error;
  }
  const server = http;
  const tasks: ScheduledTask[] = [
    cron.schedule(config.syncCron, () => void app.sync(), { timezone: 'UTC', noOverlap: true, name: 'cost-sync' }),
  ];
  // Digests need somewhere to go: without a chat platform there is nothing to post.
  const digests = slack ? await startDigests(app, config, logger, slack, overrides) : undefined;
  if (slack) {
    app.useAlertNotifiers(new Map([['slack', slack.alerts]]));
    app.useApproverDirectory(slack.directory);
    // Alerts a crashed or stopped instance left half-done, and updates after clicks on other instances.
    tasks.push(
      cron.schedule(overrides.digestSweepCron ?? '*/15 * * * * *', () => void app.monitor().deliverPending().catch((error: unknown) => logger.error({ err: error }, 'anomaly alert delivery failed')), {
        noOverlap: true,
        name: 'anomaly-alerts',
      }),
      // Approved changes another instance left half-done (claims go stale after 30 minutes).
      cron.schedule(overrides.digestSweepCron ?? '*/15 * * * * *', () => void app.rightsizing.desk.executeApproved(), { noOverlap: true, name: 'rightsizing-execution' }),
    );
  }
  // First sync in the background: the server answers health checks meanwhile.
  // Already current (a restart): scan anyway, so anomalies found while this instance was down are alerted.
  void app.isStale().then(
    async (stale) => {
      if (stopping.aborted) return;
      if (stale) await app.sync();
      else {
        await app.scanAnomalies();
        await app.tendRightsizing();
      }
    },
    (error: unknown) => logger.error({ err: error }, 'could not read sync state'),
  );
  const consoleStop = new AbortController();
  let consoleDone: Promise<void> = Promise.resolve();
  if (!config.slack && !config.teams) {
    logger.info('no Slack or Teams credentials: the console is reading commands on stdin (the HTTP server keeps running when it ends)');
    consoleDone = runConsole(app.engine, io.stdin as never, io.stdout as never, {
      prompt: Boolean((io.stdin as { isTTY?: boolean }).isTTY),
      signal: consoleStop.signal,
    }).then(() => {
      if (!consoleStop.signal.aborted) logger.info('console input ended; still serving HTTP');
    });
  } else if (config.teams) {
    logger.warn('the Teams channel is not in this build yet; /api/messages is not served');
  }
  const stop = async () => {
    consoleStop.abort();
    // An answer already under way is finished before the database closes.
    await Promise.race([consoleDone, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
    for (const task of tasks) await task.stop();
    // Finish (or hand back) the digest under way before Slack and the database close.
    await digests?.timers.stop();
    await digests?.runner.stop(10_000);
    await slack?.stop();
    await server.close();
    // Let a running sync finish its window so its lease is released, and a change under way on
    // EC2 its step, but not for long (a change cut off is resumed by the next instance).
    await Promise.all([app.idle(10_000), app.rightsizing.desk.idle(10_000)]);
    await app.close();
  };
  return { port: server.port, stop };
}

/** The digest runner and its timers, posting through whichever chat platforms are configured. */
async function startDigests(app: FinOpsApp, config: Config, logger: Logger, slack: SlackChannel, overrides: AppOverrides): Promise<{ runner: DigestRunner; timers: DigestTimers }> {
  const runner = createDigestRunner(app, logger, slack);
  const timers = await startDigestTimers(
    {
      // A tick's time on the app's clock: the same instant in production; in tests, the same offset from their fixed "now".
      runDue: (cadence, timeZone, at) => runner.runDue(cadence, timeZone, { at: new Date(at.getTime() + app.handlerDeps.clock.now().getTime() - Date.now()) }),
      deliverPending: () => runner.deliverPending(),
      schedules: () => app.digests.schedules(),
    },
    {
      dailyCron: config.dailyCron,
      weeklyCron: config.weeklyCron,
      ...(overrides.digestSweepCron ? { sweepCron: overrides.digestSweepCron } : {}),
      onError: (error, what) => logger.error({ err: error, component: 'digests' }, `${what} failed`),
    },
  );
  return { runner, timers };
}

/** The digest runner over the app's store, posting through the given Slack channel (if any). */
export function createDigestRunner(app: FinOpsApp, logger: Logger, slack: SlackChannel | undefined): DigestRunner {
  return new DigestRunner({
    handler: app.handlerDeps,
    deliveries: app.digests,
    notifiers: new Map(slack ? [['slack', slack.notifier] as const] : []),
    charts: new VegaChartRenderer(),
    logger: logger.child({ component: 'digests' }),
    // Unique per instance, also when tests run several in one process.
    holder: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
  });
}

/** A stop request arrived while `serve` was starting. */
class StartAborted extends Error {}

/** The Slack channel for the configured credentials (not started). */
export function slackChannelFor(slack: NonNullable<Config['slack']>, app: FinOpsApp, logger: Logger, overrides: AppOverrides = {}): SlackChannel {
  return createSlackChannel({
    botToken: slack.botToken,
    signingSecret: slack.signingSecret,
    appToken: slack.appToken,
    apiUrl: slack.apiUrl,
    engine: app.engine,
    // The monitor changes once alerts are wired: clicks always reach the current one.
    anomalies: { decide: (request) => app.monitor().decide(request), redrawn: (id, conversation, version) => app.monitor().redrawn(id, conversation, version) },
    rightsizing: {
      decide: (request) => app.rightsizing.desk.decide(request),
      check: (id, userId, conversationId) => app.rightsizing.desk.check(id, userId, conversationId),
      view: (scope, conversationId) =>
        rightsizingView({ ...app.handlerDeps, rightsizing: app.rightsizing }, scope === '*' ? undefined : scope, accessFor(app.handlerDeps, { conversationId }), true),
    },
    deliveries: new PgDeliveryLedger(app.database.db, (error) => logger.warn({ err: error }, 'could not prune old Slack deliveries')),
    logger,
    // The embedded database answers on this thread: one answer at a time keeps acks prompt.
    answerConcurrency: app.config.database.kind === 'pglite' ? 1 : 4,
    conversationConcurrency: app.config.database.kind === 'pglite' ? 2 : 8,
    ...(overrides.slackWebApiRetries === undefined ? {} : { webApiRetries: overrides.slackWebApiRetries }),
  });
}

