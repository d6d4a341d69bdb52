/**
 * `cost [PERIOD] [by DIM] [for TEAM]`: the total, its change against the previous equal
 * period, the top items with an "others" line so the lines add up to the total, and a daily
 * sparkline.
 */
import { buildBreakdown } from '../../core/breakdown.js';
import { TOTAL_FACET } from '../../core/cost-model.js';
import { formatCents, formatPercent, percentShare, toCents } from '../../core/money.js';
import type { Reply, ReplyBlock } from '../../core/reply.js';
import { sparkline } from '../../core/sparkline.js';
import type { Command } from '../command.js';
import { comparisonFields, dailyNumbers, facetForDimension, type HandlerDeps, labelOf, labellerFor, resolveScope, scopeFooter, teamSuffix } from '../report-context.js';

/** Lines shown before the rest is folded into "others". */
export const COST_TOP_ITEMS = 8;

const DIMENSION_TITLE: Record<string, string> = {
  service: 'Service',
  account: 'Account',
  region: 'Region',
  team: 'Team',
  'usage-type': 'Usage type',
};

/** Answers `cost`. */
export async function handleCost(deps: HandlerDeps, command: Extract<Command, { name: 'cost' }>): Promise<Reply> {
  const dimension = command.by ?? 'service';
  const { facet, by } = facetForDimension(deps.settings, dimension);
  const scope = await resolveScope(deps, { period: command.period ?? { kind: 'last-days', days: 30 }, team: command.team, metric: command.metric }, [
    TOTAL_FACET,
    facet,
  ]);
  const query = { metric: scope.metric, team: scope.team };
  const [current, previous, daily, label] = await Promise.all([
    deps.store.sumBy(facet, by, { ...query, range: scope.range }),
    scope.previous ? deps.store.sumBy(facet, by, { ...query, range: scope.previous }) : [],
    deps.store.sumByDay(TOTAL_FACET, { ...query, range: scope.range }),
    by === 'value' ? labellerFor(deps, facet) : labelOf,
  ]);
  const breakdown = buildBreakdown(current, previous, COST_TOP_ITEMS);
  const currency = scope.currency;
  const blocks: ReplyBlock[] = [
    comparisonFields(breakdown.totalCents, toCents(breakdown.previousTotal), scope.previous, currency),
    { type: 'sparkline', label: 'Daily', line: sparkline(dailyNumbers(scope.range, daily)) },
  ];
  const title = dimension.startsWith('tag:') ? dimension.slice(4) : (DIMENSION_TITLE[dimension] ?? dimension);
  if (breakdown.lines.length > 0) {
    blocks.push({
      type: 'table',
      columns: [
        { title, align: 'left' },
        { title: 'Cost', align: 'right' },
        { title: 'Share', align: 'right' },
        { title: 'Change', align: 'right' },
      ],
      rows: breakdown.lines.map((line) => [
        line.isOthers ? `Others (${line.members})` : label(line.key),
        formatCents(line.cents, currency),
        formatPercent(percentShare(line.amount, breakdown.total), false),
        !scope.previous ? '' : line.changePercent === undefined ? 'new' : formatPercent(line.changePercent),
      ]),
      footer: [
        'Total',
        formatCents(breakdown.totalCents, currency),
        '100.0%',
        !scope.previous || breakdown.changePercent === undefined ? '' : formatPercent(breakdown.changePercent),
      ],
    });
  } else {
    blocks.push({ type: 'text', text: `No spend${teamSuffix(scope.team)} in this period.` });
  }
  blocks.push({ type: 'context', text: scopeFooter(deps, scope) });
  return { kind: 'answer', title: `Cost by ${title.toLowerCase()}${teamSuffix(scope.team)}, ${scope.requested.label}`, blocks };
}
