/**
 * The digest promise as an operator sees it: three `finops-bot serve` processes share one
 * PostgreSQL database, the daily digest fires every few seconds, channels subscribe with
 * `/finops subscribe`, and each channel gets its digest once — message and chart — with the
 * figures `cost` gives for that day; a process killed and restarted posts nothing twice.
 * The embedded database belongs to one process, so this runs against PostgreSQL only.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeSlack, startFakeSlack } from '../support/fake-slack.js';
import { postToSlackRoute, slashCommand, TEST_BOT_TOKEN, slackTestEnv } from '../support/slack-requests.js';
import { freePort, waitUntil } from '../support/processes.js';
import { openBotState, testDatabaseKind } from '../support/test-database.js';
import { centsIn } from '../support/world.js';

const CLI = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));
const CHANNELS: readonly [string, string][] = [
  ['C0PROC0001', 'subscribe daily'],
  ['C0PROC0002', 'subscribe daily for payments'],
  ['C0PROC0003', 'subscribe daily for search'],
  ['C0PROC0004', 'subscribe daily for untagged'],
];

interface Instance {
  readonly child: ChildProcess;
  readonly port: number;
  output: string;
}

const onPostgres = testDatabaseKind === 'postgres';

describe.skipIf(!onPostgres)(
  onPostgres ? 'three serve processes sharing one PostgreSQL database' : 'skipped: processes can share only PostgreSQL (the embedded database belongs to one process); set DATABASE_URL',
  () => {
  let fake: FakeSlack;
  let state: Awaited<ReturnType<typeof openBotState>>;
  const instances: Instance[] = [];

  const start = async (): Promise<Instance> => {
    const port = await freePort();
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...state.env,
      PORT: String(port),
      LOG_LEVEL: 'info',
      ...slackTestEnv(fake.apiUrl),
      FINOPS_DAILY_CRON: '*/3 * * * * *',
    };
    const child = spawn(process.execPath, [CLI, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const instance: Instance = { child, port, output: '' };
    child.stdout!.on('data', (chunk: Buffer) => (instance.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (instance.output += chunk.toString()));
    instances.push(instance);
    await waitUntil(() => instance.output.includes('Slack: serving /slack/events'), 60_000);
    return instance;
  };

  beforeAll(async () => {
    fake = await startFakeSlack();
    state = await openBotState();
  });

  afterAll(async () => {
    for (const { child } of instances) child.kill('SIGKILL');
    await fake.close();
    await state.dispose();
  });

  // A team channel may also get a recent anomaly's alert (a message of its own): digests only here.
  const messagesTo = (channel: string) =>
    fake.callsTo('chat.postMessage').filter((call) => call.args.channel === channel && !String(call.args.text ?? '').startsWith('Cost anomaly'));
  const chartsTo = (channel: string) => fake.callsTo('files.completeUploadExternal').filter((call) => call.args.channel_id === channel);

  it('post each channel its daily digest once, text and chart, with the figures of `cost`, and nothing twice after a restart', async () => {
    const first = await start();
    // The first instance syncs the demo organisation; the others find it synced.
    await waitUntil(() => first.output.includes('cost sync finished'), 90_000);
    await start();
    await start();
    const url = (instance: Instance) => `http://127.0.0.1:${instance.port}/slack/events`;
    for (const [index, [channel, command]] of CHANNELS.entries()) {
      await postToSlackRoute(url(instances[index % 3]!), slashCommand({ text: command, responseUrl: fake.responseUrl(`sub-${channel}`), channelId: channel }));
      const [answer] = await fake.waitFor(() => fake.responsesTo(`sub-${channel}`).length > 0 && fake.responsesTo(`sub-${channel}`));
      expect(JSON.stringify(answer!.body)).toContain('This channel will receive');
    }
    // A new time zone's timer starts on the next sweep (every 15 s), then fires every 3 s.
    await fake.waitFor(() => CHANNELS.every(([channel]) => chartsTo(channel).length > 0), 90_000);
    await new Promise((resolve) => setTimeout(resolve, 7_000));
    for (const [channel] of CHANNELS) {
      expect(messagesTo(channel), channel).toHaveLength(1);
      expect(chartsTo(channel), channel).toHaveLength(1);
    }

    // The organisation digest's total is what `cost` says for the same day.
    const [orgDigest] = messagesTo('C0PROC0001');
    const blocks = JSON.stringify(orgDigest!.args.blocks);
    const day = /Daily digest · whole organisation · \w+ (\d+ \w+ \d{4})/.exec(blocks)?.[1];
    expect(day).toBeDefined();
    const period = /day \((\d{4}-\d{2}-\d{2})\)/.exec(blocks)?.[1];
    await postToSlackRoute(url(instances[1]!), slashCommand({ text: `cost ${period}..${period}`, responseUrl: fake.responseUrl('cost-day'), channelId: 'C0PROC0001' }));
    const [cost] = await fake.waitFor(() => fake.responsesTo('cost-day').length > 0 && fake.responsesTo('cost-day'));
    const totalOf = (text: string) => centsIn(/\*Total\*\\n([^"]+)/.exec(text)![1]!);
    expect(totalOf(blocks)).toBe(totalOf(JSON.stringify(cost!.body.blocks)));

    // Kill one instance outright and start another: the day's digests are not posted again.
    const victim = instances[0]!;
    victim.child.kill('SIGKILL');
    await new Promise((resolve) => victim.child.once('exit', resolve));
    await start();
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    for (const [channel] of CHANNELS) {
      expect(messagesTo(channel), channel).toHaveLength(1);
      expect(chartsTo(channel), channel).toHaveLength(1);
    }
    // Anomaly alerts (scanned by whichever instance started first, or after a restart) went out once each too.
    const alerts = fake.callsTo('chat.postMessage').filter((call) => String(call.args.text ?? '').startsWith('Cost anomaly'));
    const perAlert = new Map<string, number>();
    for (const alert of alerts) perAlert.set(`${String(alert.args.channel)} ${String(alert.args.text)}`, (perAlert.get(`${String(alert.args.channel)} ${String(alert.args.text)}`) ?? 0) + 1);
    expect([...perAlert].filter(([, count]) => count > 1)).toEqual([]);
    for (const instance of instances) expect(instance.output).not.toContain(TEST_BOT_TOKEN);
  }, 240_000);
});

