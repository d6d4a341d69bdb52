#!/usr/bin/env node
/**
 * `finops-bot serve | chat | digest | migrate`. Configuration errors print one line and exit 1;
 * nothing else the bot does ends the process with a stack trace.
 */
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDigestRunner, createFinOpsApp, databaseTarget, serve, slackChannelFor } from './main.js';
import { VegaChartRenderer } from './adapters/chart/vega-chart-renderer.js';
import { buildDigest } from './app/digest.js';
import { teamName } from './app/parse-values.js';
import { resolveTeam } from './app/report-context.js';
import type { Cadence } from './ports.js';
import { renderText } from './render/text.js';
import { runConsole } from './channels/console/console-channel.js';
import { openDatabase } from './adapters/db/database.js';
import { isFinOpsError } from './core/errors.js';

const USAGE = `Usage: finops-bot <command>

  serve     HTTP server for Slack and Teams plus the scheduler (the console too, without credentials)
  chat      console: one command per line on stdin, answers on stdout
  digest daily|weekly [--team T] [--post]
            build a digest now and print it with its chart's file path, or post the due
            digests to the subscribed channels (each period still goes out once)
  migrate   apply database migrations and exit
`;

async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined ? 1 : 0;
  }
  if (!['serve', 'chat', 'digest', 'migrate'].includes(command)) {
    process.stderr.write(`finops-bot: unknown command \`${command}\`.\n${USAGE}`);
    return 1;
  }
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`finops-bot: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  switch (command) {
    case 'migrate':
      return migrate(config, createLogger(config.logLevel));
    case 'chat':
      return chat(config, createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, 2));
    case 'digest':
      return digest(config, createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, 2), argv.slice(1));
    default:
      return runServer(config, createLogger(config.logLevel));
  }
}

async function migrate(config: Config, logger: Logger): Promise<number> {
  const database = await openDatabase(databaseTarget(config));
  try {
    await database.migrate();
    logger.info({ database: database.kind }, 'migrations applied');
    return 0;
  } finally {
    await database.close();
  }
}

async function chat(config: Config, logger: Logger): Promise<number> {
  const app = await createFinOpsApp(config, logger);
  try {
    if (await app.isStale()) {
      process.stderr.write(`Syncing cost data from the ${app.source.kind === 'aws' ? 'AWS Cost Explorer' : 'demo organisation'}…\n`);
      await app.sync();
    } else {
      // Current already (the sync scans after new days): bring `anomalies` up to date all the same.
      await app.scanAnomalies();
    }
    await runConsole(app.engine, process.stdin, process.stdout, { prompt: process.stdin.isTTY === true });
    return 0;
  } finally {
    await app.close();
  }
}

/** `finops-bot digest daily|weekly [--team T] [--post]`. */
async function digest(config: Config, logger: Logger, args: string[]): Promise<number> {
  const options = parseDigestArgs(args);
  if (typeof options === 'string') {
    process.stderr.write(`finops-bot: ${options}\n${USAGE}`);
    return 1;
  }
  if (options.post && !config.slack) {
    process.stderr.write('finops-bot: --post needs Slack credentials (SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET or SLACK_APP_TOKEN).\n');
    return 1;
  }
  const app = await createFinOpsApp(config, logger);
  try {
    if (await app.isStale()) {
      process.stderr.write(`Syncing cost data from the ${app.source.kind === 'aws' ? 'AWS Cost Explorer' : 'demo organisation'}…\n`);
      await app.sync();
    }
    const team = options.team === undefined ? undefined : await resolveTeam(app.handlerDeps, teamName(options.team));
    if (!options.post) {
      const built = await buildDigest(app.handlerDeps, { cadence: options.cadence, team });
      // A private folder: a shared, predictable name in /tmp could be someone else's symlink.
      const chartPath = join(mkdtempSync(join(tmpdir(), 'finops-digest-')), `${built.periodKey.replace(':', '-')}${team === undefined ? '' : `-${team.replace(/[^\w.-]+/g, '_') || 'untagged'}`}.png`);
      writeFileSync(chartPath, await new VegaChartRenderer().renderPng(built.chart));
      process.stdout.write(`${renderText(built.reply)}Chart: ${chartPath}\n`);
      return 0;
    }
    const runner = createDigestRunner(app, logger, slackChannelFor(config.slack!, app, logger));
    let posted = 0;
    let failed = 0;
    for (const schedule of await app.digests.schedules()) {
      if (schedule.cadence !== options.cadence) continue;
      const report = await runner.runDue(schedule.cadence, schedule.timeZone, { onlyTeam: team });
      posted += report.posted;
      failed += report.failed;
    }
    process.stdout.write(`Posted ${posted} ${options.cadence} digest${posted === 1 ? '' : 's'}${failed ? `; ${failed} failed (see the log, and \`subscriptions\` in the channel)` : ''}.\n`);
    return failed ? 1 : 0;
  } catch (error) {
    if (!isFinOpsError(error)) throw error;
    process.stderr.write(`finops-bot: ${error.message}\n`);
    return 1;
  } finally {
    await app.close();
  }
}

function parseDigestArgs(args: string[]): { cadence: Cadence; team: string | undefined; post: boolean } | string {
  const [cadence, ...rest] = args;
  if (cadence !== 'daily' && cadence !== 'weekly') return '`digest` needs `daily` or `weekly`.';
  let team: string | undefined;
  let post = false;
  for (let index = 0; index < rest.length; index++) {
    const arg = rest[index]!;
    if (arg === '--post') post = true;
    else if (arg === '--team') {
      team = rest[++index];
      if (team === undefined || team.startsWith('--')) return '`--team` needs a team name, for example `--team payments`.';
    }
    else if (arg.startsWith('--team=')) team = arg.slice('--team='.length);
    else return `\`digest\` does not take \`${arg}\`.`;
  }
  return { cadence, team, post };
}

async function runServer(config: Config, logger: Logger): Promise<number> {
  // Listen for signals before anything starts: an orchestrator may stop us mid-start.
  const stopping = new AbortController();
  const stopRequested = new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      stopping.abort();
      resolve();
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
  logger.info({ pid: process.pid }, 'starting');
  const server = await serve(config, logger, { stdin: process.stdin, stdout: process.stdout }, stopping.signal);
  await stopRequested;
  await server.stop();
  // Nothing should be left, but an orchestrator's SIGTERM must end the process whatever is.
  process.exit(0);
}

process.on('unhandledRejection', (reason) => {
  process.stderr.write(`finops-bot: unexpected error: ${reason instanceof Error ? reason.message : String(reason)}\n`);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`finops-bot: ${describeStartupError(error)}\n`);
    // Whatever a failed start left behind (a retrying client, a timer) must not keep us up.
    process.exit(1);
  },
);

/**
 * One line for the operator when the bot cannot start: what the database driver said and
 * its code, never the connection string.
 */
function describeStartupError(error: unknown): string {
  if (isFinOpsError(error, 'database_unavailable') && error.cause) {
    const cause = error.cause as { code?: string; message?: string };
    return `cannot reach the database (${[cause.code, cause.message].filter(Boolean).join(': ')}); check DATABASE_URL and that the server is up.`;
  }
  const driver = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; message?: unknown; severity?: unknown };
  if (typeof driver.code === 'string' && typeof driver.severity === 'string') {
    return `the database refused to start the bot (${driver.code}: ${String(driver.message)}); check DATABASE_URL.`;
  }
  return error instanceof Error ? error.message : String(error);
}
