/**
 * `forecast [for TEAM]`: this month's month-end figure with an 80% range, the method that
 * produced it, and last month for comparison.
 */
import { type CostMetric, TOTAL_FACET } from '../../core/cost-model.js';
import { FinOpsError } from '../../core/errors.js';
import { type Forecast, forecastRemaining, SPREAD_DAYS } from '../../core/forecast.js';
import { type Amount, formatAmount, formatPercent, percentChange, percentShare, sumAmounts } from '../../core/money.js';
import { addDays, type DateRange, eachDay, maxDate, minDate, type Period, type PlainDate, resolvePeriod, todayIn } from '../../core/period.js';
import type { Reply, ReplyBlock } from '../../core/reply.js';
import type { Command } from '../command.js';
import { fillDays, type Freshness, type HandlerDeps, loadFreshness, resolveTeam, scopeFooter, teamSuffix } from '../report-context.js';

/** This month's forecast and what it stands on: the `forecast` answer and the AI explainer both read it. */
export interface MonthEndForecast {
  readonly month: Period;
  readonly team: string | undefined;
  readonly metric: CostMetric;
  readonly currency: string;
  readonly freshness: Freshness;
  readonly forecast: Forecast;
  /** Days of this month already in the store. */
  readonly actualRange: DateRange;
  readonly firstMissing: PlainDate;
  readonly lastMonthTotal: Amount;
  /** Whether all of last month is in the store, so the comparison is fair. */
  readonly lastMonthComplete: boolean;
}

/**
 * Forecasts this month's spend (a team's, when given) from the stored daily totals; throws
 * a coded error with a sentence when there is no data or under 14 days of history.
 */
export async function monthEndForecast(deps: HandlerDeps, request: { team?: string | undefined; metric?: CostMetric | undefined }): Promise<MonthEndForecast> {
  const today = todayIn(deps.settings.timeZone, deps.clock.now());
  // This month, named, with last month as its previous period.
  const month = resolvePeriod({ kind: 'month', month: today.slice(0, 7) }, today);
  const { start: monthStart, end: monthEnd, previous: lastMonth } = month;
  const freshness = await loadFreshness(deps.store, [TOTAL_FACET], { estimatedSince: monthStart });
  if (!freshness.dataThrough) throw new FinOpsError('no_data', 'I have no cost data yet to forecast from; the first sync is still running.');
  const firstMissing = addDays(freshness.dataThrough, 1);
  const metric = request.metric ?? deps.settings.defaultMetric;
  const team = request.team === undefined ? undefined : await resolveTeam(deps, request.team);
  const query = { metric, team };
  const actualRange = { start: monthStart, end: maxDate(monthStart, minDate(firstMissing, monthEnd)) };
  const historyRange = { start: addDays(firstMissing, -SPREAD_DAYS), end: firstMissing };
  const [actualRows, historyRows, lastMonthRows] = await Promise.all([
    deps.store.sumBy(TOTAL_FACET, 'team', { ...query, range: actualRange }),
    deps.store.sumByDay(TOTAL_FACET, { ...query, range: historyRange }),
    deps.store.sumBy(TOTAL_FACET, 'team', { ...query, range: lastMonth }),
  ]);
  if (historyRows.length < 14) {
    throw new FinOpsError('no_data', `I need at least 14 days of history to forecast${teamSuffix(team)}; I have ${historyRows.length}.`);
  }
  const actual = sumAmounts(actualRows.map((row) => row.amount));
  const remaining = eachDay({ start: maxDate(firstMissing, monthStart), end: monthEnd });
  const forecast = forecastRemaining(actual, fillDays(historyRange, historyRows), remaining);
  const currency = (await deps.store.currency()) ?? 'USD';
  const lastMonthTotal = sumAmounts(lastMonthRows.map((row) => row.amount));
  // Compare with last month only when all of it is in the store.
  const lastMonthComplete = firstMissing >= monthStart && (freshness.dataFrom ?? lastMonth.start) <= lastMonth.start;
  return { month, team, metric, currency, freshness, forecast, actualRange, firstMissing, lastMonthTotal, lastMonthComplete };
}

/** Answers `forecast`. */
export async function handleForecast(deps: HandlerDeps, command: Extract<Command, { name: 'forecast' }>): Promise<Reply> {
  const result = await monthEndForecast(deps, command);
  const { month, team, metric, currency, freshness, forecast, actualRange, firstMissing, lastMonthTotal, lastMonthComplete } = result;
  const { start: monthStart, end: monthEnd, previous: lastMonth } = month;
  const actual = forecast.actual;
  const versusLastMonth = lastMonthComplete ? percentChange(lastMonthTotal, forecast.mean) : undefined;
  const lastMonthNote = lastMonthComplete
    ? ''
    : firstMissing < monthStart
      ? `, through ${freshness.dataThrough}`
      : `, history from ${freshness.dataFrom}`;
  const second = team === undefined ? await sourceOpinion(deps, metric, firstMissing, monthEnd, actual, currency) : undefined;
  const requested = { ...month, label: `${month.label} forecast` };
  return {
    kind: 'answer',
    title: `Month-end forecast${teamSuffix(team)}, ${month.label}`,
    blocks: [
      {
        type: 'fields',
        fields: [
          { label: 'Forecast', value: formatAmount(forecast.mean, currency) },
          { label: '80% range', value: `${formatAmount(forecast.low, currency)} – ${formatAmount(forecast.high, currency)}` },
          actualRange.end > actualRange.start
            ? { label: `Spent ${actualRange.start} – ${addDays(actualRange.end, -1)}`, value: formatAmount(actual, currency) }
            : { label: 'Spent so far', value: `nothing yet: data is through ${freshness.dataThrough}` },
          {
            label: `Last month (${lastMonth.start.slice(0, 7)}${lastMonthNote})`,
            value: `${formatAmount(lastMonthTotal, currency)}${versusLastMonth === undefined ? '' : ` · forecast ${formatPercent(versusLastMonth)}`}`,
          },
        ],
      },
      ...(second ? [second] : []),
      ...(await budgetField(deps, team, forecast.mean, currency)),
      { type: 'text', text: `Method: ${forecast.method}` },
      {
        type: 'context',
        text: scopeFooter(deps, { requested, range: { start: monthStart, end: monthEnd }, partial: forecast.remainingDays > 0, metric, currency, freshness }),
      },
    ],
  };
}

/** The team's monthly budget beside the forecast, when it has one. */
async function budgetField(deps: HandlerDeps, team: string | undefined, mean: Amount, currency: string): Promise<ReplyBlock[]> {
  if (team === undefined || !deps.budgets) return [];
  const budget = await deps.budgets.get(team);
  if (!budget || budget.currency !== currency) return [];
  const share = percentShare(mean, budget.amount);
  const verdict = share > 100 ? `over by ${formatAmount(mean - budget.amount, currency)}` : `${formatAmount(budget.amount - mean, currency)} to spare`;
  return [{ type: 'fields', fields: [{ label: 'Monthly budget', value: `${formatAmount(budget.amount, currency)} · forecast ${formatPercent(share, false)} of it, ${verdict}` }] }];
}

/**
 * The source's own month-end figure (AWS Cost Explorer's forecast of the remaining days plus
 * the same actual spend), when one was fetched for exactly the days still to come.
 */
async function sourceOpinion(
  deps: HandlerDeps,
  metric: CostMetric,
  firstMissing: PlainDate,
  monthEnd: PlainDate,
  actual: Amount,
  currency: string,
): Promise<ReplyBlock | undefined> {
  if (deps.settings.sourceKind !== 'aws') return undefined;
  const stored = await deps.store.sourceForecast(metric, firstMissing);
  if (!stored || stored.range.end !== monthEnd || stored.currency !== currency) return undefined;
  const range = `${formatAmount(actual + stored.low, currency)} – ${formatAmount(actual + stored.high, currency)}`;
  return {
    type: 'fields',
    fields: [{ label: 'AWS Cost Explorer forecast', value: `${formatAmount(actual + stored.mean, currency)} (80% range ${range})` }],
  };
}
