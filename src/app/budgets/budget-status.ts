/**
 * Where a team stands against its monthly budget: spent so far and the month-end forecast
 * (the `forecast` figures), each as a share of the budget. `budget`, `forecast`, the digests
 * and the threshold alerts all read it, so they never disagree.
 */
import { isFinOpsError } from '../../core/errors.js';
import { type Amount, formatAmount, formatPercent, percentShare } from '../../core/money.js';
import type { Budget } from '../../ports.js';
import { type MonthEndForecast, monthEndForecast } from '../handlers/forecast.js';
import type { HandlerDeps } from '../report-context.js';

/** A team's month against its budget. */
export interface BudgetStatus {
  readonly budget: Budget;
  /** Spent this month so far (through the last day of data). */
  readonly actual: Amount;
  /** The month-end forecast; undefined when there is too little history to forecast. */
  readonly forecast: Amount | undefined;
  readonly actualPercent: number;
  readonly forecastPercent: number | undefined;
  /** The forecast the figures come from (its month, metric and freshness), when there is one. */
  readonly basis: MonthEndForecast | undefined;
}

/** The team's month against `budget`; the forecast is left out (not an error) when history is short. */
export async function budgetStatus(deps: HandlerDeps, budget: Budget): Promise<BudgetStatus> {
  let basis: MonthEndForecast | undefined;
  try {
    basis = await monthEndForecast(deps, { team: budget.team });
  } catch (error) {
    // Too little history to forecast (or no data yet): the actual alone still says something.
    if (!isFinOpsError(error, 'no_data')) throw error;
  }
  const actual = basis?.forecast.actual ?? 0n;
  const forecast = basis?.forecast.mean;
  return {
    budget,
    actual,
    forecast,
    actualPercent: percentShare(actual, budget.amount),
    forecastPercent: forecast === undefined ? undefined : percentShare(forecast, budget.amount),
    basis,
  };
}

/** "USD 18,200.00 of USD 25,000.00 (72.8%) · forecast USD 26,100.00 (104.4%)". */
export function budgetLine(status: BudgetStatus): string {
  const { budget } = status;
  const spent = `${formatAmount(status.actual, budget.currency)} of ${formatAmount(budget.amount, budget.currency)} (${formatPercent(status.actualPercent, false)})`;
  const forecast =
    status.forecast === undefined || status.forecastPercent === undefined
      ? 'no forecast yet (under 14 days of history)'
      : `forecast ${formatAmount(status.forecast, budget.currency)} (${formatPercent(status.forecastPercent, false)})${status.forecastPercent > 100 ? ' — over budget' : ''}`;
  return `${spent} · ${forecast}`;
}
