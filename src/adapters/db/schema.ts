/**
 * Database schema (drizzle). Migrations in ./migrations are generated from this file with
 * `npm run db:generate` and applied at start and by `finops-bot migrate`, on PostgreSQL
 * and PGlite alike.
 */
import { sql } from 'drizzle-orm';
import { bigint, boolean, check, date, doublePrecision, index, integer, jsonb, numeric, pgTable, primaryKey, serial, text, timestamp, unique, uniqueIndex } from 'drizzle-orm/pg-core';

/** Exact amounts: Cost Explorer reports 10 fractional digits. */
const amount = (name: string) => numeric(name, { precision: 24, scale: 10 }).notNull();

/**
 * Daily cost facts, one row per (facet, day, team, facet value). Each facet splits every
 * team's daily spend by one dimension; see README "Data grain".
 */
export const costFacts = pgTable(
  'cost_facts',
  {
    facet: text('facet').notNull(),
    usageDate: date('usage_date', { mode: 'string' }).notNull(),
    team: text('team').notNull(),
    value: text('value').notNull(),
    currency: text('currency').notNull(),
    unblendedCost: amount('unblended_cost'),
    amortizedCost: amount('amortized_cost'),
    netUnblendedCost: amount('net_unblended_cost'),
    estimated: boolean('estimated').notNull().default(false),
  },
  (table) => [
    primaryKey({ columns: [table.facet, table.usageDate, table.team, table.value] }),
    index('cost_facts_team_idx').on(table.facet, table.team, table.usageDate),
    // Only the last few days are ever estimated: a tiny index answers "estimated from when?".
    index('cost_facts_estimated_idx').on(table.facet, table.usageDate).where(sql`${table.estimated}`),
  ],
);

/**
 * Daily totals of each facet without the team split: by facet value and by team. They are
 * rebuilt from `cost_facts` in the same transaction whenever a range is replaced, so
 * organisation-wide questions read one row per value and day instead of one per team too.
 */
export const costRollups = pgTable(
  'cost_rollups',
  {
    facet: text('facet').notNull(),
    grouping: text('grouping').notNull(),
    usageDate: date('usage_date', { mode: 'string' }).notNull(),
    key: text('key').notNull(),
    currency: text('currency').notNull(),
    unblendedCost: amount('unblended_cost'),
    amortizedCost: amount('amortized_cost'),
    netUnblendedCost: amount('net_unblended_cost'),
  },
  (table) => [primaryKey({ columns: [table.facet, table.grouping, table.usageDate, table.key] })],
);

/** Per-facet sync progress: how far the data goes and how the last attempt went. */
export const syncState = pgTable('sync_state', {
  facet: text('facet').primaryKey(),
  syncedUntil: date('synced_until', { mode: 'string' }),
  syncedFrom: date('synced_from', { mode: 'string' }),
  failures: integer('failures').notNull().default(0),
  lastAttemptAt: timestamp('last_attempt_at', { withTimezone: true }),
  lastSuccessAt: timestamp('last_success_at', { withTimezone: true }),
  lastError: text('last_error'),
});

/** Ledger of paid API requests (Cost Explorer charges USD 0.01 for each). */
export const apiRequests = pgTable(
  'api_requests',
  {
    id: serial('id').primaryKey(),
    requestedAt: timestamp('requested_at', { withTimezone: true }).notNull().default(sql`now()`),
    operation: text('operation').notNull(),
    attempts: integer('attempts').notNull(),
    outcome: text('outcome').notNull(),
    detail: text('detail').notNull(),
  },
  (table) => [index('api_requests_requested_at_idx').on(table.requestedAt)],
);

/**
 * Cluster-wide leases for jobs that must run on one instance at a time (sync, digests).
 * A lease expires on its own, so a crashed instance never blocks the others for long.
 * Leases are rows rather than advisory locks because RDS Proxy pins sessions that take
 * session-level locks.
 */
export const jobLeases = pgTable('job_leases', {
  name: text('name').primaryKey(),
  holder: text('holder').notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
});

/** Names of linked accounts, refreshed by the daily sync. */
export const accountNames = pgTable('account_names', {
  accountId: text('account_id').primaryKey(),
  name: text('name').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().default(sql`now()`),
});

/**
 * The cost source's own forecast of the rest of a month (AWS Cost Explorer's, fetched once a
 * day), kept to show beside the bot's forecast.
 */
export const sourceForecasts = pgTable(
  'source_forecasts',
  {
    metric: text('metric').notNull(),
    periodStart: date('period_start', { mode: 'string' }).notNull(),
    periodEnd: date('period_end', { mode: 'string' }).notNull(),
    currency: text('currency').notNull(),
    mean: amount('mean'),
    low: amount('low'),
    high: amount('high'),
    fetchedAt: timestamp('fetched_at', { withTimezone: true }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.metric, table.periodStart] })],
);

/**
 * Inbound deliveries already taken by some instance: Slack event ids, slash-command and
 * button trigger ids, Teams activity ids. A retry of the same delivery finds its key here
 * and is dropped, whichever instance it lands on and even after a restart. Old rows are
 * pruned: Slack stops retrying within minutes.
 */
export const inboundDeliveries = pgTable(
  'inbound_deliveries',
  {
    key: text('key').primaryKey(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().default(sql`now()`),
  },
  (table) => [index('inbound_deliveries_received_at_idx').on(table.receivedAt)],
);

/**
 * Digest subscriptions: a conversation (Slack channel, Teams conversation) receives the daily
 * or weekly digest of one team, or of the whole organisation when `team` is null ('' is
 * spend without the team tag). One per conversation, cadence and team.
 */
export const digestSubscriptions = pgTable(
  'digest_subscriptions',
  {
    id: serial('id').primaryKey(),
    platform: text('platform').notNull(),
    conversationId: text('conversation_id').notNull(),
    cadence: text('cadence').notNull(),
    team: text('team'),
    timeZone: text('time_zone').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().default(sql`now()`),
    /** The last delivery problem that needs a person (bot removed, channel archived), until a delivery succeeds. */
    problem: text('problem'),
    problemAt: timestamp('problem_at', { withTimezone: true }),
  },
  (table) => [unique('digest_subscriptions_target_key').on(table.platform, table.conversationId, table.cadence, table.team).nullsNotDistinct()],
);

/**
 * One digest (subscription, period) and how far its delivery got: planned `pending`, taken
 * by an instance under a lease (`claimed`), `message_posted` (with the message id, so a
 * retry only adds the chart), `posted`, or `failed` (retried while `attempts` allow). The
 * primary key makes "each digest once" a property of the table, across instances.
 */
export const digestDeliveries = pgTable(
  'digest_deliveries',
  {
    subscriptionId: integer('subscription_id')
      .notNull()
      .references(() => digestSubscriptions.id, { onDelete: 'cascade' }),
    periodKey: text('period_key').notNull(),
    status: text('status').notNull(),
    attempts: integer('attempts').notNull().default(0),
    claimedBy: text('claimed_by'),
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
    messageId: text('message_id'),
    chartId: text('chart_id'),
    error: text('error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().default(sql`now()`),
    postedAt: timestamp('posted_at', { withTimezone: true }),
  },
  (table) => [primaryKey({ columns: [table.subscriptionId, table.periodKey] }), index('digest_deliveries_status_idx').on(table.status, table.leaseUntil)],
);

/**
 * The memory of AI conversations: one row per user question or bot answer, as text, keyed by
 * Slack thread or Teams conversation so any instance can answer a follow-up. The identity
 * orders the turns of a conversation; turns older than 30 days are pruned.
 */
export const aiConversationTurns = pgTable(
  'ai_conversation_turns',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    conversationKey: text('conversation_key').notNull(),
    role: text('role').notNull(),
    text: text('text').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
  },
  (table) => [
    index('ai_conversation_turns_key_idx').on(table.conversationKey, table.id),
    index('ai_conversation_turns_at_idx').on(table.at),
    check('ai_conversation_turns_role_check', sql`${table.role} in ('user', 'assistant')`),
  ],
);

/**
 * The bot's own LLM spend: one row per AI answer, with its tokens and its price in
 * nano-dollars (null when the model's price is unknown). Per-user rate limits count rows by
 * requester; the spend report sums them by day and model.
 */
export const aiUsage = pgTable(
  'ai_usage',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    at: timestamp('at', { withTimezone: true }).notNull(),
    model: text('model').notNull(),
    requester: text('requester').notNull(),
    inputTokens: integer('input_tokens').notNull(),
    outputTokens: integer('output_tokens').notNull(),
    cacheReadTokens: integer('cache_read_tokens').notNull(),
    cacheWriteTokens: integer('cache_write_tokens').notNull(),
    /** Exact: read back as a bigint, never a float. */
    costNanoUsd: bigint('cost_nano_usd', { mode: 'bigint' }),
    toolCalls: integer('tool_calls').notNull(),
    outcome: text('outcome').notNull(),
  },
  (table) => [
    index('ai_usage_requester_at_idx').on(table.requester, table.at),
    index('ai_usage_at_idx').on(table.at),
    check('ai_usage_outcome_check', sql`${table.outcome} in ('answered', 'fallback')`),
  ],
);

/** An anomaly's scope as stored in `anomalies.scope`: the AnomalyScope as it was detected. */
export interface StoredScope {
  readonly kind: string;
  readonly team?: string;
  readonly value?: string;
}

/** An anomaly driver as stored in `anomalies.drivers`: the impact as exact decimal text, never a JSON number. */
export interface StoredDriver {
  readonly dimension: string;
  readonly key: string;
  readonly impact: string;
}

/**
 * Detected cost anomalies, shared by every instance: one row per event, keyed by the
 * detector's identity so a later scan updates it instead of adding a second one, and with
 * what people decided about it (status). `version` grows whenever anything an alert shows
 * changes, so alert messages behind it are updated in place. Amounts are exact numerics;
 * `team` null means no team can be named, '' is spend without the team tag.
 */
export const anomalies = pgTable(
  'anomalies',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    key: text('key').notNull().unique('anomalies_key_key'),
    scope: jsonb('scope').$type<StoredScope>().notNull(),
    team: text('team'),
    firstDay: date('first_day', { mode: 'string' }).notNull(),
    lastDay: date('last_day', { mode: 'string' }).notNull(),
    active: boolean('active').notNull(),
    expected: amount('expected'),
    actual: amount('actual'),
    impact: amount('impact'),
    severity: text('severity').notNull(),
    score: doublePrecision('score').notNull(),
    currency: text('currency').notNull(),
    drivers: jsonb('drivers').$type<StoredDriver[]>().notNull(),
    source: text('source').notNull(),
    awsAnomalyId: text('aws_anomaly_id'),
    status: text('status').notNull().default('open'),
    statusBy: text('status_by'),
    statusAt: timestamp('status_at', { withTimezone: true }),
    snoozedUntil: timestamp('snoozed_until', { withTimezone: true }),
    version: integer('version').notNull().default(1),
    detectedAt: timestamp('detected_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (table) => [
    index('anomalies_last_day_idx').on(table.lastDay),
    index('anomalies_team_last_day_idx').on(table.team, table.lastDay),
    check('anomalies_severity_check', sql`${table.severity} in ('low', 'medium', 'high')`),
    check('anomalies_source_check', sql`${table.source} in ('finops', 'aws', 'both')`),
    check('anomalies_status_check', sql`${table.status} in ('open', 'acknowledged', 'snoozed', 'dismissed')`),
  ],
);

/**
 * Where each anomaly's alert goes and how far its delivery got: one row per (anomaly,
 * conversation), so "each alert once" is a property of the table across instances. A row
 * whose `posted_version` is behind its anomaly's `version` has something to post or update;
 * an instance takes it under a lease (`claimed_by`, `lease_until`). After a passing failure
 * `lease_until` is kept, with no holder, as the earliest time of the next attempt.
 */
export const anomalyAlerts = pgTable(
  'anomaly_alerts',
  {
    anomalyId: bigint('anomaly_id', { mode: 'number' })
      .notNull()
      .references(() => anomalies.id, { onDelete: 'cascade' }),
    platform: text('platform').notNull(),
    conversationId: text('conversation_id').notNull(),
    messageId: text('message_id'),
    postedVersion: integer('posted_version').notNull().default(0),
    attempts: integer('attempts').notNull().default(0),
    claimedBy: text('claimed_by'),
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
    error: text('error'),
    permanentFailure: boolean('permanent_failure').notNull().default(false),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().default(sql`now()`),
  },
  (table) => [
    primaryKey({ columns: [table.anomalyId, table.platform, table.conversationId] }),
    // The alerts still worth delivering, by anomaly and the version they show: what the claim joins on.
    index('anomaly_alerts_pending_idx').on(table.anomalyId, table.postedVersion).where(sql`not ${table.permanentFailure}`),
    check('anomaly_alerts_platform_check', sql`${table.platform} in ('slack', 'teams')`),
  ],
);

/**
 * Each team's monthly budget, with who set it and when: one row per team ('' is spend
 * without the team tag). The amount is an exact numeric, in `currency`, per calendar month.
 */
export const budgets = pgTable(
  'budgets',
  {
    team: text('team').primaryKey(),
    amount: amount('amount'),
    currency: text('currency').notNull(),
    setBy: text('set_by').notNull(),
    setAt: timestamp('set_at', { withTimezone: true }).notNull(),
  },
  (table) => [check('budgets_amount_check', sql`${table.amount} > 0`)],
);

/**
 * The budget threshold alerts already claimed: one row per (team, month, actual or forecast,
 * percentage), so "each threshold alert once" is a property of the table across instances.
 * A claim whose post failed is deleted again, so a later check may send it; once the posted
 * message is recorded here the row stays.
 */
export const budgetAlerts = pgTable(
  'budget_alerts',
  {
    team: text('team').notNull(),
    month: date('month', { mode: 'string' }).notNull(),
    kind: text('kind').notNull(),
    threshold: integer('threshold').notNull(),
    claimedAt: timestamp('claimed_at', { withTimezone: true }).notNull(),
    conversationId: text('conversation_id'),
    messageId: text('message_id'),
  },
  (table) => [
    primaryKey({ columns: [table.team, table.month, table.kind, table.threshold] }),
    check('budget_alerts_kind_check', sql`${table.kind} in ('actual', 'forecast')`),
  ],
);

/** One approval as stored in `rightsizing_recommendations.approvals`: the time as ISO text. */
export interface StoredApproval {
  readonly userId: string;
  readonly at: string;
  /** Added later: approvals stored before it have none. */
  readonly source?: StoredSourceMessage;
}

/** One execution step as stored in `rightsizing_recommendations.execution`: the time as ISO text. */
export interface StoredExecutionStep {
  readonly step: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly at: string;
}

/** A message an audit entry came from, as stored in `rightsizing_audit.source`. */
export interface StoredSourceMessage {
  readonly platform: string;
  readonly conversationId?: string;
  readonly messageId?: string;
}

/** One approver as stored in `rightsizing_approvers.approvers`. */
export interface StoredApprover {
  readonly kind: string;
  readonly id: string;
}

/**
 * Rightsizing recommendations (a smaller EC2 type, or stopping an idle instance), with their
 * approvals, decision and execution. `key` identifies the same advice across syncs; it is
 * unique among the rows neither expired nor failed, so advice that comes back after either is a new row.
 * `version` grows with every change a message shows. An instance carrying a change out
 * holds it through `execution_holder` and `execution_claimed_at` (a stale claim may be taken
 * over). Amounts are exact numerics; `team` '' is an instance without the team tag.
 */
export const rightsizingRecommendations = pgTable(
  'rightsizing_recommendations',
  {
    id: serial('id').primaryKey(),
    key: text('key').notNull(),
    accountId: text('account_id').notNull(),
    region: text('region').notNull(),
    instanceId: text('instance_id').notNull(),
    instanceName: text('instance_name'),
    team: text('team').notNull(),
    action: text('action').notNull(),
    currentType: text('current_type').notNull(),
    targetType: text('target_type'),
    cpuMaxPercent: doublePrecision('cpu_max_percent'),
    memoryMaxPercent: doublePrecision('memory_max_percent'),
    currentMonthlyCost: amount('current_monthly_cost'),
    monthlySavings: amount('monthly_savings'),
    currency: text('currency').notNull(),
    lookbackDays: integer('lookback_days').notNull(),
    status: text('status').notNull().default('pending'),
    approvals: jsonb('approvals').$type<StoredApproval[]>().notNull().default(sql`'[]'::jsonb`),
    approvalsNeeded: integer('approvals_needed').notNull(),
    decidedBy: text('decided_by'),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    reason: text('reason'),
    execution: jsonb('execution').$type<StoredExecutionStep[]>().notNull().default(sql`'[]'::jsonb`),
    executionHolder: text('execution_holder'),
    executionClaimedAt: timestamp('execution_claimed_at', { withTimezone: true }),
    appliedAt: timestamp('applied_at', { withTimezone: true }),
    realisedMonthlySavings: numeric('realised_monthly_savings', { precision: 24, scale: 10 }),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    seenAt: timestamp('seen_at', { withTimezone: true }).notNull(),
  },
  (table) => [
    uniqueIndex('rightsizing_recommendations_key_idx').on(table.key).where(sql`${table.status} not in ('expired', 'failed')`),
    index('rightsizing_recommendations_team_status_idx').on(table.team, table.status),
    check('rightsizing_recommendations_status_check', sql`${table.status} in ('pending', 'approved', 'rejected', 'expired', 'applied', 'failed')`),
    check('rightsizing_recommendations_action_check', sql`${table.action} in ('modify', 'terminate')`),
  ],
);

/**
 * The rightsizing audit log: who did what to which recommendation (or to a team's
 * approvers), with the state before and after and the message it came from. Append-only: a
 * trigger (migration 0013) refuses every UPDATE and DELETE.
 */
export const rightsizingAudit = pgTable(
  'rightsizing_audit',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    at: timestamp('at', { withTimezone: true }).notNull(),
    actor: text('actor').notNull(),
    team: text('team').notNull(),
    recommendationId: integer('recommendation_id').references(() => rightsizingRecommendations.id),
    action: text('action').notNull(),
    before: jsonb('before'),
    after: jsonb('after'),
    source: jsonb('source').$type<StoredSourceMessage>(),
    note: text('note'),
  },
  (table) => [index('rightsizing_audit_team_at_idx').on(table.team, table.at.desc()), index('rightsizing_audit_at_idx').on(table.at.desc())],
);

/** Who may approve each team's recommendations ('*': every team's), and who last set them. */
export const rightsizingApprovers = pgTable('rightsizing_approvers', {
  team: text('team').primaryKey(),
  approvers: jsonb('approvers').$type<StoredApprover[]>().notNull(),
  setBy: text('set_by').notNull(),
  setAt: timestamp('set_at', { withTimezone: true }).notNull(),
});

/** Each saved rightsizing sync and what it changed: the latest answers "when was the last sync?". */
export const rightsizingSyncs = pgTable(
  'rightsizing_syncs',
  {
    id: serial('id').primaryKey(),
    syncedAt: timestamp('synced_at', { withTimezone: true }).notNull(),
    added: integer('added').notNull(),
    updated: integer('updated').notNull(),
    withdrawn: integer('withdrawn').notNull(),
  },
  (table) => [index('rightsizing_syncs_synced_at_idx').on(table.syncedAt)],
);
