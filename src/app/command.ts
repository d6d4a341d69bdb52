/**
 * The command language, as typed values. One grammar serves Slack, Teams and the console;
 * see PRODUCT.md "Command language".
 */
import type { CostMetric, Dimension } from '../core/cost-model.js';
import type { Amount } from '../core/money.js';
import type { PeriodSpec } from '../core/period.js';
import type { PersonRef } from '../core/people.js';

/** Options shared by the reporting commands. */
export interface ReportOptions {
  readonly period?: PeriodSpec | undefined;
  readonly team?: string | undefined;
  readonly metric?: CostMetric | undefined;
}

/** A parsed command. */
export type Command =
  | { readonly name: 'help'; readonly topic?: string | undefined }
  | ({ readonly name: 'cost'; readonly by?: Dimension | undefined } & ReportOptions)
  | ({ readonly name: 'top' } & ReportOptions)
  | ({ readonly name: 'forecast' } & Omit<ReportOptions, 'period'>)
  | { readonly name: 'budget'; readonly action: 'show' }
  | { readonly name: 'budget'; readonly action: 'set'; readonly team: string; readonly amount: Amount }
  | { readonly name: 'budget'; readonly action: 'rm'; readonly team: string }
  | ({ readonly name: 'anomalies' } & ReportOptions)
  | { readonly name: 'rightsizing'; readonly team?: string | undefined }
  | { readonly name: 'approvers'; readonly action: 'show'; readonly team?: string | undefined }
  | { readonly name: 'approvers'; readonly action: 'add' | 'rm'; readonly team: string; readonly people: readonly PersonRef[] }
  | { readonly name: 'audit'; readonly team?: string | undefined }
  | ({ readonly name: 'tags'; readonly key?: string | undefined } & ReportOptions)
  | { readonly name: 'subscribe'; readonly cadence: 'daily' | 'weekly'; readonly team?: string | undefined; readonly timeZone?: string | undefined }
  | { readonly name: 'unsubscribe'; readonly cadence: 'daily' | 'weekly'; readonly team?: string | undefined }
  | { readonly name: 'subscriptions' }
  | { readonly name: 'digest'; readonly cadence: 'daily' | 'weekly'; readonly team?: string | undefined }
  | { readonly name: 'ask'; readonly question: string }
  | ({ readonly name: 'explain' } & ReportOptions)
  | { readonly name: 'ai-usage'; readonly period?: PeriodSpec | undefined }
  | { readonly name: 'status' };

/** The name of a subcommand. */
export type CommandName = Command['name'];

/** Usage line and summary of each subcommand, in the order help lists them. */
export const COMMAND_USAGE: Readonly<Record<CommandName, { usage: string; summary: string; examples: readonly string[] }>> = {
  help: { usage: 'help [subcommand]', summary: 'what I can do, or how to use one subcommand', examples: ['help', 'help cost'] },
  cost: {
    usage: 'cost [PERIOD] [by DIM] [for TEAM]',
    summary: 'total, change vs the previous equal period, top items, daily sparkline',
    examples: ['cost 7d by service', 'cost mtd by team', 'cost last-month by account for payments'],
  },
  top: {
    usage: 'top [PERIOD] [for TEAM]',
    summary: 'biggest movers vs the previous period (what drove the change)',
    examples: ['top 7d', 'top 30d for search'],
  },
  forecast: { usage: 'forecast [for TEAM]', summary: 'month-end forecast with a range', examples: ['forecast', 'forecast for payments'] },
  budget: {
    usage: 'budget | budget set TEAM AMOUNT | budget rm TEAM',
    summary: 'monthly budgets per team',
    examples: ['budget', 'budget set payments 25000'],
  },
  anomalies: { usage: 'anomalies [PERIOD] [for TEAM]', summary: 'detected anomalies with root cause and status', examples: ['anomalies 30d'] },
  rightsizing: { usage: 'rightsizing [for TEAM]', summary: 'recommendations with Approve / Reject', examples: ['rightsizing for search'] },
  approvers: {
    usage: 'approvers [for TEAM] | approvers add|rm TEAM @person|@group …',
    summary: "who may approve a team's rightsizing (admins change it; `*` is every team)",
    examples: ['approvers', 'approvers for payments', 'approvers add payments U0123ABCD'],
  },
  audit: { usage: 'audit [for TEAM]', summary: 'recent rightsizing decisions, expiries, changes and approver edits', examples: ['audit', 'audit for payments'] },
  tags: {
    usage: 'tags [KEY] [PERIOD]',
    summary: 'tag coverage: share of spend without the team tag, worst offenders',
    examples: ['tags', 'tags Environment 7d'],
  },
  subscribe: {
    usage: 'subscribe daily|weekly [for TEAM] [in TIMEZONE]',
    summary: "this channel receives the digest (at the schedule's time in the channel's time zone)",
    examples: ['subscribe weekly for payments', 'subscribe daily in Europe/Paris'],
  },
  unsubscribe: { usage: 'unsubscribe daily|weekly [for TEAM]', summary: 'stop a digest in this channel', examples: ['unsubscribe daily'] },
  subscriptions: { usage: 'subscriptions', summary: "this channel's digests", examples: ['subscriptions'] },
  digest: { usage: 'digest [daily|weekly] [for TEAM]', summary: 'preview a digest now', examples: ['digest weekly for search'] },
  ask: { usage: 'ask QUESTION', summary: 'AI answer grounded in cost data', examples: ['ask why did RDS go up last week?'] },
  explain: { usage: 'explain [PERIOD] [for TEAM]', summary: 'AI narrative of what changed and why', examples: ['explain 7d for payments'] },
  'ai-usage': {
    usage: 'ai-usage [PERIOD]',
    summary: "the bot's own AI spend by day and model: answers, tokens, USD",
    examples: ['ai-usage', 'ai-usage mtd'],
  },
  status: { usage: 'status', summary: 'how fresh the data is and what the Cost Explorer API has cost', examples: ['status'] },
};
