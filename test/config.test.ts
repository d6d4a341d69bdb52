import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

const CWD = resolve('/srv/finops-bot');

/** Loads a config that must fail; returns the one-line message after checking its shape. */
function configErrorFor(env: NodeJS.ProcessEnv): string {
  let caught: unknown;
  try {
    loadConfig(env, CWD);
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected ${JSON.stringify(env)} to be rejected`).toBeInstanceOf(ConfigError);
  const message = (caught as ConfigError).message;
  expect(message).not.toMatch(/[\r\n]/);
  expect(message.trim()).toBe(message);
  expect(message.length).toBeGreaterThan(0);
  return message;
}

describe('loadConfig defaults', () => {
  it('with an empty environment: port 3000, demo source, team tag Team, UTC, default schedules', () => {
    const config = loadConfig({}, CWD);

    expect(config.port).toBe(3000);
    expect(config.costSource).toBe('demo');
    expect(config.teamTag).toBe('Team');
    expect(config.timeZone).toBe('UTC');
    expect(config.dailyCron).toBe('0 9 * * *');
    expect(config.weeklyCron).toBe('0 9 * * 1');
    expect(config.logLevel).toBe('info');
    expect(config.defaultMetric).toBe('UnblendedCost');
    expect(config.slack).toBeUndefined();
    expect(config.teams).toBeUndefined();
  });

  it('uses an embedded PGlite database under <cwd>/.finops', () => {
    const config = loadConfig({}, CWD);

    expect(config.database).toEqual({ kind: 'pglite', dataDir: join(CWD, '.finops') });
  });

  it('demo source adds the tag:Environment facet next to the base facets', () => {
    const config = loadConfig({}, CWD);

    expect(config.facets).toEqual(['service', 'account', 'region', 'usage-type', 'tag:Environment']);
  });

  it('aws source adds no tag facet unless FINOPS_TAG_KEYS asks for one', () => {
    const plain = loadConfig({ FINOPS_COST_SOURCE: 'aws' }, CWD);
    const tagged = loadConfig({ FINOPS_COST_SOURCE: 'aws', FINOPS_TAG_KEYS: 'CostCenter' }, CWD);

    expect(plain.costSource).toBe('aws');
    expect(plain.facets).toEqual(['service', 'account', 'region', 'usage-type']);
    expect(plain.facets.some((facet) => facet.startsWith('tag:'))).toBe(false);
    expect(tagged.facets).toContain('tag:CostCenter');
    expect(tagged.facets).not.toContain('tag:Environment');
  });

  it('treats blank values as unset', () => {
    const config = loadConfig({ PORT: '', FINOPS_COST_SOURCE: '  ', FINOPS_TIMEZONE: '' }, CWD);

    expect(config.port).toBe(3000);
    expect(config.costSource).toBe('demo');
    expect(config.timeZone).toBe('UTC');
  });
});

describe('loadConfig accepted values', () => {
  it('FINOPS_TAG_KEYS is trimmed, and the team tag is not added twice', () => {
    const config = loadConfig({ FINOPS_TAG_KEYS: 'Environment, CostCenter,Team' }, CWD);

    expect(config.facets).toContain('tag:Environment');
    expect(config.facets).toContain('tag:CostCenter');
    expect(config.facets).not.toContain('tag:Team');
    expect(config.facets.filter((facet) => facet === 'tag:Environment')).toHaveLength(1);
  });

  it('FINOPS_TAG_KEYS skips the team tag whatever FINOPS_TEAM_TAG names it', () => {
    const config = loadConfig({ FINOPS_TEAM_TAG: 'Owner', FINOPS_TAG_KEYS: 'owner,Team' }, CWD);

    expect(config.teamTag).toBe('Owner');
    expect(config.facets).toContain('tag:Team');
    expect(config.facets).not.toContain('tag:owner');
    expect(config.facets).not.toContain('tag:Owner');
  });

  it('FINOPS_COST_METRIC=amortized selects AmortizedCost', () => {
    expect(loadConfig({ FINOPS_COST_METRIC: 'amortized' }, CWD).defaultMetric).toBe('AmortizedCost');
    expect(loadConfig({ FINOPS_COST_METRIC: 'net' }, CWD).defaultMetric).toBe('NetUnblendedCost');
  });

  it('DATABASE_URL selects PostgreSQL, with IAM auth only when DATABASE_IAM_AUTH=true', () => {
    const url = 'postgres://finops@proxy.example.internal:5432/finops';

    expect(loadConfig({ DATABASE_URL: url }, CWD).database).toEqual({ kind: 'postgres', url, iamAuth: false });
    expect(loadConfig({ DATABASE_URL: url, DATABASE_IAM_AUTH: 'true' }, CWD).database).toEqual({ kind: 'postgres', url, iamAuth: true });
  });

  it('a relative FINOPS_DATA_DIR resolves against cwd; an absolute one is kept', () => {
    expect(loadConfig({ FINOPS_DATA_DIR: 'var/data' }, CWD).database).toEqual({ kind: 'pglite', dataDir: join(CWD, 'var', 'data') });
    const absolute = resolve('/var/lib/finops');
    expect(loadConfig({ FINOPS_DATA_DIR: absolute }, CWD).database).toEqual({ kind: 'pglite', dataDir: absolute });
  });

  it('reads port, time zone, schedules and log level when they are valid', () => {
    const config = loadConfig(
      { PORT: '8080', FINOPS_TIMEZONE: 'Europe/Paris', FINOPS_DAILY_CRON: '30 7 * * *', FINOPS_WEEKLY_CRON: '0 8 * * 5', LOG_LEVEL: 'debug' },
      CWD,
    );

    expect(config.port).toBe(8080);
    expect(config.timeZone).toBe('Europe/Paris');
    expect(config.dailyCron).toBe('30 7 * * *');
    expect(config.weeklyCron).toBe('0 8 * * 5');
    expect(config.logLevel).toBe('debug');
  });

  it('Slack over HTTP needs the bot token and signing secret; Socket Mode needs the app token instead', () => {
    const http = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'shh' }, CWD);
    const socket = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' }, CWD);

    expect(http.slack).toMatchObject({ botToken: 'xoxb-1', signingSecret: 'shh', appToken: undefined });
    expect(socket.slack).toMatchObject({ botToken: 'xoxb-1', signingSecret: undefined, appToken: 'xapp-1' });
  });

  it('Teams defaults to MultiTenant and accepts SingleTenant with a tenant id', () => {
    const multi = loadConfig({ MICROSOFT_APP_ID: 'app', MICROSOFT_APP_PASSWORD: 'pw' }, CWD);
    const single = loadConfig(
      { MICROSOFT_APP_ID: 'app', MICROSOFT_APP_PASSWORD: 'pw', MICROSOFT_APP_TYPE: 'SingleTenant', MICROSOFT_APP_TENANT_ID: 'tenant' },
      CWD,
    );

    expect(multi.teams).toMatchObject({ appId: 'app', appType: 'MultiTenant' });
    expect(single.teams).toMatchObject({ appId: 'app', appType: 'SingleTenant', tenantId: 'tenant' });
  });
});

describe('loadConfig rejects a bad value with one line naming the variable and the accepted form', () => {
  const cases: ReadonlyArray<{ env: NodeJS.ProcessEnv; variable: string; accepted: RegExp }> = [
    { env: { FINOPS_COST_SOURCE: 'bogus' }, variable: 'FINOPS_COST_SOURCE', accepted: /aws.*demo/ },
    { env: { FINOPS_TIMEZONE: 'Mars/Base' }, variable: 'FINOPS_TIMEZONE', accepted: /IANA time zone/ },
    { env: { FINOPS_DAILY_CRON: 'every day' }, variable: 'FINOPS_DAILY_CRON', accepted: /cron expression.*0 9 \* \* \*/ },
    { env: { FINOPS_WEEKLY_CRON: '61 * * * *' }, variable: 'FINOPS_WEEKLY_CRON', accepted: /cron expression/ },
    { env: { PORT: '70000' }, variable: 'PORT', accepted: /1 to 65535/ },
    { env: { PORT: 'abc' }, variable: 'PORT', accepted: /1 to 65535/ },
    { env: { PORT: '0' }, variable: 'PORT', accepted: /1 to 65535/ },
    { env: { DATABASE_URL: 'mysql://x' }, variable: 'DATABASE_URL', accepted: /postgres:\/\// },
    { env: { DATABASE_IAM_AUTH: 'yes' }, variable: 'DATABASE_IAM_AUTH', accepted: /true.*false/ },
    { env: { LOG_LEVEL: 'loud' }, variable: 'LOG_LEVEL', accepted: /info/ },
    { env: { FINOPS_COST_METRIC: 'blended' }, variable: 'FINOPS_COST_METRIC', accepted: /unblended, amortized or net/ },
    { env: { SLACK_BOT_TOKEN: 'abc' }, variable: 'SLACK_BOT_TOKEN', accepted: /xoxb-/ },
    { env: { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xoxp-1' }, variable: 'SLACK_APP_TOKEN', accepted: /xapp-/ },
    { env: { SLACK_APP_TOKEN: 'xapp-1' }, variable: 'SLACK_BOT_TOKEN', accepted: /xoxb-/ },
    { env: { MICROSOFT_APP_ID: 'app' }, variable: 'MICROSOFT_APP_PASSWORD', accepted: /MICROSOFT_APP_ID/ },
    { env: { MICROSOFT_APP_ID: 'app', MICROSOFT_APP_TYPE: 'Whatever' }, variable: 'MICROSOFT_APP_TYPE', accepted: /SingleTenant/ },
    {
      env: { MICROSOFT_APP_ID: 'app', MICROSOFT_APP_PASSWORD: 'pw', MICROSOFT_APP_TYPE: 'SingleTenant' },
      variable: 'MICROSOFT_APP_TENANT_ID',
      accepted: /SingleTenant/,
    },
    { env: { DATABASE_IAM_AUTH: 'true' }, variable: 'DATABASE_IAM_AUTH', accepted: /DATABASE_URL/ },
    { env: { FINOPS_TAG_KEYS: 'Environment,Bad!Key' }, variable: 'FINOPS_TAG_KEYS', accepted: /comma-separated list of tag keys/ },
    { env: { FINOPS_TEAM_TAG: 'bad!' }, variable: 'FINOPS_TEAM_TAG', accepted: /tag key/ },
  ];

  it.each(cases)('$variable for $env', ({ env, variable, accepted }) => {
    const message = configErrorFor(env);

    expect(message.startsWith(variable)).toBe(true);
    expect(message).toMatch(accepted);
  });

  it('echoes a non-secret bad value so the operator sees what was read', () => {
    expect(configErrorFor({ FINOPS_TIMEZONE: 'Mars/Base' })).toContain('Mars/Base');
    expect(configErrorFor({ FINOPS_TAG_KEYS: 'Environment,Bad!Key' })).toContain('Bad!Key');
  });

  it('SLACK_BOT_TOKEN without a signing secret or app token says where to find the secret', () => {
    const message = configErrorFor({ SLACK_BOT_TOKEN: 'xoxb-1' });

    expect(message).toContain('SLACK_SIGNING_SECRET');
    expect(message).toContain('SLACK_BOT_TOKEN');
    expect(message).toMatch(/Basic Information/);
    expect(message).toMatch(/Slack app settings/);
    expect(message).toContain('SLACK_APP_TOKEN');
  });

  it('MICROSOFT_APP_ID without MICROSOFT_APP_PASSWORD names both', () => {
    const message = configErrorFor({ MICROSOFT_APP_ID: 'app' });

    expect(message).toContain('MICROSOFT_APP_PASSWORD');
    expect(message).toContain('MICROSOFT_APP_ID');
  });
});

describe('loadConfig never echoes a secret', () => {
  it('a bad SLACK_BOT_TOKEN is not repeated', () => {
    const secret = 'xoxp-123456789012-SECRETVALUE';
    const message = configErrorFor({ SLACK_BOT_TOKEN: secret });

    expect(message).toContain('SLACK_BOT_TOKEN');
    expect(message).not.toContain(secret);
    expect(message).not.toContain('SECRETVALUE');
  });

  it('a bad SLACK_APP_TOKEN is not repeated', () => {
    const secret = 'xoxe-1-APPTOKENSECRET';
    const message = configErrorFor({ SLACK_BOT_TOKEN: 'xoxb-ok', SLACK_APP_TOKEN: secret });

    expect(message).toContain('SLACK_APP_TOKEN');
    expect(message).not.toContain(secret);
    expect(message).not.toContain('APPTOKENSECRET');
  });

  it('a bad DATABASE_URL (which carries a password) is not repeated', () => {
    const secret = 'mysql://admin:hunter2-db-password@db.example.internal:3306/finops';
    const message = configErrorFor({ DATABASE_URL: secret });

    expect(message).toContain('DATABASE_URL');
    expect(message).not.toContain(secret);
    expect(message).not.toContain('hunter2-db-password');
  });

  it('secrets given next to another bad value are not repeated either', () => {
    const message = configErrorFor({
      SLACK_BOT_TOKEN: 'xoxb-TOKENSECRET',
      SLACK_SIGNING_SECRET: 'SIGNINGSECRET',
      MICROSOFT_APP_ID: 'app',
      MICROSOFT_APP_PASSWORD: 'APPPASSWORD',
      PORT: 'abc',
    });

    expect(message).toMatch(/^PORT /);
    for (const secret of ['TOKENSECRET', 'SIGNINGSECRET', 'APPPASSWORD']) expect(message).not.toContain(secret);
  });
});

describe('configuration errors stay on one line whatever the value holds', () => {
  it.each([
    ['FINOPS_TIMEZONE', 'UTC\nx'],
    ['LOG_LEVEL', 'info\nFAKE LOG LINE'],
    ['FINOPS_TAG_KEYS', 'Cost\nCenter'],
    ['FINOPS_TEAM_TAG', 'Te\tam'],
  ])('%s with a control character is refused on one line', (variable, value) => {
    let message = '';
    try {
      loadConfig({ [variable]: value }, '/srv/bot');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as ConfigError).message;
    }
    expect(message).toMatch(new RegExp(`^${variable} `));
    expect(message).not.toMatch(/[\n\r\t]/);
  });
});

describe('rightsizing configuration', () => {
  it('defaults: execution off, 14 days to decide, two approvers from USD 1000, nobody named', () => {
    const { rightsizing } = loadConfig({}, CWD);

    expect(rightsizing.execute).toBe('off');
    expect(rightsizing.expireDays).toBe(14);
    expect(rightsizing.twoApproverFromUsd).toBe('1000');
    expect(rightsizing.admins).toEqual([]);
    expect(rightsizing.approvers.size).toBe(0);
  });

  it('blank values are unset', () => {
    const { rightsizing } = loadConfig({ FINOPS_ADMINS: ' ', FINOPS_APPROVERS: '', FINOPS_RIGHTSIZING_EXECUTE: '', FINOPS_RIGHTSIZING_EXPIRE_DAYS: ' ', FINOPS_RIGHTSIZING_TWO_APPROVER_USD: '' }, CWD);

    expect(rightsizing).toMatchObject({ execute: 'off', expireDays: 14, twoApproverFromUsd: '1000', admins: [] });
    expect(rightsizing.approvers.size).toBe(0);
  });

  it('reads admins and approvers: users, user groups (S…) and Entra object ids, `*` for every team and `untagged` for untagged instances', () => {
    const entra = '0F8FAD5B-D9CB-469F-A165-70867728950E';
    const { rightsizing } = loadConfig(
      {
        FINOPS_ADMINS: ' U0ADMIN01 , S0FINOPS1',
        FINOPS_APPROVERS: `payments=U0ALICE01,S0PAYLEADS ; *=U0FINOPS1;untagged=W0PLATFORM;search=${entra}`,
      },
      CWD,
    );

    expect(rightsizing.admins).toEqual([
      { kind: 'user', id: 'U0ADMIN01' },
      { kind: 'group', id: 'S0FINOPS1' },
    ]);
    expect([...rightsizing.approvers]).toEqual([
      ['payments', [{ kind: 'user', id: 'U0ALICE01' }, { kind: 'group', id: 'S0PAYLEADS' }]],
      ['*', [{ kind: 'user', id: 'U0FINOPS1' }]],
      ['', [{ kind: 'user', id: 'W0PLATFORM' }]],
      ['search', [{ kind: 'user', id: entra.toLowerCase() }]],
    ]);
  });

  it('reads execution, days to decide and the two-approver bar when they are valid', () => {
    expect(loadConfig({ FINOPS_RIGHTSIZING_EXECUTE: 'dry-run' }, CWD).rightsizing.execute).toBe('dry-run');
    expect(loadConfig({ FINOPS_RIGHTSIZING_EXECUTE: 'apply' }, CWD).rightsizing.execute).toBe('apply');
    expect(loadConfig({ FINOPS_RIGHTSIZING_EXPIRE_DAYS: '1' }, CWD).rightsizing.expireDays).toBe(1);
    expect(loadConfig({ FINOPS_RIGHTSIZING_EXPIRE_DAYS: '999' }, CWD).rightsizing.expireDays).toBe(999);
    expect(loadConfig({ FINOPS_RIGHTSIZING_TWO_APPROVER_USD: '2500.50' }, CWD).rightsizing.twoApproverFromUsd).toBe('2500.50');
    expect(loadConfig({ FINOPS_RIGHTSIZING_TWO_APPROVER_USD: '250' }, CWD).rightsizing.twoApproverFromUsd).toBe('250');
  });

  it.each<{ env: NodeJS.ProcessEnv; variable: string; accepted: RegExp; echoed: string }>([
    { env: { FINOPS_APPROVERS: 'payments' }, variable: 'FINOPS_APPROVERS', accepted: /rules like payments=U0123ABCD,S0123ABCD;\*=U0456EFGH/, echoed: 'payments' },
    { env: { FINOPS_APPROVERS: 'payments=' }, variable: 'FINOPS_APPROVERS', accepted: /rules like payments=/, echoed: 'payments=' },
    { env: { FINOPS_APPROVERS: 'payments=@alice' }, variable: 'FINOPS_APPROVERS', accepted: /Slack user ids \(U0123ABCD\), user-group ids \(S0123ABCD\) or Entra object ids/, echoed: '@alice' },
    { env: { FINOPS_APPROVERS: 'payments=U0ALICE01;search=U0DAVE001;payments=U0BOB0001' }, variable: 'FINOPS_APPROVERS', accepted: /lists .*payments.* twice/, echoed: 'payments' },
    { env: { FINOPS_ADMINS: 'U0ADMIN01,alice' }, variable: 'FINOPS_ADMINS', accepted: /Slack user ids \(U0123ABCD\)/, echoed: 'alice' },
    { env: { FINOPS_ADMINS: '<@U0ADMIN01>' }, variable: 'FINOPS_ADMINS', accepted: /comma-separated/, echoed: '<@U0ADMIN01>' },
    { env: { FINOPS_RIGHTSIZING_EXECUTE: 'yes' }, variable: 'FINOPS_RIGHTSIZING_EXECUTE', accepted: /`off`, `dry-run` or `apply`/, echoed: 'yes' },
    { env: { FINOPS_RIGHTSIZING_EXECUTE: 'dryrun' }, variable: 'FINOPS_RIGHTSIZING_EXECUTE', accepted: /`off`, `dry-run` or `apply`/, echoed: 'dryrun' },
    { env: { FINOPS_RIGHTSIZING_EXPIRE_DAYS: '0' }, variable: 'FINOPS_RIGHTSIZING_EXPIRE_DAYS', accepted: /whole number of days from 1 to 999/, echoed: '0' },
    { env: { FINOPS_RIGHTSIZING_EXPIRE_DAYS: '14d' }, variable: 'FINOPS_RIGHTSIZING_EXPIRE_DAYS', accepted: /whole number of days from 1 to 999/, echoed: '14d' },
    { env: { FINOPS_RIGHTSIZING_EXPIRE_DAYS: '1000' }, variable: 'FINOPS_RIGHTSIZING_EXPIRE_DAYS', accepted: /whole number of days from 1 to 999/, echoed: '1000' },
    { env: { FINOPS_RIGHTSIZING_TWO_APPROVER_USD: '1,000' }, variable: 'FINOPS_RIGHTSIZING_TWO_APPROVER_USD', accepted: /estimated USD a month .* such as 1000/, echoed: '1,000' },
  ])('refuses $env on one line naming $variable', ({ env, variable, accepted, echoed }) => {
    const message = configErrorFor(env);

    expect(message.startsWith(`${variable} `)).toBe(true);
    expect(message).toMatch(accepted);
    expect(message).toContain(echoed);
  });
});
