/**
 * The interfaces budgets need from the outside world: the store of the teams' monthly
 * budgets and of the threshold alerts already sent, and AWS Budgets. Re-exported by ports.ts.
 */
import type { Amount } from '../core/money.js';
import type { PlainDate } from '../core/period.js';

/** A team's monthly budget, with who set it and when. */
export interface Budget {
  /** The team ('' = spend without the team tag). */
  readonly team: string;
  /** Per calendar month, in `currency`. */
  readonly amount: Amount;
  readonly currency: string;
  /** Who set it (a Slack user id, or "console"). */
  readonly setBy: string;
  readonly setAt: Date;
}

/** Which spend a threshold alert is about: what was spent so far, or the month-end forecast. */
export type BudgetAlertKind = 'actual' | 'forecast';

/** One threshold alert: a team, a month, actual or forecast, and a percentage of the budget (50, 80, 100). */
export interface BudgetAlertKey {
  readonly team: string;
  /** The month, as its first day (2026-11-01). */
  readonly month: PlainDate;
  readonly kind: BudgetAlertKind;
  readonly threshold: number;
}

/** Budgets per team, and the ledger that makes each threshold alert go out once. */
export interface BudgetStore {
  /** Every budget, by team. */
  list(): Promise<Budget[]>;
  get(team: string): Promise<Budget | undefined>;
  /** Sets (or replaces) a team's budget; returns the one it replaced, if any. */
  set(budget: Budget): Promise<Budget | undefined>;
  /** Removes a team's budget; false when it had none. */
  remove(team: string): Promise<boolean>;
  /**
   * Claims a threshold alert: true the first time any instance claims `key` (it must then post
   * it, and `release` it if the post fails), false for every repeat.
   */
  claimAlert(key: BudgetAlertKey, at: Date): Promise<boolean>;
  /** Records the posted message of a claimed alert. */
  recordAlertMessage(key: BudgetAlertKey, conversationId: string, messageId: string): Promise<void>;
  /** Gives a claim back after a failed post, so a later check may send it. */
  releaseAlert(key: BudgetAlertKey): Promise<void>;
}

/** A budget as AWS Budgets holds it, with its spend this period. */
export interface AwsBudget {
  readonly name: string;
  /** The budget's limit for the period. */
  readonly limit: Amount;
  readonly currency: string;
  /** Spend so far this period, as AWS Budgets computes it. */
  readonly actual: Amount | undefined;
  /** AWS Budgets' forecast for the period. */
  readonly forecast: Amount | undefined;
  /** MONTHLY, QUARTERLY, ANNUALLY … */
  readonly timeUnit: string;
  /** The team tag value it is filtered on, when its cost filters name exactly one (`user:Team$payments`). */
  readonly team: string | undefined;
}

/** AWS Budgets (only with the `aws` cost source). */
export interface AwsBudgetsSource {
  /** Every cost budget of the account (all pages). */
  describeBudgets(): Promise<AwsBudget[]>;
}
