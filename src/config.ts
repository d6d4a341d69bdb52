/**
 * Reads and checks the environment once, at start. A bad value stops the process with one
 * line that names the variable and the accepted form. Secrets are kept here and handed
 * only to the adapters that need them; nothing here is ever logged whole.
 */
import { resolve } from 'node:path';
import cron from 'node-cron';
import { z } from 'zod';
import { BASE_FACETS, type CostMetric, type Facet, METRIC_WORDS, COST_METRICS } from './core/cost-model.js';
import { isValidTimeZone } from './core/period.js';
import { type PersonRef, personRef } from './core/people.js';
import { type ModelPrice, parsePricePerMillion } from './core/ai-pricing.js';

/** The checked configuration. */
export interface Config {
  readonly port: number;
  readonly logLevel: string;
  readonly database:
    | { readonly kind: 'postgres'; readonly url: string; readonly iamAuth: boolean }
    | { readonly kind: 'pglite'; readonly dataDir: string };
  readonly costSource: 'aws' | 'demo';
  readonly teamTag: string;
  readonly facets: readonly Facet[];
  readonly defaultMetric: CostMetric;
  readonly timeZone: string;
  readonly dailyCron: string;
  readonly weeklyCron: string;
  readonly syncCron: string;
  readonly awsRegion: string | undefined;
  /** The payer account whose AWS Budgets `budget` lists beside ours (the `aws` source). */
  readonly awsAccountId: string | undefined;
  readonly bedrockModelId: string | undefined;
  /** AI answers: the operator's model price, per-person hourly limit and channel confinement. */
  readonly ai: {
    readonly price: ModelPrice | undefined;
    readonly answersPerHour: number;
    readonly channelTeams: ReadonlyMap<string, readonly string[]> | undefined;
  };
  /** Anomaly alerts: the bars (organisation-wide and per team) and where untagged spend's alerts go. */
  readonly anomalies: {
    readonly minImpactUsd: number;
    readonly minPercent: number;
    readonly teamThresholds: ReadonlyMap<string, { readonly minImpact: number; readonly minRelative: number }>;
    /** A Slack channel id. */
    readonly fallbackChannel: string | undefined;
  };
  /** Rightsizing approvals: who administers approvers, the configured approvers, the two-approver bar, expiry and execution. */
  readonly rightsizing: {
    /** Who may change approvers from chat: user ids, or group ids whose members may. */
    readonly admins: readonly PersonRef[];
    /** Approvers per team ('*' = every team), beside those added from chat. */
    readonly approvers: ReadonlyMap<string, readonly PersonRef[]>;
    /** Estimated USD a month from which a recommendation needs two approvers (a decimal string). */
    readonly twoApproverFromUsd: string;
    /** Days a recommendation may wait for a decision before it expires. */
    readonly expireDays: number;
    /** What an approval does: nothing, an EC2 dry run, or the change itself. */
    readonly execute: 'off' | 'dry-run' | 'apply';
  };
  readonly slack:
    | { readonly botToken: string; readonly signingSecret: string | undefined; readonly appToken: string | undefined; readonly apiUrl: string | undefined }
    | undefined;
  readonly teams:
    | { readonly appId: string; readonly appPassword: string | undefined; readonly tenantId: string | undefined; readonly appType: string }
    | undefined;
}

/** A configuration problem: the message is the one line printed before exiting. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const TAG_KEY = /^[\p{L}\p{N} _.:/=+\-@]{1,128}$/u;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

const schema = z.object({
  PORT: optionalText.pipe(
    z.string().regex(/^\d+$/, 'must be a port number from 1 to 65535').optional().refine((value) => value === undefined || (Number(value) >= 1 && Number(value) <= 65535), 'must be a port number from 1 to 65535'),
  ),
  LOG_LEVEL: optionalText.pipe(z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).optional()),
  DATABASE_URL: optionalText.pipe(
    z.string().regex(/^postgres(ql)?:\/\/\S+$/, 'must be a PostgreSQL URL like postgres://user:password@host:5432/dbname').optional(),
  ),
  DATABASE_IAM_AUTH: optionalText.pipe(z.enum(['true', 'false'], { error: 'must be `true` or `false`' }).optional()),
  FINOPS_DATA_DIR: optionalText,
  FINOPS_COST_SOURCE: optionalText.pipe(z.enum(['aws', 'demo'], { error: 'must be `aws` or `demo`' }).optional()),
  FINOPS_TEAM_TAG: optionalText.pipe(z.string().regex(TAG_KEY, 'must be a cost-allocation tag key such as Team').optional()),
  FINOPS_TAG_KEYS: optionalText,
  FINOPS_COST_METRIC: optionalText,
  FINOPS_TIMEZONE: optionalText.pipe(z.string().refine(isValidTimeZone, 'must be an IANA time zone such as UTC or Europe/Paris').optional()),
  FINOPS_DAILY_CRON: optionalText.pipe(cronExpression()),
  FINOPS_WEEKLY_CRON: optionalText.pipe(cronExpression()),
  FINOPS_SYNC_CRON: optionalText.pipe(cronExpression()),
  AWS_REGION: optionalText,
  FINOPS_AWS_ACCOUNT_ID: optionalText.pipe(z.string().regex(/^\d{12}$/, 'must be the 12-digit id of the account whose AWS Budgets to show').optional()),
  BEDROCK_MODEL_ID: optionalText.pipe(z.string().regex(/^[\w.:/-]{3,2048}$/, 'must be a Bedrock model id, inference profile id or ARN').optional()),
  BEDROCK_PRICE_PER_MTOK: optionalText.pipe(
    z.string().refine((value) => parsePricePerMillion(value) !== undefined, 'must be USD per million tokens as input,output[,cacheRead[,cacheWrite]] such as 3,15,0.3,3.75').optional(),
  ),
  FINOPS_AI_ANSWERS_PER_HOUR: optionalText.pipe(z.string().regex(/^\d{1,6}$/, 'must be a whole number of AI answers per person per hour').optional()),
  FINOPS_CHANNEL_TEAMS: optionalText,
  FINOPS_ANOMALY_MIN_USD: optionalText.pipe(z.string().regex(/^\d{1,9}(\.\d{1,2})?$/, 'must be the least USD a day above expected that counts, such as 50').optional()),
  FINOPS_ANOMALY_MIN_PERCENT: optionalText.pipe(z.string().regex(/^\d{1,4}(\.\d+)?$/, 'must be the least percent above expected that counts, such as 20').optional()),
  FINOPS_ANOMALY_TEAM_THRESHOLDS: optionalText,
  FINOPS_ANOMALY_FALLBACK_CHANNEL: optionalText.pipe(z.string().regex(/^[CGD][A-Z0-9]{6,}$/, 'must be a Slack channel id such as C0123ABCD').optional()),
  FINOPS_ADMINS: optionalText,
  FINOPS_APPROVERS: optionalText,
  FINOPS_RIGHTSIZING_TWO_APPROVER_USD: optionalText.pipe(
    z.string().regex(/^\d{1,12}(\.\d{1,2})?$/, 'must be the estimated USD a month from which a recommendation needs two approvers, such as 1000').optional(),
  ),
  FINOPS_RIGHTSIZING_EXPIRE_DAYS: optionalText.pipe(z.string().regex(/^[1-9]\d{0,2}$/, 'must be a whole number of days from 1 to 999').optional()),
  FINOPS_RIGHTSIZING_EXECUTE: optionalText.pipe(z.enum(['off', 'dry-run', 'apply'], { error: 'must be `off`, `dry-run` or `apply`' }).optional()),
  SLACK_BOT_TOKEN: optionalText.pipe(z.string().startsWith('xoxb-', 'must be a bot token starting with xoxb-').optional()),
  SLACK_SIGNING_SECRET: optionalText,
  SLACK_APP_TOKEN: optionalText.pipe(z.string().startsWith('xapp-', 'must be an app-level token starting with xapp-').optional()),
  SLACK_API_URL: optionalText.pipe(z.url({ error: 'must be a URL such as https://slack.com/api/' }).optional()),
  MICROSOFT_APP_ID: optionalText,
  MICROSOFT_APP_PASSWORD: optionalText,
  MICROSOFT_APP_TENANT_ID: optionalText,
  MICROSOFT_APP_TYPE: optionalText.pipe(
    z.enum(['MultiTenant', 'SingleTenant', 'UserAssignedMSI'], { error: 'must be MultiTenant, SingleTenant or UserAssignedMSI' }).optional(),
  ),
});

/** Reads the configuration from `env`; throws {@link ConfigError} with one line on a bad value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0]);
    const shown = variable.includes('SECRET') || variable.includes('TOKEN') || variable.includes('PASSWORD') || variable === 'DATABASE_URL' ? '' : ` (got ${quote(env[variable] ?? '')})`;
    throw new ConfigError(`${variable} ${issue.message}${shown}.`);
  }
  const e = parsed.data;
  const costSource = e.FINOPS_COST_SOURCE ?? 'demo';
  const teamTag = e.FINOPS_TEAM_TAG ?? 'Team';
  const extraTags = parseTagKeys(e.FINOPS_TAG_KEYS ?? (costSource === 'demo' ? 'Environment' : ''), teamTag);
  const slack = e.SLACK_BOT_TOKEN
    ? { botToken: e.SLACK_BOT_TOKEN, signingSecret: e.SLACK_SIGNING_SECRET, appToken: e.SLACK_APP_TOKEN, apiUrl: e.SLACK_API_URL }
    : undefined;
  if (slack && !slack.signingSecret && !slack.appToken) {
    throw new ConfigError(
      'SLACK_SIGNING_SECRET is required with SLACK_BOT_TOKEN (find it under Basic Information → App Credentials in your Slack app settings), or set SLACK_APP_TOKEN for Socket Mode.',
    );
  }
  if (!slack && e.SLACK_APP_TOKEN) throw new ConfigError('SLACK_BOT_TOKEN is required with SLACK_APP_TOKEN (the xoxb- token under OAuth & Permissions).');
  const appType = e.MICROSOFT_APP_TYPE ?? 'MultiTenant';
  const teams = e.MICROSOFT_APP_ID ? { appId: e.MICROSOFT_APP_ID, appPassword: e.MICROSOFT_APP_PASSWORD, tenantId: e.MICROSOFT_APP_TENANT_ID, appType } : undefined;
  if (teams && appType !== 'UserAssignedMSI' && !teams.appPassword) {
    throw new ConfigError('MICROSOFT_APP_PASSWORD is required with MICROSOFT_APP_ID (the client secret of the bot’s Azure app registration).');
  }
  if (teams && appType === 'SingleTenant' && !teams.tenantId) throw new ConfigError('MICROSOFT_APP_TENANT_ID is required when MICROSOFT_APP_TYPE is SingleTenant.');
  if (e.DATABASE_IAM_AUTH === 'true' && !e.DATABASE_URL) throw new ConfigError('DATABASE_IAM_AUTH needs DATABASE_URL (the RDS Proxy endpoint, without a password).');
  const minImpact = e.FINOPS_ANOMALY_MIN_USD === undefined ? 50 : Number(e.FINOPS_ANOMALY_MIN_USD);
  const minPercent = e.FINOPS_ANOMALY_MIN_PERCENT === undefined ? 20 : Number(e.FINOPS_ANOMALY_MIN_PERCENT);
  return {
    port: Number(e.PORT ?? 3000),
    logLevel: e.LOG_LEVEL ?? 'info',
    database: e.DATABASE_URL
      ? { kind: 'postgres', url: e.DATABASE_URL, iamAuth: e.DATABASE_IAM_AUTH === 'true' }
      : { kind: 'pglite', dataDir: resolve(cwd, e.FINOPS_DATA_DIR ?? '.finops') },
    costSource,
    teamTag,
    facets: [...BASE_FACETS, ...extraTags.map((key) => `tag:${key}` as const)],
    defaultMetric: parseMetric(e.FINOPS_COST_METRIC),
    timeZone: e.FINOPS_TIMEZONE ?? 'UTC',
    dailyCron: e.FINOPS_DAILY_CRON ?? '0 9 * * *',
    weeklyCron: e.FINOPS_WEEKLY_CRON ?? '0 9 * * 1',
    syncCron: e.FINOPS_SYNC_CRON ?? '17 * * * *',
    awsRegion: e.AWS_REGION,
    awsAccountId: e.FINOPS_AWS_ACCOUNT_ID,
    bedrockModelId: e.BEDROCK_MODEL_ID,
    ai: {
      price: e.BEDROCK_PRICE_PER_MTOK === undefined ? undefined : parsePricePerMillion(e.BEDROCK_PRICE_PER_MTOK),
      answersPerHour: e.FINOPS_AI_ANSWERS_PER_HOUR === undefined ? 30 : Number(e.FINOPS_AI_ANSWERS_PER_HOUR),
      channelTeams: e.FINOPS_CHANNEL_TEAMS === undefined ? undefined : parseChannelTeams(e.FINOPS_CHANNEL_TEAMS),
    },
    anomalies: {
      minImpactUsd: minImpact,
      minPercent,
      teamThresholds: parseTeamThresholds(e.FINOPS_ANOMALY_TEAM_THRESHOLDS ?? '', { minImpact, minRelative: minPercent / 100 }),
      fallbackChannel: e.FINOPS_ANOMALY_FALLBACK_CHANNEL,
    },
    rightsizing: {
      admins: parsePeople(e.FINOPS_ADMINS ?? '', 'FINOPS_ADMINS'),
      approvers: parseApprovers(e.FINOPS_APPROVERS ?? ''),
      twoApproverFromUsd: e.FINOPS_RIGHTSIZING_TWO_APPROVER_USD ?? '1000',
      expireDays: e.FINOPS_RIGHTSIZING_EXPIRE_DAYS === undefined ? 14 : Number(e.FINOPS_RIGHTSIZING_EXPIRE_DAYS),
      execute: e.FINOPS_RIGHTSIZING_EXECUTE ?? 'off',
    },
    slack,
    teams,
  };
}

/** Reads `U0ALICE1,S0PLATFORM`: user ids, and Slack user-group ids (S…) whose members count. */
function parsePeople(text: string, variable: string): PersonRef[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((id) => {
      const person = personRef(id);
      if (!person) throw new ConfigError(`${variable} must list Slack user ids (U0123ABCD), user-group ids (S0123ABCD) or Entra object ids, comma-separated (got ${quote(id)}).`);
      return person;
    });
}

/** Reads `payments=U0ALICE,S0PAYLEADS;*=U0FINOPS`: each team's approvers; `*` approves for every team. */
function parseApprovers(text: string): ReadonlyMap<string, readonly PersonRef[]> {
  const rules = new Map<string, readonly PersonRef[]>();
  for (const rule of text.split(';').map((part) => part.trim()).filter(Boolean)) {
    const match = /^(.+?)\s*=\s*(.+)$/.exec(rule);
    if (!match) throw new ConfigError(`FINOPS_APPROVERS must be rules like payments=U0123ABCD,S0123ABCD;*=U0456EFGH (got ${quote(rule)}).`);
    const [, rawTeam, list] = match as unknown as [string, string, string];
    const team = rawTeam.trim().toLowerCase() === 'untagged' ? '' : rawTeam.trim();
    if ([...rules.keys()].some((known) => known.toLowerCase() === team.toLowerCase())) throw new ConfigError(`FINOPS_APPROVERS lists ${quote(rawTeam.trim())} twice.`);
    rules.set(team, parsePeople(list, 'FINOPS_APPROVERS'));
  }
  return rules;
}

/**
 * Reads `payments=200/30;search=100`: each team's least USD a day above expected, and
 * optionally least percent above expected (the organisation's when left out).
 */
function parseTeamThresholds(text: string, defaults: { minImpact: number; minRelative: number }): ReadonlyMap<string, { minImpact: number; minRelative: number }> {
  const thresholds = new Map<string, { minImpact: number; minRelative: number }>();
  for (const rule of text.split(';').map((part) => part.trim()).filter(Boolean)) {
    const match = /^(.+?)\s*=\s*(\d{1,9}(?:\.\d{1,2})?)\s*(?:\/\s*(\d{1,4}(?:\.\d+)?))?$/.exec(rule);
    if (!match) throw new ConfigError(`FINOPS_ANOMALY_TEAM_THRESHOLDS must be rules like payments=200/30;search=100 (USD a day, then optionally percent) (got ${quote(rule)}).`);
    const [, rawTeam, usd, percent] = match as unknown as [string, string, string, string | undefined];
    const team = rawTeam.trim().toLowerCase() === 'untagged' ? '' : rawTeam.trim();
    if (thresholds.has(team)) throw new ConfigError(`FINOPS_ANOMALY_TEAM_THRESHOLDS lists ${quote(rawTeam.trim())} twice.`);
    thresholds.set(team, { minImpact: Number(usd), minRelative: percent === undefined ? defaults.minRelative : Number(percent) / 100 });
  }
  return thresholds;
}

function cronExpression() {
  return z
    .string()
    .refine((value) => cron.validate(value), 'must be a cron expression such as `0 9 * * *` (minute hour day month weekday)')
    .optional();
}

/**
 * Reads `C0PAYMENTS=payments;C0SEARCH=search,platform;*=none`: which teams each
 * conversation may see; `*` is every conversation not listed (DMs included), `untagged`
 * names spend without the team tag, `none` sees no team.
 */
function parseChannelTeams(text: string): ReadonlyMap<string, readonly string[]> {
  const rules = new Map<string, readonly string[]>();
  for (const rule of text.split(';').map((part) => part.trim()).filter(Boolean)) {
    const match = /^([\w*-]+)\s*=\s*(.+)$/.exec(rule);
    if (!match) throw new ConfigError(`FINOPS_CHANNEL_TEAMS must be rules like C0123ABC=payments,search;*=none (got ${quote(rule)}).`);
    const [, conversation, list] = match as unknown as [string, string, string];
    if (rules.has(conversation)) throw new ConfigError(`FINOPS_CHANNEL_TEAMS lists ${quote(conversation)} twice.`);
    const teams = list.trim().toLowerCase() === 'none' ? [] : list.split(',').map((team) => team.trim()).filter(Boolean).map((team) => (team.toLowerCase() === 'untagged' ? '' : team));
    rules.set(conversation, teams);
  }
  return rules;
}

function parseTagKeys(text: string, teamTag: string): string[] {
  const keys = text.split(',').map((key) => key.trim()).filter(Boolean);
  for (const key of keys) {
    if (!TAG_KEY.test(key)) throw new ConfigError(`FINOPS_TAG_KEYS must be a comma-separated list of tag keys (got ${quote(key)}).`);
  }
  return [...new Set(keys.filter((key) => key.toLowerCase() !== teamTag.toLowerCase()))];
}

function parseMetric(text: string | undefined): CostMetric {
  if (text === undefined) return 'UnblendedCost';
  const metric = METRIC_WORDS[text.toLowerCase()] ?? COST_METRICS.find((name) => name.toLowerCase() === text.toLowerCase());
  if (!metric) throw new ConfigError(`FINOPS_COST_METRIC must be unblended, amortized or net (got ${quote(text)}).`);
  return metric;
}

/** A value shown in an error: on one line (control characters escaped) and not too long. */
function quote(value: string): string {
  const escaped = JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value).slice(1, -1);
  return `\`${escaped}\``;
}
