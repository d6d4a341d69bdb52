/**
 * Budget threshold alerts: when a team's spend this month reaches 50, 80 or 100% of its
 * budget — or its month-end forecast does — the team's channels hear about it, each
 * threshold once per team and month whatever number of instances check. Each threshold is
 * claimed in the shared ledger first; a post that fails gives its claims back, so a later
 * check sends it.
 */
import { startOfMonth, todayIn } from '../../core/period.js';
import { formatAmount, formatPercent } from '../../core/money.js';
import { monthName } from '../../core/digest.js';
import type { Reply } from '../../core/reply.js';
import type { AlertNotifier, BudgetAlertKey, BudgetAlertKind, BudgetStore, Platform, SubscriptionStore } from '../../ports.js';
import { accessFor, maySee } from '../team-access.js';
import { type HandlerDeps, labelOf } from '../report-context.js';
import { type BudgetStatus, budgetLine, budgetStatus } from './budget-status.js';

/** The shares of a budget that alert, in percent. */
export const BUDGET_THRESHOLDS = [50, 80, 100] as const;

/** What the check needs. */
export interface BudgetAlertDeps extends HandlerDeps {
  readonly budgets: BudgetStore;
  readonly subscriptions: Pick<SubscriptionStore, 'conversationsFor'>;
  readonly notifiers: ReadonlyMap<Platform, AlertNotifier>;
  /** Where a team without a channel (or untagged spend) is told. */
  readonly fallback?: { readonly platform: Platform; readonly conversationId: string } | undefined;
  readonly logger: { warn(details: object, message: string): void };
}

/** Checks every budget against the thresholds and posts what is newly crossed; returns how many alerts went out. */
export async function checkBudgetThresholds(deps: BudgetAlertDeps): Promise<number> {
  if (deps.notifiers.size === 0) return 0;
  let posted = 0;
  for (const budget of await deps.budgets.list()) {
    const targets = await targetsFor(deps, budget.team);
    if (targets.length === 0) continue;
    const status = await budgetStatus(deps, budget);
    const month = status.basis?.month.start ?? startOfMonth(todayIn(deps.settings.timeZone, deps.clock.now()));
    for (const kind of ['actual', 'forecast'] as const) {
      const percent = kind === 'actual' ? status.actualPercent : status.forecastPercent;
      if (percent === undefined) continue;
      // The highest threshold crossed is claimed first: whoever wins it alerts, about it alone
      // (a first check at 85% makes one alert, past 80%), and marks the lower ones as covered.
      // Losing it means another check has alerted this level already.
      const crossed = BUDGET_THRESHOLDS.filter((threshold) => percent >= threshold).reverse();
      const [top, ...lower] = crossed;
      if (top === undefined) continue;
      const highest = { team: budget.team, month, kind, threshold: top };
      if (!(await deps.budgets.claimAlert(highest, deps.clock.now()))) continue;
      const claimed: BudgetAlertKey[] = [highest];
      for (const threshold of lower) {
        const key = { team: budget.team, month, kind, threshold };
        if (await deps.budgets.claimAlert(key, deps.clock.now())) claimed.push(key);
      }
      const reply = alertReply(status, kind, highest.threshold, month);
      let first: { conversationId: string; messageId: string } | undefined;
      for (const target of targets) {
        try {
          const messageId = await deps.notifiers.get(target.platform)!.post(target.conversationId, { reply, buttons: [] });
          first ??= { conversationId: target.conversationId, messageId };
        } catch (error) {
          deps.logger.warn({ err: error, team: budget.team, conversation: target.conversationId }, 'could not post a budget alert');
        }
      }
      if (first) {
        posted++;
        for (const key of claimed) await deps.budgets.recordAlertMessage(key, first.conversationId, first.messageId);
      } else {
        for (const key of claimed) await deps.budgets.releaseAlert(key);
      }
    }
  }
  return posted;
}

/** The team's subscribed conversations that may see it (FINOPS_CHANNEL_TEAMS), else the fallback. */
async function targetsFor(deps: BudgetAlertDeps, team: string): Promise<{ platform: Platform; conversationId: string }[]> {
  const allowed = (conversationId: string) => maySee(accessFor(deps, { conversationId }), team);
  const owned = team === '' ? [] : (await deps.subscriptions.conversationsFor(team)).filter((target) => deps.notifiers.has(target.platform) && allowed(target.conversationId));
  if (owned.length > 0) return owned;
  return deps.fallback && deps.notifiers.has(deps.fallback.platform) && allowed(deps.fallback.conversationId) ? [deps.fallback] : [];
}

function alertReply(status: BudgetStatus, kind: BudgetAlertKind, threshold: number, month: string): Reply {
  const { budget } = status;
  const team = labelOf(budget.team);
  const what =
    kind === 'actual'
      ? `*${team}* has spent ${formatAmount(status.actual, budget.currency)} this month: *${formatPercent(status.actualPercent, false)}* of its ${formatAmount(budget.amount, budget.currency)} budget (past ${threshold}%).`
      : `*${team}* is forecast to spend ${formatAmount(status.forecast ?? 0n, budget.currency)} by month end: *${formatPercent(status.forecastPercent ?? 0, false)}* of its ${formatAmount(budget.amount, budget.currency)} budget (past ${threshold}%).`;
  return {
    kind: 'answer',
    title: `Budget ${kind === 'actual' ? 'spent' : 'forecast'} past ${threshold}% · ${team} · ${monthName(month)}`,
    blocks: [
      { type: 'text', text: what },
      { type: 'text', text: `This month: ${budgetLine(status)}. \`forecast for ${budget.team === '' ? 'untagged' : budget.team}\` shows how it is made; \`top mtd for …\` what drives it.` },
      { type: 'context', text: `${monthName(month)} ${month.slice(0, 4)} · set by ${budget.setBy} on ${budget.setAt.toISOString().slice(0, 10)} · each threshold is alerted once a month` },
    ],
  };
}
