/**
 * What every report needs before it can query: the period anchored to the organisation's
 * today and clipped to the days the data covers, the team resolved against known teams, the
 * metric, and the footer that says period, metric and freshness.
 */
import { type CostMetric, type Dimension, type Facet, metricLabel, TOTAL_FACET, UNTAGGED_LABEL } from '../core/cost-model.js';
import { FinOpsError } from '../core/errors.js';
import { type Amount, amountToNumber, formatCents, formatPercent, formatSignedCents, percentChange } from '../core/money.js';
import {
  addDays,
  type DateRange,
  maxDate,
  eachDay,
  formatRange,
  minDate,
  type Period,
  type PeriodSpec,
  type PlainDate,
  rangeLength,
  resolvePeriod,
  todayIn,
} from '../core/period.js';
import type { ReplyBlock } from '../core/reply.js';
import { closestMatch } from '../core/suggest.js';
import type { AnomalyStore, BudgetStore, Clock, CostStore, RightsizingStore, SyncState } from '../ports.js';
import type { ApproverPolicy } from './rightsizing/approver-policy.js';
import type { RightsizingDesk } from './rightsizing/desk.js';

/** Settings the handlers read. */
export interface EngineSettings {
  readonly timeZone: string;
  readonly teamTag: string;
  readonly defaultMetric: CostMetric;
  /** Facets the sync keeps (decides which `by tag:<Key>` questions can be answered). */
  readonly facets: readonly Facet[];
  readonly sourceKind: 'aws' | 'demo';
  /** When digests go out (cron expressions), for `subscriptions` to say. */
  readonly digestSchedule?: { readonly daily: string; readonly weekly: string } | undefined;
  /**
   * Conversations confined to some teams (by conversation id; `*` for all others). Absent:
   * every conversation sees every team.
   */
  readonly channelTeams?: ReadonlyMap<string, readonly string[]> | undefined;
}

/** Dependencies of the command handlers. */
export interface HandlerDeps {
  readonly store: CostStore;
  /** Detected anomalies, for `anomalies` and the digests' open anomalies (absent: neither shows any). */
  readonly anomalies?: AnomalyStore | undefined;
  /** Teams' monthly budgets, for `budget`, `forecast` and the digests (absent: none of them shows budgets). */
  readonly budgets?: BudgetStore | undefined;
  /** Rightsizing recommendations, approvers and the audit log (absent: `rightsizing`, `approvers` and `audit` are not offered). */
  readonly rightsizing?: RightsizingServices | undefined;
  readonly clock: Clock;
  readonly settings: EngineSettings;
}

/** What the rightsizing commands and the digests use. */
export interface RightsizingServices {
  readonly store: RightsizingStore;
  readonly desk: RightsizingDesk;
  readonly policy: ApproverPolicy;
}

/** How fresh the stored data is. */
export interface Freshness {
  /** Last complete day in the store, if any. */
  readonly dataThrough: PlainDate | undefined;
  /** First day of the stored history: nothing before it was fetched. */
  readonly dataFrom: PlainDate | undefined;
  /** First recent day that AWS still marks as estimated (its figures may still rise). */
  readonly estimatedFrom: PlainDate | undefined;
  readonly lastSyncAt: Date | undefined;
  readonly lastError: string | undefined;
}

/** A period resolved against the data: what a report actually covers. */
export interface ReportScope {
  readonly requested: Period;
  /** The days covered: the requested period clipped to the stored history. */
  readonly range: DateRange;
  /** The previous period, clipped to the same number of days; none when it would reach before the history. */
  readonly previous: DateRange | undefined;
  readonly partial: boolean;
  readonly team: string | undefined;
  readonly metric: CostMetric;
  readonly currency: string;
  readonly freshness: Freshness;
}

/**
 * Reads the freshness of the facets a report uses (the stalest of them wins), and which
 * days from `estimatedSince` on AWS still marks as estimated.
 */
export async function loadFreshness(store: CostStore, facetList: readonly Facet[], options: { estimatedSince?: PlainDate } = {}): Promise<Freshness> {
  const freshness = freshnessOf(await store.getSyncStates(), facetList);
  const estimatedFrom = freshness.dataThrough && options.estimatedSince ? await store.estimatedFrom(TOTAL_FACET, options.estimatedSince) : undefined;
  return { ...freshness, estimatedFrom };
}

/** Freshness of some facets from their sync states (the stalest of them wins), without estimated days. */
export function freshnessOf(allStates: readonly SyncState[], facetList: readonly Facet[]): Freshness {
  const facets = [...new Set(facetList)];
  const states = allStates.filter((state) => facets.includes(state.facet));
  const synced = states.map((state) => state.syncedUntil).filter((day): day is string => day !== undefined);
  const through = synced.length === facets.length && synced.length > 0 ? addDays(synced.sort()[0]!, -1) : undefined;
  const from = states.map((state) => state.syncedFrom).filter((day): day is string => day !== undefined).sort().at(-1);
  const lastSync = states.map((state) => state.lastSuccessAt?.getTime() ?? 0).sort((a, b) => b - a)[0];
  const lastError = states.find((state) => state.lastError)?.lastError;
  return { dataThrough: through, dataFrom: from, estimatedFrom: undefined, lastSyncAt: lastSync ? new Date(lastSync) : undefined, lastError };
}

/**
 * Resolves the period, team and metric of a report. Throws a coded error with a sentence
 * when there is no data at all, the period has no data yet, or the team is unknown.
 */
export async function resolveScope(
  deps: HandlerDeps,
  request: { period: PeriodSpec; team?: string | undefined; metric?: CostMetric | undefined },
  facets: readonly Facet[] = [TOTAL_FACET],
): Promise<ReportScope> {
  const freshness = await loadFreshness(deps.store, facets);
  if (!freshness.dataThrough) {
    throw new FinOpsError(
      'no_data',
      freshness.lastError
        ? `I have no cost data yet, because the last sync failed. ${freshness.lastError}`
        : 'I have no cost data yet: the first sync is still running. Try again in a minute.',
    );
  }
  const today = todayIn(deps.settings.timeZone, deps.clock.now());
  const requested = resolvePeriod(request.period, today);
  const end = minDate(requested.end, addDays(freshness.dataThrough, 1));
  if (end <= requested.start) {
    throw new FinOpsError(
      'no_data',
      `There is no cost data for ${requested.label} (${formatRange(requested)}) yet: AWS data is through ${freshness.dataThrough}.`,
    );
  }
  const historyStart = freshness.dataFrom ?? requested.start;
  const start = maxDate(requested.start, historyStart);
  if (end <= start) {
    throw new FinOpsError('no_data', `I have no cost data for ${requested.label} (${formatRange(requested)}): the history I keep starts ${historyStart}.`);
  }
  const days = rangeLength({ start, end });
  const previousEnd = minDate(requested.previous.end, addDays(requested.previous.start, days));
  // A comparison with days that were never fetched would show growth that did not happen.
  const previous = start === requested.start && requested.previous.start >= historyStart ? { start: requested.previous.start, end: previousEnd } : undefined;
  const team = request.team === undefined ? undefined : await resolveTeam(deps, request.team);
  // Which of the report's own days AWS still estimates.
  const estimatedFrom = await deps.store.estimatedFrom(TOTAL_FACET, start);
  return {
    requested,
    range: { start, end },
    previous,
    partial: start > requested.start || end < requested.end,
    team,
    metric: request.metric ?? deps.settings.defaultMetric,
    currency: (await deps.store.currency()) ?? 'USD',
    freshness: { ...freshness, estimatedFrom },
  };
}

/** Matches a typed team name to a known team, ignoring case; suggests the closest otherwise. */
export async function resolveTeam(deps: HandlerDeps, typed: string): Promise<string> {
  if (typed === '') return '';
  const teams = (await deps.store.listTeams()).filter((team) => team !== '');
  const exact = teams.find((team) => team.toLowerCase() === typed.toLowerCase());
  if (exact !== undefined) return exact;
  // Where conversations are confined to teams, the names of the others are not for every reader.
  if (deps.settings.channelTeams && deps.settings.channelTeams.size > 0) {
    throw new FinOpsError('command_invalid', `I have no cost data for the team \`${typed}\`.`);
  }
  const suggestion = closestMatch(typed, teams);
  throw new FinOpsError(
    'command_invalid',
    `I don't know the team \`${typed}\`${suggestion ? `; did you mean \`${suggestion}\`?` : '.'} ` +
      `Teams are values of the \`${deps.settings.teamTag}\` tag: ${teams.map((team) => `\`${team}\``).join(', ')}, and \`untagged\`.`,
  );
}

/** The facet and grouping that answer "by DIM"; refuses tag keys that are not synced. */
export function facetForDimension(settings: EngineSettings, dimension: Dimension): { facet: Facet; by: 'value' | 'team' } {
  if (dimension === 'team') return { facet: TOTAL_FACET, by: 'team' };
  if (dimension.startsWith('tag:')) {
    const key = dimension.slice(4);
    if (key.toLowerCase() === settings.teamTag.toLowerCase()) return { facet: TOTAL_FACET, by: 'team' };
    const facet = settings.facets.find((candidate) => candidate.toLowerCase() === `tag:${key.toLowerCase()}`);
    if (!facet) throw unsyncedTag(settings, key);
    return { facet, by: 'value' };
  }
  return { facet: dimension as Facet, by: 'value' };
}

/** The error for a tag key the sync does not keep. */
export function unsyncedTag(settings: EngineSettings, key: string): FinOpsError {
  const synced = [settings.teamTag, ...settings.facets.filter((facet) => facet.startsWith('tag:')).map((facet) => facet.slice(4))];
  return new FinOpsError(
    'command_invalid',
    `I don't keep the tag \`${key}\`. Tags I keep: ${synced.map((tag) => `\`${tag}\``).join(', ')}. ` +
      'An operator can add it to FINOPS_TAG_KEYS.',
  );
}

/** Daily amounts over a range with missing days as zero, for sparklines and forecasts. */
export function fillDays(range: DateRange, days: readonly { key: string; amount: Amount }[]): { date: PlainDate; amount: Amount }[] {
  const byDay = new Map(days.map((day) => [day.key, day.amount]));
  return eachDay(range).map((date) => ({ date, amount: byDay.get(date) ?? 0n }));
}

/** Daily amounts as numbers, for drawing. */
export function dailyNumbers(range: DateRange, days: readonly { key: string; amount: Amount }[]): number[] {
  return fillDays(range, days).map((day) => amountToNumber(day.amount));
}

/** How a team or value is shown: untagged spend is labelled, never blank. */
export function labelOf(key: string): string {
  return key === '' ? UNTAGGED_LABEL : key;
}

/**
 * A labeller for a facet's values: accounts read "acme-production (481516234201)" when the
 * sync has learned the name; everything else as {@link labelOf}.
 */
export async function labellerFor(deps: HandlerDeps, facet: Facet): Promise<(key: string) => string> {
  if (facet !== 'account') return labelOf;
  const names = await deps.store.accountNames();
  return (key) => {
    const name = names.get(key);
    return name ? `${name} (${key})` : labelOf(key);
  };
}

/** Title suffix for a team filter. */
export function teamSuffix(team: string | undefined): string {
  return team === undefined ? '' : ` for ${labelOf(team)}`;
}

/** The footer every answer carries: period, metric, currency and freshness. */
export function scopeFooter(deps: HandlerDeps, scope: Pick<ReportScope, 'range' | 'requested' | 'partial' | 'metric' | 'currency' | 'freshness'>): string {
  const period = `${scope.requested.label} (${formatRange(scope.range)}${scope.partial ? ', partial' : ''})`;
  const { estimatedFrom, dataFrom } = scope.freshness;
  const notes = [
    scope.range.start > scope.requested.start && dataFrom ? `history starts ${dataFrom}` : undefined,
    estimatedFrom && estimatedFrom < scope.range.end ? `AWS still estimates days from ${estimatedFrom}` : undefined,
  ].filter(Boolean);
  return `${period} · ${metricLabel(scope.metric)} in ${scope.currency} · ${freshnessText(deps, scope.freshness)}${notes.map((note) => ` · ${note}`).join('')}`;
}

/** "data through 2026-11-21, synced 06:00 UTC · source: AWS Cost Explorer" */
export function freshnessText(deps: HandlerDeps, freshness: Freshness): string {
  const source = deps.settings.sourceKind === 'aws' ? 'AWS Cost Explorer' : 'demo organisation';
  const synced = freshness.lastSyncAt ? `, synced ${formatInstant(freshness.lastSyncAt, deps.settings.timeZone)}` : '';
  const warning = freshness.lastError ? ` · last sync failed: ${freshness.lastError}` : '';
  return `data through ${freshness.dataThrough ?? 'nothing yet'}${synced} · source: ${source}${warning}`;
}

/** "2026-11-22 06:00 UTC" in the organisation's time zone. */
export function formatInstant(instant: Date, timeZone: string): string {
  const text = new Intl.DateTimeFormat('sv-SE', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'short',
  }).format(instant);
  return text;
}

/**
 * The headline of a comparison: the total, the previous period's, and the change between
 * them; or, when there is no previous period in the history, just the total and why.
 */
export function comparisonFields(totalCents: bigint, previousCents: bigint, previous: DateRange | undefined, currency: string): ReplyBlock {
  if (!previous) {
    return {
      type: 'fields',
      fields: [
        { label: 'Total', value: formatCents(totalCents, currency) },
        { label: 'Change', value: 'no comparison: the previous period is older than the history I keep' },
      ],
    };
  }
  const percent = percentChange(previousCents, totalCents);
  return {
    type: 'fields',
    fields: [
      { label: 'Total', value: formatCents(totalCents, currency) },
      { label: `Previous ${formatRange(previous)}`, value: formatCents(previousCents, currency) },
      {
        label: 'Change',
        value: percent === undefined ? 'no spend in the previous period' : `${formatSignedCents(totalCents - previousCents, currency)} (${formatPercent(percent)})`,
      },
    ],
  };
}
