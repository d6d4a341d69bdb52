/**
 * The built CLI as a user runs it: a child process fed on stdin. `npm test` builds dist/
 * first. With DATABASE_URL set, each run gets a fresh PostgreSQL database; otherwise a
 * fresh PGlite folder.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DemoCostSource } from '../../src/adapters/demo/demo-cost-source.js';
import { syncTarget } from '../../src/app/sync-costs.js';
import { addDays, todayIn } from '../../src/core/period.js';
import { startFakeCostExplorer } from '../support/fake-cost-explorer.js';
import { startFakeSlack } from '../support/fake-slack.js';
import { postToSlackRoute, slashCommand, TEST_BOT_TOKEN, TEST_SIGNING_SECRET, slackTestEnv } from '../support/slack-requests.js';
import { freePort, waitUntil } from '../support/processes.js';
import { openBotState, testDatabaseKind } from '../support/test-database.js';
import { sourceTotalCents } from '../support/world.js';

const CLI = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn' };
  return { ...env, ...extra };
}

function runCli(args: string[], input: string, env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: baseEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

function answers(stdout: string): string[] {
  // Replies contain no empty line; one empty line separates them.
  return stdout.split('\n\n').filter((part) => part.trim() !== '');
}

function totalOf(answer: string): bigint {
  const match = /^Total\s+USD ([\d,]+)\.(\d\d)$/m.exec(answer);
  if (!match) throw new Error(`no total in:\n${answer}`);
  return BigInt(match[1]!.replaceAll(',', '')) * 100n + BigInt(match[2]!);
}

function tableLinesSum(answer: string): bigint {
  const rows = answer.split('\n');
  const start = rows.findIndex((row) => /\s+Cost\s+Share\s+Change$/.test(row));
  const end = rows.findIndex((row, index) => index > start && /^-+/.test(row));
  return rows.slice(start + 1, end).reduce((sum, row) => {
    const match = /USD ([\d,]+)\.(\d\d)/.exec(row)!;
    return sum + BigInt(match[1]!.replaceAll(',', '')) * 100n + BigInt(match[2]!);
  }, 0n);
}

describe.skipIf(!existsSync(CLI))(`finops-bot CLI (${testDatabaseKind})`, () => {
  let state: Awaited<ReturnType<typeof openBotState>>;

  beforeAll(async () => {
    state = await openBotState('finops-cli-');
  });
  afterAll(async () => state.dispose());

  it('chat answers every line of the script sensibly and exits 0', async () => {
    const script = 'cost 30d by service\ncost 30d by team\ntop 7d\nforecast\ntags\nhelp\ncots 7d\ncost 13x\n';
    const run = await runCli(['chat'], script, state.env);
    expect(run.code, run.stderr).toBe(0);
    const parts = answers(run.stdout);
    expect(parts).toHaveLength(8);
    const [byService, byTeam, top, forecast, tags, help, typo, badPeriod] = parts as [string, string, string, string, string, string, string, string];
    expect(byService).toMatch(/^Cost by service, last 30 days/);
    expect(tableLinesSum(byService)).toBe(totalOf(byService));
    expect(tableLinesSum(byTeam)).toBe(totalOf(byTeam));
    expect(totalOf(byService)).toBe(totalOf(byTeam));
    // The data runs through the day before the sync target (yesterday: the demo organisation's days are complete at midnight).
    const today = todayIn('UTC', new Date());
    const through = syncTarget(new Date(), 0);
    expect(totalOf(byService)).toBe(await sourceTotalCents(new DemoCostSource(), { start: addDays(today, -30), end: through }));
    expect(top).toMatch(/^Top movers, last 7 days/);
    expect(forecast).toMatch(/80% range/);
    expect(tags).toMatch(/Without `Team`/);
    expect(help).toMatch(/cost \[PERIOD\] \[by DIM\] \[for TEAM\]/);
    expect(typo).toMatch(/Did you mean `cost 7d`\?/);
    expect(badPeriod).toMatch(/`13x` is not a period I know[\s\S]*Periods: `today`/);
    expect(run.stdout).not.toMatch(/\n\s+at .*\(/);
  });

  it('a bad setting stops with one line naming the variable', async () => {
    const run = await runCli(['chat'], '', { ...state.env, FINOPS_COST_SOURCE: 'bogus' });
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual(['finops-bot: FINOPS_COST_SOURCE must be `aws` or `demo` (got `bogus`).']);
  });

  it('migrate applies migrations and exits 0; an unknown command prints usage and exits 1', async () => {
    expect((await runCli(['migrate'], '', state.env)).code).toBe(0);
    const unknown = await runCli(['frobnicate'], '', state.env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('Usage: finops-bot <command>');
  });

  it('serve: health check answers, the console closes at end of input while HTTP keeps serving, SIGTERM stops cleanly', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [CLI, 'serve'], { env: baseEnv({ ...state.env, PORT: String(port), LOG_LEVEL: 'info' }), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    try {
      await waitUntil(() => stdout.includes('"listening"') && stdout.includes('no Slack or Teams credentials'), 30_000);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      child.stdin.end('cost 7d by region\n');
      await waitUntil(() => stdout.includes('console input ended'), 30_000);
      expect(stdout).toMatch(/Cost by region, last 7 days|no cost data/);
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(await health.json()).toEqual({ status: 'ok' });
      const exit = exited(child);
      child.kill('SIGTERM');
      expect(await exit).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('serve stops on SIGTERM even while its console input stays open', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [CLI, 'serve'], { env: baseEnv({ ...state.env, PORT: String(port), LOG_LEVEL: 'info' }), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    try {
      await waitUntil(() => stdout.includes('"listening"'), 30_000);
      const exit = exited(child);
      child.kill('SIGTERM');
      expect(await exit).toBe(0);
      expect(stdout).toContain('shutting down');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('serve with Slack credentials: /slack/events answers a signed /finops through response_url, refuses a forged one, and keeps the token out of its logs', async () => {
    const fake = await startFakeSlack();
    const port = await freePort();
    const env = { ...state.env, PORT: String(port), LOG_LEVEL: 'debug', ...slackTestEnv(fake.apiUrl) };
    const child = spawn(process.execPath, [CLI, 'serve'], { env: baseEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await waitUntil(() => output.includes('Slack: serving /slack/events'), 30_000);
      expect(output).not.toContain('the console is reading commands');
      const url = `http://127.0.0.1:${port}/slack/events`;
      const ack = await postToSlackRoute(url, slashCommand({ text: 'help cost', responseUrl: fake.responseUrl('cli') }));
      expect(ack.status).toBe(200);
      const [answer] = await fake.waitFor(() => fake.responsesTo('cli').length > 0 && fake.responsesTo('cli'));
      expect(answer!.body.response_type).toBe('ephemeral');
      expect(JSON.stringify(answer!.body.blocks)).toContain('cost [PERIOD]');
      const forged = await postToSlackRoute(url, slashCommand({ text: 'cost 7d', responseUrl: fake.responseUrl('forged') }), { secret: 'a-guess-at-the-secret' });
      expect(forged.status).toBe(401);
      const exit = exited(child);
      child.kill('SIGTERM');
      expect(await exit).toBe(0);
      expect(fake.responsesTo('forged')).toEqual([]);
      expect(output).not.toContain(TEST_BOT_TOKEN);
      expect(output).not.toContain(TEST_SIGNING_SECRET);
    } finally {
      child.kill('SIGKILL');
      await fake.close();
    }
  });

  it('serve over Socket Mode that Slack refuses stops with one line and exit 1, leaving nothing serving', async () => {
    const fake = await startFakeSlack();
    fake.failNext('apps.connections.open', { error: 'invalid_auth' });
    const port = await freePort();
    const env = { ...state.env, PORT: String(port), SLACK_BOT_TOKEN: TEST_BOT_TOKEN, SLACK_APP_TOKEN: 'xapp-1-A0FINOPS1-1-notreal', SLACK_API_URL: fake.apiUrl };
    try {
      const run = await runCli(['serve'], '', env);
      expect(run.code).toBe(1);
      expect(run.stderr.trim().split('\n').at(-1)).toMatch(/^finops-bot: .*invalid_auth/);
      expect(run.stderr + run.stdout).not.toContain('xapp-1-A0FINOPS1-1-notreal');
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    } finally {
      await fake.close();
    }
  });

  it('digest prints a team digest with the path of its PNG chart; bad arguments and --post without Slack get one line and exit 1', async () => {
    const run = await runCli(['digest', 'daily', '--team', 'Payments'], '', state.env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Daily digest · payments · \w{3} \d+ \w{3} \d{4}$/m);
    expect(run.stdout).toContain('Usual for a');
    const chart = /^Chart: (.+\.png)$/m.exec(run.stdout)?.[1];
    expect(chart).toBeDefined();
    expect(readFileSync(chart!).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const monthly = await runCli(['digest', 'monthly'], '', state.env);
    expect([monthly.code, monthly.stderr.split('\n')[0]]).toEqual([1, 'finops-bot: `digest` needs `daily` or `weekly`.']);
    const noTeam = await runCli(['digest', 'weekly', '--team'], '', state.env);
    expect([noTeam.code, noTeam.stderr.split('\n')[0]]).toEqual([1, 'finops-bot: `--team` needs a team name, for example `--team payments`.']);
    const post = await runCli(['digest', 'daily', '--post'], '', state.env);
    expect(post.code).toBe(1);
    expect(post.stderr).toContain('--post needs Slack credentials');
    const unknown = await runCli(['digest', 'daily', '--team', 'paymnts'], '', state.env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('did you mean `payments`?');
  });

  it('chat ends quietly when its reader hangs up early (as with `| head -1`)', async () => {
    const child = spawn(process.execPath, [CLI, 'chat'], { env: baseEnv(state.env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.once('data', () => child.stdout.destroy());
    const exit = exited(child);
    child.stdin.end('cost 7d\n'.repeat(200));
    expect(await exit).toBe(0);
    expect(stderr).not.toMatch(/EPIPE|Unhandled|\n\s+at /);
  });

  it('a SIGTERM while it starts stops the start: no HTTP server, no sync, exit 0', async () => {
    // A fresh embedded database takes seconds to create, so the signal surely lands mid-start
    // (PostgreSQL would be ready too soon to tell).
    const dataDir = mkdtempSync(join(tmpdir(), 'finops-cli-start-'));
    const child = spawn(process.execPath, [CLI, 'serve'], { env: baseEnv({ FINOPS_DATA_DIR: dataDir, PORT: String(await freePort()), LOG_LEVEL: 'info' }), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    try {
      await waitUntil(() => stdout.includes('"starting"'), 30_000);
      const exit = exited(child);
      child.kill('SIGTERM');
      expect(await exit).toBe(0);
      expect(stdout).not.toContain('"listening"');
      expect(stdout).not.toContain('cost sync');
    } finally {
      child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('a database it cannot use stops the start with one line for the operator, never the URL', async () => {
    const run = await runCli(['migrate'], '', { DATABASE_URL: 'postgres://admin:s3cret-password@127.0.0.1:1/finops' });
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe(
      'finops-bot: cannot reach the database (ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1); check DATABASE_URL and that the server is up.',
    );
  });

  it('with FINOPS_COST_SOURCE=aws, figures equal the Cost Explorer endpoint to the cent and asking again sends no request', async () => {
    const awsState = await openBotState('finops-cli-');
    const fake = await startFakeCostExplorer({ source: new DemoCostSource(), pageSize: 20_000 });
    try {
      const env = {
        ...awsState.env,
        FINOPS_COST_SOURCE: 'aws',
        AWS_ENDPOINT_URL_COST_EXPLORER: fake.url,
        AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'not-a-secret',
        AWS_REGION: 'eu-west-1',
      };
      const first = await runCli(['chat'], 'cost 30d by service\ncost 30d by team\nstatus\n', env);
      expect(first.code, first.stderr).toBe(0);
      const [byService, byTeam, status] = answers(first.stdout) as [string, string, string];
      const today = todayIn('UTC', new Date());
      const truth = await sourceTotalCents(new DemoCostSource(), { start: addDays(today, -30), end: syncTarget(new Date(), 6) });
      expect(totalOf(byService)).toBe(truth);
      expect(totalOf(byTeam)).toBe(truth);
      expect(byService).toContain('source: AWS Cost Explorer');
      const paid = () => fake.requests.GetCostAndUsage + fake.requests.GetCostForecast + fake.requests.GetDimensionValues + fake.requests.GetAnomalies + fake.requests.GetRightsizingRecommendation;
      const sent = paid();
      expect(fake.requests.GetCostAndUsage).toBeGreaterThan(0);
      expect(status).toContain(`Cost Explorer requests today (UTC)  ${sent} (USD ${(sent / 100).toFixed(2)})`);
      const again = await runCli(['chat'], 'cost 7d\ncost 90d by account\ntop 30d\nforecast\ntags\n', env);
      expect(again.code, again.stderr).toBe(0);
      const replies = answers(again.stdout);
      expect(replies).toHaveLength(5);
      // Cost Explorer's own month-end figure, fetched with the sync, stands beside the bot's.
      expect(replies[3]).toMatch(/^AWS Cost Explorer forecast\s+USD [\d,]+\.\d\d \(80% range USD [\d,]+\.\d\d – USD [\d,]+\.\d\d\)$/m);
      expect(paid()).toBe(sent);
    } finally {
      await fake.close();
      await awsState.dispose();
    }
  });
});

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
