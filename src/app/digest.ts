/**
 * Daily and weekly digests: a period's spend against the previous period and the usual
 * level, the top movers, month to date with the month-end forecast, the untagged nudge and
 * a 30-day chart. Built from stored costs only, so a run of digests for every team costs no
 * Cost Explorer request; the figures are the ones `cost` gives for the same days.
 */
import { type Cadence, CHART_DAYS, CHART_SERIES, digestPeriod, formatDays, monthName, stackChart, sumDays, usualLevel, usualRanges, weekdayName } from '../core/digest.js';
import type { DailyStackChart } from '../core/chart.js';
import { type Facet, TOTAL_FACET } from '../core/cost-model.js';
import { FinOpsError } from '../core/errors.js';
import { forecastRemaining, SPREAD_DAYS } from '../core/forecast.js';
import { type Amount, formatAmount, formatPercent, percentChange, percentShare, toCents } from '../core/money.js';
import { addDays, type DateRange, eachDay, maxDate, type PlainDate, startOfMonth, startOfNextMonth, todayIn } from '../core/period.js';
import { rankMovers } from '../core/breakdown.js';
import type { Reply, ReplyBlock } from '../core/reply.js';
import { moverBlocks } from './handlers/top.js';
import { comparisonFields, fillDays, type HandlerDeps, labelOf, labellerFor, loadFreshness, type ReportScope, resolveScope, scopeFooter } from './report-context.js';
import { digestLines as rightsizingDigestLines } from './rightsizing/present.js';
import { anomalyLine } from './anomalies/present.js';
import { budgetLine, budgetStatus } from './budgets/budget-status.js';

export { type Cadence, digestPeriod } from '../core/digest.js';

/** Which digest: cadence, the team (undefined = whole organisation; '' = spend without the team tag), and optionally the last day it covers. */
export interface DigestRequest {
  readonly cadence: Cadence;
  readonly team?: string | undefined;
  readonly through?: PlainDate | undefined;
}

/** A digest ready to post: the reply, its chart, and the period that identifies it. */
export interface Digest {
  readonly reply: Reply;
  /** Last 30 days ending at the period's end, stacked by the top services of those days and "Other". */
  readonly chart: DailyStackChart;
  /** The days reported (end exclusive). */
  readonly period: DateRange;
  /** 'daily:2026-11-21' or 'weekly:2026-11-16' (a week by its Monday): identifies the digest for exactly-once delivery. */
  readonly periodKey: string;
}

/** Movers shown per view: a digest is read in seconds, `top` has the full list. */
const MOVER_LIMITS = { increases: 3, decreases: 2 } as const;
/** Share of untagged spend above which the organisation digest asks for tagging. */
const UNTAGGED_NUDGE_PERCENT = 5;

/**
 * Builds a digest from stored costs only (never the cost source). Throws a FinOpsError with
 * a sentence when there is no data for the period, or the team is unknown.
 */
export async function buildDigest(deps: HandlerDeps, request: DigestRequest): Promise<Digest> {
  const through =
    request.through ?? (await loadFreshness(deps.store, [TOTAL_FACET])).dataThrough ?? addDays(todayIn(deps.settings.timeZone, deps.clock.now()), -1);
  const { range: period, key } = digestPeriod(request.cadence, through);
  const scope = await resolveScope(deps, { period: { kind: 'range', first: period.start, last: addDays(period.end, -1) }, team: request.team }, [TOTAL_FACET]);
  const { dataThrough, dataFrom } = scope.freshness;
  if (scope.range.end < period.end) {
    throw new FinOpsError('no_data', `The ${request.cadence} digest for ${formatDays(period)} needs cost data through ${addDays(period.end, -1)}; AWS data is through ${dataThrough}.`);
  }
  if (scope.range.start > period.start) {
    throw new FinOpsError('no_data', `The ${request.cadence} digest for ${formatDays(period)} reaches before the history I keep (from ${dataFrom}).`);
  }
  const historyStart = dataFrom ?? period.start;
  const end = period.end;
  const monthStart = startOfMonth(addDays(end, -1));
  const chartRange = { start: maxDate(historyStart, addDays(end, -CHART_DAYS)), end };
  // One read of daily totals answers the period, the previous one, the usual level, month to date and the forecast's history.
  const earliest = [addDays(end, -SPREAD_DAYS), chartRange.start, monthStart, usualRanges(period).at(-1)!.start, scope.previous?.start ?? end].sort()[0]!;
  const window = { start: maxDate(historyStart, earliest), end };
  const query = { metric: scope.metric, team: scope.team };
  const views: { title: string; facet: Facet; by: 'team' | 'value' }[] = [
    ...(scope.team === undefined ? [{ title: 'Team', facet: TOTAL_FACET, by: 'team' as const }] : []),
    { title: 'Service', facet: 'service', by: 'value' },
  ];
  const [dailyRows, chartServices, viewRows] = await Promise.all([
    deps.store.sumByDay(TOTAL_FACET, { ...query, range: window }),
    deps.store.sumBy('service', 'value', { ...query, range: chartRange }),
    Promise.all(
      views.map(async (view) => {
        const previous = scope.previous;
        const [current, before] = await Promise.all([
          deps.store.sumBy(view.facet, view.by, { ...query, range: period }),
          previous ? deps.store.sumBy(view.facet, view.by, { ...query, range: previous }) : [],
        ]);
        return { view, current, before };
      }),
    ),
  ]);
  const byDay = new Map(dailyRows.map((row) => [row.key, row.amount]));
  const spend = sumDays(byDay, period);
  const previousSpend = scope.previous ? sumDays(byDay, scope.previous) : 0n;
  const currency = scope.currency;

  const headline = comparisonFields(toCents(spend), toCents(previousSpend), scope.previous, currency);
  const fields = [
    ...(headline.type === 'fields' ? headline.fields : []),
    usualField(request.cadence, period, byDay, historyStart, spend, currency),
    ...monthFields({ start: maxDate(monthStart, historyStart), end }, byDay, historyStart, currency),
  ];
  const blocks: ReplyBlock[] = [{ type: 'fields', fields }];
  blocks.push(...(await budgetSection(deps, scope.team, end)));
  blocks.push(...(await openAnomalies(deps, scope.team, period)));
  if (request.cadence === 'weekly') blocks.push(...(await openRightsizing(deps, scope.team)));
  blocks.push(...moverSection(request.cadence, scope, viewRows, spend - previousSpend));
  if (scope.team === undefined) {
    const untagged = viewRows[0]!.current.find((row) => row.key === '')?.amount ?? 0n;
    blocks.push(untaggedNudge(deps, request.cadence, untagged, spend, currency));
  }
  const label = request.cadence === 'daily' ? 'day' : 'week';
  blocks.push({ type: 'context', text: scopeFooter(deps, { ...scope, requested: { ...scope.requested, label } }) });

  const audience = scope.team === undefined ? 'whole organisation' : labelOf(scope.team);
  const chart = await buildChart(deps, scope, chartRange, byDay, chartServices, audience);
  return {
    reply: { kind: 'answer', title: `${request.cadence === 'daily' ? 'Daily' : 'Weekly'} digest · ${audience} · ${formatDays(period)}`, blocks },
    chart,
    period,
    periodKey: key,
  };
}

/**
 * The month against the budget: the team's, or for the organisation the teams whose
 * forecast is over their budget. Only on the current month's digests (the forecast is now).
 */
async function budgetSection(deps: HandlerDeps, team: string | undefined, periodEnd: PlainDate): Promise<ReplyBlock[]> {
  if (!deps.budgets || startOfMonth(addDays(periodEnd, -1)) !== startOfMonth(todayIn(deps.settings.timeZone, deps.clock.now()))) return [];
  if (team !== undefined) {
    const budget = await deps.budgets.get(team);
    return budget ? [{ type: 'text', text: `*Budget*: ${budgetLine(await budgetStatus(deps, budget))}` }] : [];
  }
  const statuses = await Promise.all((await deps.budgets.list()).map((budget) => budgetStatus(deps, budget)));
  const over = statuses.filter((status) => (status.forecastPercent ?? status.actualPercent) > 100);
  if (statuses.length === 0) return [];
  if (over.length === 0) return [{ type: 'text', text: `*Budgets*: all ${statuses.length} teams with a budget are forecast within it.` }];
  const lines = over.map((status) => `• ${labelOf(status.budget.team)}: ${budgetLine(status)}`);
  return [{ type: 'text', text: [`*Budgets*: ${over.length} of ${statuses.length} teams forecast over budget`, ...lines].join('\n') }];
}

/** Open anomalies shown in a digest at most; `anomalies` lists them all. */
const DIGEST_ANOMALIES = 3;

/**
 * The anomalies people have not set aside (open or acknowledged) that touch the digest's
 * period or are still going on, biggest first.
 */
async function openAnomalies(deps: HandlerDeps, team: string | undefined, period: DateRange): Promise<ReplyBlock[]> {
  if (!deps.anomalies) return [];
  const recent = await deps.anomalies.listOverlapping({ start: addDays(period.start, -ANOMALY_LOOKBACK_DAYS), end: period.end }, team);
  const open = recent.filter((record) => (record.status === 'open' || record.status === 'acknowledged') && (record.active || record.lastDay >= period.start));
  if (open.length === 0) return [];
  const labels = { metric: deps.settings.defaultMetric, account: await labellerFor(deps, 'account') };
  const more = open.length > DIGEST_ANOMALIES ? ` — ${open.length - DIGEST_ANOMALIES} more in \`anomalies\`` : '';
  return [{ type: 'text', text: [`*Open anomalies* (${open.length}, acknowledged ones included)${more}`, ...open.slice(0, DIGEST_ANOMALIES).map((record) => anomalyLine(record, labels))].join('\n') }];
}

/** The weekly digest's rightsizing lines: the team's (or the organisation's) open recommendations, biggest saving first. */
async function openRightsizing(deps: HandlerDeps, team: string | undefined): Promise<ReplyBlock[]> {
  if (!deps.rightsizing) return [];
  const open = await deps.rightsizing.store.list({ team, statuses: ['pending'] });
  const lines = rightsizingDigestLines(open, team);
  return lines.length === 0 ? [] : [{ type: 'text', text: lines.join('\n') }];
}

/** How far back a still-active anomaly may have started and still be shown. */
const ANOMALY_LOOKBACK_DAYS = 30;

/** "Usual for a Saturday" (same weekday, previous four weeks) or "Usual week" (previous four weeks): their median. */
function usualField(cadence: Cadence, period: DateRange, byDay: ReadonlyMap<PlainDate, Amount>, historyStart: PlainDate, spend: Amount, currency: string) {
  const label = cadence === 'daily' ? `Usual for a ${weekdayName(period.start)}` : 'Usual week';
  const usual = usualLevel(byDay, period, historyStart);
  if (usual === undefined) return { label, value: `needs four earlier ${cadence === 'daily' ? `${weekdayName(period.start)}s` : 'weeks'} of history (from ${historyStart})` };
  const change = percentChange(usual, spend);
  return { label, value: `${formatAmount(usual, currency)}${change === undefined ? '' : ` (${formatPercent(change)})`}` };
}

/** Month to date through the period's end, and the month-end forecast from the same daily totals (the `forecast` method). */
function monthFields(monthToDate: DateRange, byDay: ReadonlyMap<PlainDate, Amount>, historyStart: PlainDate, currency: string) {
  const actual = sumDays(byDay, monthToDate);
  const month = monthName(monthToDate.start);
  const fields = [{ label: `Month to date (${formatDays(monthToDate)})`, value: formatAmount(actual, currency) }];
  const remaining = eachDay({ start: monthToDate.end, end: startOfNextMonth(monthToDate.start) });
  const historyRange = { start: maxDate(historyStart, addDays(monthToDate.end, -SPREAD_DAYS)), end: monthToDate.end };
  const history = fillDays(historyRange, [...byDay].map(([day, amount]) => ({ key: day, amount })));
  if (remaining.length === 0) {
    fields.push({ label: `${month} total`, value: `${formatAmount(actual, currency)} (month complete)` });
  } else if (history.length < 14) {
    fields.push({ label: `${month} forecast`, value: `needs 14 days of history; I have ${history.length}` });
  } else {
    const forecast = forecastRemaining(actual, history, remaining);
    fields.push({
      label: `${month} forecast`,
      value: `${formatAmount(forecast.mean, currency)} (80% range ${formatAmount(forecast.low, currency)} – ${formatAmount(forecast.high, currency)})`,
    });
  }
  return fields;
}

/** The top movers against the previous period: teams and services for the organisation, services for a team. */
function moverSection(
  cadence: Cadence,
  scope: ReportScope,
  viewRows: readonly { view: { title: string }; current: { key: string; amount: Amount }[]; before: { key: string; amount: Amount }[] }[],
  netChange: Amount,
): ReplyBlock[] {
  if (!scope.previous) return [];
  const blocks: ReplyBlock[] = [{ type: 'text', text: `*Top movers* vs the previous ${cadence === 'daily' ? 'day' : 'week'} (${formatDays(scope.previous)})` }];
  for (const { view, current, before } of viewRows) {
    blocks.push(...moverBlocks(view.title, rankMovers(current, before), netChange, scope, MOVER_LIMITS));
  }
  return blocks;
}

/** The organisation's spend without the team tag, with a request to tag above {@link UNTAGGED_NUDGE_PERCENT}. */
function untaggedNudge(deps: HandlerDeps, cadence: Cadence, untagged: Amount, spend: Amount, currency: string): ReplyBlock {
  const share = percentShare(untagged, spend);
  const tag = deps.settings.teamTag;
  const hint = share > UNTAGGED_NUDGE_PERCENT ? ` Tag resources with \`${tag}\` — \`tags\` shows the worst offenders.` : '';
  return {
    type: 'text',
    text: `*Untagged*: ${formatAmount(untagged, currency)} (${formatPercent(share, false)}) of the ${cadence === 'daily' ? "day's" : "week's"} spend has no \`${tag}\` tag.${hint}`,
  };
}

/** Daily spend over the chart's days, stacked by the top services of those days and "Other". */
async function buildChart(
  deps: HandlerDeps,
  scope: ReportScope,
  range: DateRange,
  totals: ReadonlyMap<PlainDate, Amount>,
  services: readonly { key: string; amount: Amount }[],
  audience: string,
): Promise<DailyStackChart> {
  const ranked = services
    .filter((service) => service.amount !== 0n)
    .sort((a, b) => (b.amount > a.amount ? 1 : b.amount < a.amount ? -1 : a.key.localeCompare(b.key)));
  const top = ranked.slice(0, CHART_SERIES);
  const series = await Promise.all(
    top.map(async (service) => {
      const rows = await deps.store.sumByDay('service', { metric: scope.metric, team: scope.team, value: service.key, range });
      return { name: labelOf(service.key), byDay: new Map(rows.map((row) => [row.key, row.amount])) };
    }),
  );
  return stackChart({
    title: `Daily spend by service · ${audience} · ${formatDays(range)}`,
    currency: scope.currency,
    days: eachDay(range),
    totals,
    series,
    withOther: ranked.length > top.length,
  });
}
