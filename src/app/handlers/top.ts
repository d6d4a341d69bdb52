/**
 * `top [PERIOD] [for TEAM]`: what drove the change against the previous equal period. For
 * the whole organisation the movers are teams and services; for one team, its services and
 * usage types (the usage type names the instance family or storage class that moved).
 */
import { type Mover, rankMovers } from '../../core/breakdown.js';
import { type Facet, TOTAL_FACET } from '../../core/cost-model.js';
import { formatAmount, formatPercent, formatSignedCents, sumAmounts, toCents } from '../../core/money.js';
import { FinOpsError } from '../../core/errors.js';
import type { Reply, ReplyBlock } from '../../core/reply.js';
import type { Command } from '../command.js';
import { comparisonFields, type HandlerDeps, labelOf, type ReportScope, resolveScope, scopeFooter, teamSuffix } from '../report-context.js';

const INCREASES = 5;
const DECREASES = 3;

/** Answers `top`. */
export async function handleTop(deps: HandlerDeps, command: Extract<Command, { name: 'top' }>): Promise<Reply> {
  const perTeam = command.team !== undefined;
  const views: { title: string; facet: Facet; by: 'team' | 'value' }[] = perTeam
    ? [
        { title: 'Service', facet: 'service', by: 'value' },
        { title: 'Usage type', facet: 'usage-type', by: 'value' },
      ]
    : [
        { title: 'Team', facet: TOTAL_FACET, by: 'team' },
        { title: 'Service', facet: 'service', by: 'value' },
      ];
  const scope = await resolveScope(
    deps,
    { period: command.period ?? { kind: 'last-days', days: 7 }, team: command.team, metric: command.metric },
    [...new Set([TOTAL_FACET, ...views.map((view) => view.facet)])],
  );
  const previousRange = scope.previous;
  if (!previousRange) {
    throw new FinOpsError(
      'no_data',
      `I can't say what moved over ${scope.requested.label}: the period before it is older than the history I keep (from ${scope.freshness.dataFrom}). Try a shorter period.`,
    );
  }
  const blocks: ReplyBlock[] = [];
  let totals: { current: bigint; previous: bigint } | undefined;
  for (const view of views) {
    const query = { metric: scope.metric, team: scope.team };
    const [current, previous] = await Promise.all([
      deps.store.sumBy(view.facet, view.by, { ...query, range: scope.range }),
      deps.store.sumBy(view.facet, view.by, { ...query, range: previousRange }),
    ]);
    totals ??= { current: sumAmounts(current.map((item) => item.amount)), previous: sumAmounts(previous.map((item) => item.amount)) };
    const movers = rankMovers(current, previous);
    blocks.push(...moverBlocks(view.title, movers, totals.current - totals.previous, scope));
  }
  blocks.unshift(comparisonFields(toCents(totals!.current), toCents(totals!.previous), scope.previous, scope.currency));
  blocks.push({ type: 'context', text: scopeFooter(deps, scope) });
  return { kind: 'answer', title: `Top movers${teamSuffix(scope.team)}, ${scope.requested.label}`, blocks };
}

/**
 * The largest increases and decreases of one view (teams, services …) as a table, with a
 * line saying how much of the net change they explain. Digests reuse it with fewer rows.
 */
export function moverBlocks(
  title: string,
  movers: { increases: Mover[]; decreases: Mover[] },
  netChange: bigint,
  scope: Pick<ReportScope, 'currency'>,
  limits: { readonly increases: number; readonly decreases: number } = { increases: INCREASES, decreases: DECREASES },
): ReplyBlock[] {
  const shown = [...movers.increases.slice(0, limits.increases), ...movers.decreases.slice(0, limits.decreases)];
  if (shown.length === 0) return [{ type: 'text', text: `*By ${title.toLowerCase()}*: nothing changed by a cent or more.` }];
  const blocks: ReplyBlock[] = [
    {
      type: 'table',
      columns: [
        { title, align: 'left' },
        { title: 'Change', align: 'right' },
        { title: '%', align: 'right' },
        { title: 'Now', align: 'right' },
        { title: 'Before', align: 'right' },
      ],
      rows: shown.map((mover) => [
        labelOf(mover.key),
        formatSignedCents(toCents(mover.delta), scope.currency),
        mover.changePercent === undefined ? 'new' : formatPercent(mover.changePercent),
        formatAmount(mover.current, scope.currency),
        formatAmount(mover.previous, scope.currency),
      ]),
    },
  ];
  const explained = sumAmounts(shown.map((mover) => mover.delta));
  if (netChange !== 0n && toCents(netChange) !== 0n) {
    blocks.push({
      type: 'context',
      text: `These ${shown.length} ${title.toLowerCase()} lines add up to ${formatSignedCents(toCents(explained), scope.currency)} of the net ${formatSignedCents(toCents(netChange), scope.currency)} change.`,
    });
  }
  return blocks;
}
