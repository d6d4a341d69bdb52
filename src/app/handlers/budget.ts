/**
 * `budget`, `budget set TEAM AMOUNT`, `budget rm TEAM`: the teams' monthly budgets, who set
 * them and when, and where each team's month stands against its budget (spent so far and
 * the month-end forecast, as `forecast` gives it). With the `aws` source, AWS Budgets are
 * listed beside ours.
 */
import { metricLabel, TOTAL_FACET } from '../../core/cost-model.js';
import { isFinOpsError } from '../../core/errors.js';
import { formatAmount, formatPercent } from '../../core/money.js';
import type { Reply, ReplyBlock } from '../../core/reply.js';
import type { AwsBudgetsSource, BudgetStore } from '../../ports.js';
import { budgetLine, budgetStatus } from '../budgets/budget-status.js';
import type { Command } from '../command.js';
import { freshnessText, type HandlerDeps, labelOf, loadFreshness, resolveTeam } from '../report-context.js';
import { permittedTeam, type TeamAccess, maySee } from '../team-access.js';

/** What the budget commands need. */
export interface BudgetDeps extends HandlerDeps {
  readonly budgets: BudgetStore;
  readonly awsBudgets?: AwsBudgetsSource | undefined;
}

/** Answers `budget …`; `userId` is recorded as who set a budget. */
export async function handleBudget(deps: BudgetDeps, command: Extract<Command, { name: 'budget' }>, access: TeamAccess, userId: string | undefined): Promise<Reply> {
  switch (command.action) {
    case 'show':
      return showBudgets(deps, access);
    case 'set': {
      const team = await resolveTeam(deps, permittedTeam(access, command.team) ?? command.team);
      const currency = (await deps.store.currency()) ?? 'USD';
      const budget = { team, amount: command.amount, currency, setBy: userId ?? 'console', setAt: deps.clock.now() };
      const replaced = await deps.budgets.set(budget);
      const status = await budgetStatus(deps, budget);
      const was = replaced ? ` (was ${formatAmount(replaced.amount, replaced.currency)})` : '';
      return {
        kind: 'answer',
        title: `Budget for ${labelOf(team)}`,
        blocks: [
          { type: 'text', text: `The monthly budget of *${labelOf(team)}* is now *${formatAmount(budget.amount, currency)}*${was}.` },
          { type: 'text', text: `This month: ${budgetLine(status)}.` },
          { type: 'context', text: await footer(deps) },
        ],
      };
    }
    case 'rm': {
      const team = await resolveTeam(deps, permittedTeam(access, command.team) ?? command.team);
      const removed = await deps.budgets.remove(team);
      return {
        kind: 'answer',
        title: `Budget for ${labelOf(team)}`,
        blocks: [{ type: 'text', text: removed ? `The monthly budget of *${labelOf(team)}* is removed.` : `*${labelOf(team)}* has no budget to remove.` }],
      };
    }
  }
}

/** Every budget the conversation may see, with the month against it; AWS Budgets beside them. */
async function showBudgets(deps: BudgetDeps, access: TeamAccess): Promise<Reply> {
  const budgets = (await deps.budgets.list()).filter((budget) => maySee(access, budget.team));
  const blocks: ReplyBlock[] = [];
  if (budgets.length === 0) {
    blocks.push({ type: 'text', text: 'No team has a budget yet. Set one with `budget set TEAM AMOUNT`, for example `budget set payments 25000`.' });
  } else {
    const statuses = await Promise.all(budgets.map((budget) => budgetStatus(deps, budget)));
    blocks.push({
      type: 'table',
      columns: [
        { title: 'Team', align: 'left' },
        { title: 'Budget', align: 'right' },
        { title: 'Spent', align: 'right' },
        { title: 'Forecast', align: 'right' },
        { title: 'Set by', align: 'left' },
      ],
      rows: statuses.map((status) => [
        labelOf(status.budget.team),
        formatAmount(status.budget.amount, status.budget.currency),
        `${formatAmount(status.actual, status.budget.currency)} (${formatPercent(status.actualPercent, false)})`,
        status.forecast === undefined || status.forecastPercent === undefined
          ? 'needs 14 days'
          : `${formatAmount(status.forecast, status.budget.currency)} (${formatPercent(status.forecastPercent, false)})`,
        `${status.budget.setBy} · ${status.budget.setAt.toISOString().slice(0, 10)}`,
      ]),
    });
  }
  if (deps.settings.sourceKind === 'aws' && deps.awsBudgets && access.kind === 'all') blocks.push(...(await awsBudgetBlocks(deps.awsBudgets)));
  blocks.push({ type: 'context', text: await footer(deps) });
  return { kind: 'answer', title: 'Monthly budgets', blocks };
}

/** AWS Budgets' own cost budgets, or a sentence saying why they could not be read. */
async function awsBudgetBlocks(source: AwsBudgetsSource): Promise<ReplyBlock[]> {
  try {
    const budgets = await source.describeBudgets();
    if (budgets.length === 0) return [{ type: 'text', text: '*AWS Budgets*: none defined in this account.' }];
    return [
      { type: 'text', text: '*AWS Budgets* (as AWS computes them)' },
      {
        type: 'table',
        columns: [
          { title: 'Budget', align: 'left' },
          { title: 'Team', align: 'left' },
          { title: 'Period', align: 'left' },
          { title: 'Limit', align: 'right' },
          { title: 'Spent', align: 'right' },
          { title: 'Forecast', align: 'right' },
        ],
        rows: budgets.map((budget) => [
          budget.name,
          budget.team === undefined ? '' : labelOf(budget.team),
          budget.timeUnit.toLowerCase(),
          formatAmount(budget.limit, budget.currency),
          budget.actual === undefined ? '' : formatAmount(budget.actual, budget.currency),
          budget.forecast === undefined ? '' : formatAmount(budget.forecast, budget.currency),
        ]),
      },
    ];
  } catch (error) {
    return [{ type: 'text', text: `*AWS Budgets* could not be read: ${isFinOpsError(error) ? error.message : 'an unexpected error (the details are in the logs).'}` }];
  }
}

async function footer(deps: HandlerDeps): Promise<string> {
  const freshness = await loadFreshness(deps.store, [TOTAL_FACET]);
  return `this month · ${metricLabel(deps.settings.defaultMetric)} · spent through the last day of data, forecast to month end as \`forecast\` does · ${freshnessText(deps, freshness)}`;
}
