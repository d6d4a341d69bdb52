/**
 * The deterministic explainer: a narrative of what changed, written from the data without
 * a language model. It answers when no model is configured and whenever the model fails,
 * so a question always gets a correct answer. Every figure is computed here from the store,
 * with the same functions as `cost`, `top` and `forecast`.
 */
import { anomalyLine } from '../anomalies/present.js';
import { budgetLine, budgetStatus } from '../budgets/budget-status.js';
import { type Mover, rankMovers } from '../../core/breakdown.js';
import { type CostMetric, type Facet, TOTAL_FACET } from '../../core/cost-model.js';
import { isFinOpsError } from '../../core/errors.js';
import { type Amount, formatAmount, formatPercent, formatSignedCents, percentChange, sumAmounts, toCents } from '../../core/money.js';
import { formatRange, type PeriodSpec } from '../../core/period.js';
import { monthEndForecast } from '../handlers/forecast.js';
import { fillDays, type HandlerDeps, labelOf, labellerFor, type ReportScope, resolveScope, scopeFooter } from '../report-context.js';

/** What to explain. */
export interface ExplainRequest {
  readonly period?: PeriodSpec | undefined;
  /** A team ('' = untagged); undefined for the organisation. Already checked against the conversation's access. */
  readonly team?: string | undefined;
  readonly metric?: CostMetric | undefined;
  /** Services the question names (exact stored values), explained on their own as well. */
  readonly services?: readonly string[] | undefined;
}

/** A written explanation and the basis line of the data it read. */
export interface Explanation {
  readonly paragraphs: readonly string[];
  readonly basis: string;
}

/** Most drivers named in a sentence. */
const DRIVERS = 3;
/** A day stands out when it is this many times the period's median day. */
const PEAK_RATIO = 1.5;

/** Explains the period's spend against the previous equal period. Throws coded errors (no data, unknown team) as the commands do. */
export async function explainSpend(deps: HandlerDeps, request: ExplainRequest): Promise<Explanation> {
  const perTeam = request.team !== undefined;
  const views: { noun: string; facet: Facet; by: 'team' | 'value' }[] = perTeam
    ? [
        { noun: 'service', facet: 'service', by: 'value' },
        { noun: 'usage type', facet: 'usage-type', by: 'value' },
      ]
    : [
        { noun: 'service', facet: 'service', by: 'value' },
        { noun: 'team', facet: TOTAL_FACET, by: 'team' },
      ];
  const scope = await resolveScope(deps, { period: request.period ?? { kind: 'last-days', days: 7 }, team: request.team, metric: request.metric }, [
    ...new Set([TOTAL_FACET, ...views.map((view) => view.facet)]),
  ]);
  const query = { metric: scope.metric, team: scope.team };
  const subject = scope.team === undefined ? 'Spend' : `Spend for ${labelOf(scope.team)}`;
  const when = `${scope.requested.label} (${formatRange(scope.range)})`;
  const [currentRows, previousRows, daily] = await Promise.all([
    deps.store.sumBy(TOTAL_FACET, 'team', { ...query, range: scope.range }),
    scope.previous ? deps.store.sumBy(TOTAL_FACET, 'team', { ...query, range: scope.previous }) : Promise.resolve([]),
    deps.store.sumByDay(TOTAL_FACET, { ...query, range: scope.range }),
  ]);
  const total = sumAmounts(currentRows.map((row) => row.amount));
  const before = sumAmounts(previousRows.map((row) => row.amount));
  const paragraphs: string[] = [];
  if (!scope.previous) {
    paragraphs.push(`*What changed.* ${subject} over ${when} was ${money(total, scope)}. I can't compare it with the period before: that is older than the history I keep.`);
  } else {
    paragraphs.push(`*What changed.* ${subject} over ${when} was ${money(total, scope)}, ${changeWords(total, before, scope)} the previous period (${formatRange(scope.previous)}).`);
    for (const view of views) {
      const [current, previous, label] = await Promise.all([
        deps.store.sumBy(view.facet, view.by, { ...query, range: scope.range }),
        deps.store.sumBy(view.facet, view.by, { ...query, range: scope.previous }),
        view.by === 'value' ? labellerFor(deps, view.facet) : labelOf,
      ]);
      paragraphs.push(driverSentence(view.noun, rankMovers(current, previous), total - before, scope, label));
    }
  }
  for (const service of request.services ?? []) paragraphs.push(await serviceSentence(deps, scope, service));
  paragraphs.push(peakSentence(fillDays(scope.range, daily), scope));
  paragraphs.push(await forecastSentence(deps, scope));
  paragraphs.push(await anomalySentence(deps, scope));
  const budget = scope.team !== undefined && deps.budgets ? await deps.budgets.get(scope.team) : undefined;
  if (budget) paragraphs.push(`*Budget.* This month: ${budgetLine(await budgetStatus(deps, budget))}.`);
  return { paragraphs, basis: scopeFooter(deps, scope) };
}

/** Anomalies found on the period's days: the biggest few, as the digest lists them. */
async function anomalySentence(deps: HandlerDeps, scope: ReportScope): Promise<string> {
  const heading = '*Anomalies.*';
  if (!deps.anomalies) return `${heading} Anomaly detection is not part of this build.`;
  const found = (await deps.anomalies.listOverlapping(scope.range, scope.team)).filter((record) => record.status !== 'dismissed');
  if (found.length === 0) return `${heading} None found on these days: nothing rose above its usual level by the minimum impact.`;
  const labels = { metric: deps.settings.defaultMetric, account: await labellerFor(deps, 'account') };
  return [`${heading} ${found.length} found on these days:`, ...found.slice(0, DRIVERS).map((record) => anomalyLine(record, labels))].join('\n');
}

function money(amount: Amount, scope: Pick<ReportScope, 'currency'>): string {
  return formatAmount(amount, scope.currency);
}

/** "up $1,234.56 (+11.1%) from $11,111.11 in" / "down … from … in" / "the same as in". */
function changeWords(now: Amount, before: Amount, scope: Pick<ReportScope, 'currency'>): string {
  const delta = toCents(now) - toCents(before);
  if (delta === 0n) return `the same as the ${money(before, scope)} of`;
  const percent = percentChange(before, now);
  const direction = delta > 0n ? 'up' : 'down';
  const size = formatSignedCents(delta < 0n ? -delta : delta, scope.currency).replace(/^\+/, '');
  return `${direction} ${size}${percent === undefined ? '' : ` (${formatPercent(percent)})`} from ${money(before, scope)} in`;
}

function driverSentence(noun: string, movers: { increases: Mover[]; decreases: Mover[] }, net: Amount, scope: ReportScope, label: (key: string) => string): string {
  const rising = movers.increases.slice(0, DRIVERS);
  const falling = movers.decreases.slice(0, DRIVERS);
  const heading = `*By ${noun}.*`;
  if (rising.length === 0 && falling.length === 0) return `${heading} Nothing changed by a cent or more.`;
  const describe = (mover: Mover) =>
    `${label(mover.key)} ${formatSignedCents(toCents(mover.delta), scope.currency)} (${mover.changePercent === undefined ? 'new' : formatPercent(mover.changePercent)})`;
  const parts: string[] = [];
  const leading = net >= 0n ? rising : falling;
  const opposing = net >= 0n ? falling : rising;
  if (leading.length > 0) {
    const explained = sumAmounts(leading.map((mover) => mover.delta));
    parts.push(
      `The biggest ${net >= 0n ? 'increases' : 'decreases'} were ${list(leading.map(describe))}, ${formatSignedCents(toCents(explained), scope.currency)} together of the net ${formatSignedCents(toCents(net), scope.currency)}.`,
    );
  }
  if (opposing.length > 0) parts.push(`${net >= 0n ? 'Partly offset by' : 'Against that'}: ${list(opposing.map(describe))}.`);
  return `${heading} ${parts.join(' ')}`;
}

async function serviceSentence(deps: HandlerDeps, scope: ReportScope, service: string): Promise<string> {
  const query = { metric: scope.metric, team: scope.team, value: service };
  const [current, previous] = await Promise.all([
    deps.store.sumByDay('service', { ...query, range: scope.range }),
    scope.previous ? deps.store.sumByDay('service', { ...query, range: scope.previous }) : Promise.resolve([]),
  ]);
  const now = sumAmounts(current.map((row) => row.amount));
  const before = sumAmounts(previous.map((row) => row.amount));
  const days = fillDays(scope.range, current);
  const peak = days.reduce((best, day) => (day.amount > best.amount ? day : best), days[0]!);
  const change = scope.previous ? `, ${changeWords(now, before, scope)} the period before` : '';
  const peakText = now > 0n ? ` Its highest day was ${peak.date} at ${money(peak.amount, scope)}.` : '';
  return `*${service}.* ${money(now, scope)} over the period${change}.${peakText}`;
}

function peakSentence(days: readonly { date: string; amount: Amount }[], scope: ReportScope): string {
  const heading = '*Unusual days.*';
  if (days.length < 3) return `${heading} The period is too short to single out a day.`;
  const sorted = [...days].sort((a, b) => (a.amount < b.amount ? -1 : a.amount > b.amount ? 1 : 0));
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!.amount;
  const peak = sorted.at(-1)!;
  if (median <= 0n || peak.amount * 10n < median * BigInt(PEAK_RATIO * 10)) {
    return `${heading} No single day stood out: the highest, ${peak.date}, was ${money(peak.amount, scope)} against a median day of ${money(median, scope)}.`;
  }
  const ratio = Number((peak.amount * 10n) / median) / 10;
  return `${heading} ${peak.date} stood out at ${money(peak.amount, scope)}, ${ratio.toFixed(1)}× the median day of ${money(median, scope)}.`;
}

async function forecastSentence(deps: HandlerDeps, scope: ReportScope): Promise<string> {
  const heading = '*Month end.*';
  try {
    const result = await monthEndForecast(deps, { team: scope.team, metric: scope.metric });
    const { forecast, currency, month } = result;
    if (forecast.remainingDays === 0) return `${heading} ${month.label} closed at ${formatAmount(forecast.mean, currency)}.`;
    const versus = result.lastMonthComplete ? `; last month was ${formatAmount(result.lastMonthTotal, currency)}` : '';
    return `${heading} At the current pace ${month.label} ends near ${formatAmount(forecast.mean, currency)} (80% range ${formatAmount(forecast.low, currency)} – ${formatAmount(forecast.high, currency)})${versus}.`;
  } catch (error) {
    if (isFinOpsError(error, 'no_data')) return `${heading} ${error.message}`;
    throw error;
  }
}

function list(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}
