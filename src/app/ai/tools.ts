/**
 * The tools the model may call: read-only questions to the same cost store the commands
 * use, answered by the same handlers, so an AI answer's figures are the figures `cost` and
 * `top` show. The list is fixed here; the model's arguments are validated with zod; every
 * team it names is checked against what the asking conversation may see; results are compact
 * text (top items and totals, never whole tables).
 */
import { z } from 'zod';
import { rankMovers } from '../../core/breakdown.js';
import { type CostMetric, METRIC_WORDS, TOTAL_FACET } from '../../core/cost-model.js';
import { FinOpsError } from '../../core/errors.js';
import { formatAmount, sumAmounts } from '../../core/money.js';
import { addDays, formatRange, parsePeriod, type PeriodSpec, rangeLength } from '../../core/period.js';
import type { Reply } from '../../core/reply.js';
import type { ModelTool } from '../../ports.js';
import { handleCost } from '../handlers/cost.js';
import { handleForecast } from '../handlers/forecast.js';
import { handleAnomalies } from '../handlers/anomalies.js';
import { handleBudget } from '../handlers/budget.js';
import { rightsizingView } from '../handlers/rightsizing.js';
import { handleTags } from '../handlers/tags.js';
import { handleTop, moverBlocks } from '../handlers/top.js';
import { parseDimension, teamName, UsageError } from '../parse-values.js';
import { facetForDimension, type HandlerDeps, labellerFor, labelOf, resolveScope, resolveTeam, scopeFooter, teamSuffix } from '../report-context.js';
import { permittedTeam, seesEveryTeam, type TeamAccess } from '../team-access.js';
import { cleanText, replyAsData } from './tool-text.js';

/** What a tool call returns to the model: its text, and the basis line of the data it read. */
export interface ToolOutput {
  readonly text: string;
  /** "last 7 days (…) · unblended cost in USD · data through …", when the tool read cost data. */
  readonly basis: string | undefined;
}

/** A tool: its definition for the model and the code that answers it. */
interface ToolDefinition<Input> {
  readonly name: string;
  readonly description: string;
  readonly input: z.ZodType<Input>;
  /** False when the tool shows organisation-wide data a confined conversation may not see. */
  readonly confinedOk: boolean;
  run(deps: HandlerDeps, input: Input, access: TeamAccess): Promise<ToolOutput>;
}

/** Longest daily series a tool returns day by day; longer periods come as weekly sums. */
const MAX_DAILY_POINTS = 45;
/** Most values `list_values` returns. */
const MAX_VALUES = 30;

const periodText = z
  .string()
  .max(40)
  .describe('A period: today, yesterday, 7d, 30d, 90d (any Nd up to 400d), mtd, last-month, YYYY-MM, or YYYY-MM-DD..YYYY-MM-DD (inclusive).');
const teamText = z.string().max(100).describe('A team (a value of the team tag), or "untagged" for spend without it. Omit for the whole organisation.');
const dimensionText = z.string().max(140).describe('service, account, region, team, usage-type, or tag:<Key>.');
const metricWord = z.enum(Object.keys(METRIC_WORDS) as [string, ...string[]]).describe('Cost metric; omit for the organisation default.');

const reportInput = z.strictObject({ period: periodText.optional(), team: teamText.optional(), metric: metricWord.optional() });

const TOOLS = [
  tool({
    name: 'cost_breakdown',
    description:
      'Total spend over a period, its change against the previous equal period, and the top items of one dimension (the rest folded into "Others"). Use it for "how much", "what do we spend on".',
    input: reportInput.extend({ by: dimensionText.optional() }),
    confinedOk: true,
    async run(deps, input, access) {
      const reply = await handleCost(deps, { name: 'cost', ...(report(input, access)), by: input.by === undefined ? undefined : parseDimension(input.by) });
      return replyAsData(reply);
    },
  }),
  tool({
    name: 'top_movers',
    description:
      'What drove the change over a period against the previous equal period: the largest increases and decreases by team and service (or, for one team, by service and usage type), with how much of the net change they explain.',
    input: reportInput,
    confinedOk: true,
    async run(deps, input, access) {
      return replyAsData(await handleTop(deps, { name: 'top', ...(report(input, access)) }));
    },
  }),
  tool({
    name: 'compare_periods',
    description:
      'Compares any two periods (for example 2026-10 against 2026-09) and ranks the drivers of the difference by one dimension. Use top_movers when the comparison is simply with the previous equal period.',
    input: z.strictObject({ period: periodText, against: periodText, by: dimensionText.optional(), team: teamText.optional(), metric: metricWord.optional() }),
    confinedOk: true,
    run: comparePeriods,
  }),
  tool({
    name: 'month_end_forecast',
    description: "This month's month-end spend forecast with an 80% range, the spend so far and last month's total.",
    input: z.strictObject({ team: teamText.optional(), metric: metricWord.optional() }),
    confinedOk: true,
    async run(deps, input, access) {
      const { team, metric } = report(input, access);
      return replyAsData(await handleForecast(deps, { name: 'forecast', team, metric }));
    },
  }),
  tool({
    name: 'daily_costs',
    description: `Spend day by day over a period (weekly sums beyond ${MAX_DAILY_POINTS} days), optionally of one value of a dimension, such as one service. Use it to find when a change started.`,
    input: reportInput.extend({
      dimension: dimensionText.optional(),
      value: z.string().max(200).optional().describe('Exact value of the dimension, as list_values or cost_breakdown name it (e.g. "Amazon Relational Database Service").'),
    }),
    confinedOk: true,
    run: dailyCosts,
  }),
  tool({
    name: 'list_values',
    description: `Values of a dimension that had spend in a period (up to ${MAX_VALUES}, largest first), optionally only those containing some text; use it to find the exact name of a service, account or usage type.`,
    input: z.strictObject({ dimension: dimensionText, period: periodText.optional(), team: teamText.optional(), contains: z.string().max(100).optional() }),
    confinedOk: true,
    run: listValues,
  }),
  tool({
    name: 'tag_coverage',
    description: 'How much spend carries a tag (the team tag by default) and which services and accounts hold the untagged spend.',
    input: z.strictObject({ key: z.string().max(128).optional(), period: periodText.optional(), metric: metricWord.optional() }),
    confinedOk: false,
    async run(deps, input) {
      return replyAsData(await handleTags(deps, { name: 'tags', key: input.key, period: period(input.period), metric: metric(input.metric) }));
    },
  }),
  tool({
    name: 'anomalies',
    description:
      'Cost anomalies found on the days of a period (the last 30 by default): days, what rose (team, service), USD above expected, severity, status (open, acknowledged, snoozed, not an anomaly) and the main driver. Use it for "was there a spike", "anything unusual".',
    input: z.strictObject({ period: periodText.optional(), team: teamText.optional() }),
    confinedOk: true,
    async run(deps, input, access) {
      if (!deps.anomalies) return { text: 'Anomaly detection is not available in this build.', basis: undefined };
      const { period: spec, team } = report(input, access);
      return replyAsData(await handleAnomalies({ ...deps, anomalies: deps.anomalies }, { name: 'anomalies', period: spec, team }));
    },
  }),
  tool({
    name: 'budgets',
    description: "The teams' monthly budgets with this month's spend and month-end forecast against each (as percentages), and who set them.",
    input: z.strictObject({}),
    confinedOk: true,
    async run(deps, _input, access) {
      if (!deps.budgets) return { text: 'Budgets are not available in this build.', basis: undefined };
      return replyAsData(await handleBudget({ ...deps, budgets: deps.budgets }, { name: 'budget', action: 'show' }, access, undefined));
    },
  }),
  tool({
    name: 'rightsizing',
    description: 'Open EC2 rightsizing recommendations, biggest saving first: instance, team, current → proposed type, CPU and memory utilisation, estimated saving a month, approval status. Use it for "where can we save", "oversized instances".',
    input: z.strictObject({ team: teamText.optional() }),
    confinedOk: true,
    async run(deps, input, access) {
      if (!deps.rightsizing) return { text: 'Rightsizing is not available in this build.', basis: undefined };
      const typed = permittedTeam(access, input.team);
      const team = typed === undefined ? undefined : await resolveTeam(deps, typed);
      // Read-only: what is stored, no read from AWS, no expiry; decisions stay with people and their buttons.
      return replyAsData(await rightsizingView({ ...deps, rightsizing: deps.rightsizing }, team, access, false, { readOnly: true }));
    },
  }),
];

/** The names of every tool, the allow-list. */
export const TOOL_NAMES: readonly string[] = TOOLS.map((definition) => definition.name);

/** The tool definitions offered to a conversation with `access` (org-wide tools only when it sees every team). */
export function toolsFor(access: TeamAccess): ModelTool[] {
  return TOOLS.filter((definition) => definition.confinedOk || seesEveryTeam(access)).map((definition) => ({
    name: definition.name,
    description: definition.description,
    inputSchema: jsonSchemaOf(definition.input),
  }));
}

/**
 * Runs one tool call from the model. A name outside the offered list, invalid arguments
 * or a question the data cannot answer become an error result the model can read and act
 * on; nothing else runs. Unexpected failures are thrown to the caller.
 */
export async function runTool(deps: HandlerDeps, access: TeamAccess, name: string, input: unknown): Promise<{ output: ToolOutput; isError: boolean }> {
  const definition = TOOLS.find((candidate) => candidate.name === name);
  if (!definition || (!definition.confinedOk && !seesEveryTeam(access))) {
    return failure(`There is no tool named ${JSON.stringify(name.slice(0, 60))}. The tools are: ${toolsFor(access).map((offered) => offered.name).join(', ')}.`);
  }
  const parsed = definition.input.safeParse(input);
  if (!parsed.success) return failure(`Invalid arguments for ${name}: ${z.prettifyError(parsed.error).slice(0, 500)}`);
  try {
    const output = await definition.run(deps, parsed.data, access);
    return { output: { text: cleanText(output.text), basis: output.basis }, isError: false };
  } catch (error) {
    if (error instanceof FinOpsError && ['no_data', 'command_invalid'].includes(error.code)) return failure(error.message);
    if (error instanceof UsageError) return failure(`${error.message}${error.hint ? ` ${error.hint}` : ''}`);
    throw error;
  }
}

// Error sentences can carry stored names (the unknown-team sentence lists every team): cleaned like results.
function failure(text: string): { output: ToolOutput; isError: boolean } {
  return { output: { text: cleanText(text), basis: undefined }, isError: true };
}

// `tool` keeps each definition's input type while the list holds them together.
function tool<Input>(definition: ToolDefinition<Input>): ToolDefinition<unknown> {
  return definition as ToolDefinition<unknown>;
}

function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...json } = z.toJSONSchema(schema) as Record<string, unknown>;
  return json;
}

function period(text: string | undefined): PeriodSpec | undefined {
  if (text === undefined) return undefined;
  const parsed = parsePeriod(text);
  if ('error' in parsed) throw new UsageError(parsed.error, 'Periods: today, yesterday, 7d, 30d, 90d, mtd, last-month, YYYY-MM, YYYY-MM-DD..YYYY-MM-DD.');
  return parsed;
}

function metric(word: string | undefined): CostMetric | undefined {
  return word === undefined ? undefined : METRIC_WORDS[word];
}

/** The period, metric and permitted team of a report-like tool input. */
function report(input: { period?: string | undefined; team?: string | undefined; metric?: string | undefined }, access: TeamAccess) {
  return {
    period: period(input.period),
    team: permittedTeam(access, input.team === undefined ? undefined : teamName(input.team)),
    metric: metric(input.metric),
  };
}

async function comparePeriods(
  deps: HandlerDeps,
  input: { period: string; against: string; by?: string | undefined; team?: string | undefined; metric?: string | undefined },
  access: TeamAccess,
): Promise<ToolOutput> {
  const options = report(input, access);
  const { facet, by } = facetForDimension(deps.settings, input.by === undefined ? 'service' : parseDimension(input.by));
  const facets = [TOTAL_FACET, facet];
  const [current, baseline] = await Promise.all([
    resolveScope(deps, { period: options.period!, team: options.team, metric: options.metric }, facets),
    resolveScope(deps, { period: period(input.against)!, team: options.team, metric: options.metric }, facets),
  ]);
  const query = { metric: current.metric, team: current.team };
  const [now, before, label] = await Promise.all([
    deps.store.sumBy(facet, by, { ...query, range: current.range }),
    deps.store.sumBy(facet, by, { ...query, range: baseline.range }),
    by === 'value' ? labellerFor(deps, facet) : labelOf,
  ]);
  const totalNow = sumAmounts(now.map((row) => row.amount));
  const totalBefore = sumAmounts(before.map((row) => row.amount));
  const movers = rankMovers(now, before);
  const relabel = (list: typeof movers.increases) => list.map((mover) => ({ ...mover, key: label(mover.key) }));
  const reply: Reply = {
    kind: 'answer',
    title: `${current.requested.label} against ${baseline.requested.label}${teamSuffix(current.team)}`,
    blocks: [
      {
        type: 'fields',
        fields: [
          { label: `${current.requested.label} (${formatRange(current.range)}, ${rangeLength(current.range)} days)`, value: formatAmount(totalNow, current.currency) },
          { label: `${baseline.requested.label} (${formatRange(baseline.range)}, ${rangeLength(baseline.range)} days)`, value: formatAmount(totalBefore, current.currency) },
        ],
      },
      ...moverBlocks(input.by ?? 'service', { increases: relabel(movers.increases), decreases: relabel(movers.decreases) }, totalNow - totalBefore, current),
      { type: 'context', text: `${scopeFooter(deps, current)} · compared with ${formatRange(baseline.range)}` },
    ],
  };
  return replyAsData(reply);
}

async function dailyCosts(
  deps: HandlerDeps,
  input: { period?: string | undefined; team?: string | undefined; metric?: string | undefined; dimension?: string | undefined; value?: string | undefined },
  access: TeamAccess,
): Promise<ToolOutput> {
  const options = report(input, access);
  const { facet, by } = input.dimension === undefined ? { facet: TOTAL_FACET, by: 'value' as const } : facetForDimension(deps.settings, parseDimension(input.dimension));
  if (input.value !== undefined && by === 'team') throw new UsageError('To see one team day by day, pass it as `team`, not as a value of the team dimension.');
  const scope = await resolveScope(deps, { period: options.period ?? { kind: 'last-days', days: 30 }, team: options.team, metric: options.metric }, [TOTAL_FACET, facet]);
  const rows = await deps.store.sumByDay(facet, { range: scope.range, metric: scope.metric, team: scope.team, value: input.dimension === undefined ? undefined : input.value });
  const byDay = new Map(rows.map((row) => [row.key, row.amount]));
  const points: string[] = [];
  const weekly = rangeLength(scope.range) > MAX_DAILY_POINTS;
  for (let day = scope.range.start; day < scope.range.end; day = addDays(day, weekly ? 7 : 1)) {
    let amount = 0n;
    const last = weekly ? addDays(day, 6) : day;
    for (let each = day; each <= last && each < scope.range.end; each = addDays(each, 1)) amount += byDay.get(each) ?? 0n;
    points.push(`${weekly ? `week of ${day}` : day}: ${formatAmount(amount, scope.currency)}`);
  }
  const total = sumAmounts(rows.map((row) => row.amount));
  const subject = input.value === undefined ? `All spend${teamSuffix(scope.team)}` : `${input.dimension} = ${JSON.stringify(input.value)}${teamSuffix(scope.team)}`;
  const basis = scopeFooter(deps, scope);
  return {
    text: [`${subject}, ${weekly ? 'weekly' : 'daily'}, total ${formatAmount(total, scope.currency)}:`, ...points, `Basis: ${basis}`].join('\n'),
    basis,
  };
}

async function listValues(
  deps: HandlerDeps,
  input: { dimension: string; period?: string | undefined; team?: string | undefined; contains?: string | undefined },
  access: TeamAccess,
): Promise<ToolOutput> {
  const options = report(input, access);
  const { facet, by } = facetForDimension(deps.settings, parseDimension(input.dimension));
  const scope = await resolveScope(deps, { period: options.period ?? { kind: 'last-days', days: 30 }, team: options.team, metric: options.metric }, [TOTAL_FACET, facet]);
  const label = by === 'value' ? await labellerFor(deps, facet) : labelOf;
  const rows = (await deps.store.sumBy(facet, by, { range: scope.range, metric: scope.metric, team: scope.team }))
    .filter((row) => input.contains === undefined || label(row.key).toLowerCase().includes(input.contains.toLowerCase()))
    .sort((a, b) => (a.amount === b.amount ? 0 : a.amount > b.amount ? -1 : 1));
  const shown = rows.slice(0, MAX_VALUES).map((row) => `${JSON.stringify(label(row.key))}: ${formatAmount(row.amount, scope.currency)}`);
  const basis = scopeFooter(deps, scope);
  const more = rows.length > MAX_VALUES ? [`… and ${rows.length - MAX_VALUES} more (total of those ${formatAmount(sumAmounts(rows.slice(MAX_VALUES).map((row) => row.amount)), scope.currency)})`] : [];
  const none = rows.length === 0 ? ['No values with spend match.'] : [];
  return { text: [`Values of ${input.dimension}${teamSuffix(scope.team)}:`, ...shown, ...more, ...none, `Basis: ${basis}`].join('\n'), basis };
}
