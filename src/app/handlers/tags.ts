/**
 * `tags [KEY] [PERIOD]`: how much spend carries a tag, and where the untagged spend sits.
 * For the team tag the offenders are services and accounts; for another kept tag key they
 * are the teams whose resources lack it.
 */
import { type Facet, TOTAL_FACET } from '../../core/cost-model.js';
import { formatAmount, formatPercent, percentShare, sumAmounts, toCents } from '../../core/money.js';
import type { Reply, ReplyBlock } from '../../core/reply.js';
import type { Command } from '../command.js';
import { type HandlerDeps, labelOf, labellerFor, type ReportScope, resolveScope, scopeFooter, unsyncedTag } from '../report-context.js';

const OFFENDERS = 5;

/** Answers `tags`. */
export async function handleTags(deps: HandlerDeps, command: Extract<Command, { name: 'tags' }>): Promise<Reply> {
  const key = command.key ?? deps.settings.teamTag;
  const isTeamTag = key.toLowerCase() === deps.settings.teamTag.toLowerCase();
  const tagFacet = isTeamTag ? undefined : deps.settings.facets.find((facet) => facet.toLowerCase() === `tag:${key.toLowerCase()}`);
  if (!isTeamTag && !tagFacet) throw unsyncedTag(deps.settings, key);
  const facets: Facet[] = isTeamTag ? [TOTAL_FACET, 'account'] : [TOTAL_FACET, tagFacet!];
  const scope = await resolveScope(deps, { period: command.period ?? { kind: 'last-days', days: 30 }, metric: command.metric }, facets);
  const base = { metric: scope.metric, range: scope.range };
  const blocks: ReplyBlock[] = [];
  // Every facet splits the whole spend, so the rows fetched for the offenders give the total too.
  let total: bigint;
  let untagged: bigint;
  if (isTeamTag) {
    const [byService, untaggedByService, byAccount, untaggedByAccount] = await Promise.all([
      deps.store.sumBy('service', 'value', base),
      deps.store.sumBy('service', 'value', { ...base, team: '' }),
      deps.store.sumBy('account', 'value', base),
      deps.store.sumBy('account', 'value', { ...base, team: '' }),
    ]);
    total = sumAmounts(byService.map((row) => row.amount));
    untagged = sumAmounts(untaggedByService.map((row) => row.amount));
    blocks.push(
      ...offenderTable('Service', untaggedByService, byService, scope, labelOf),
      ...offenderTable('Account', untaggedByAccount, byAccount, scope, await labellerFor(deps, 'account')),
    );
  } else {
    const [byTeam, untaggedByTeam] = await Promise.all([
      deps.store.sumBy(TOTAL_FACET, 'team', base),
      deps.store.sumBy(tagFacet!, 'team', { ...base, value: '' }),
    ]);
    total = sumAmounts(byTeam.map((row) => row.amount));
    untagged = sumAmounts(untaggedByTeam.map((row) => row.amount));
    blocks.push(...offenderTable('Team', untaggedByTeam, byTeam, scope, labelOf));
  }
  const untaggedShare = percentShare(untagged, total);
  blocks.unshift({
    type: 'fields',
    fields: [
      { label: `Without \`${key}\``, value: `${formatAmount(untagged, scope.currency)} (${formatPercent(untaggedShare, false)})` },
      { label: `Tagged`, value: `${formatAmount(total - untagged, scope.currency)} (${formatPercent(100 - untaggedShare, false)})` },
      { label: 'Total', value: formatAmount(total, scope.currency) },
    ],
  });
  blocks.push({ type: 'context', text: scopeFooter(deps, scope) });
  return { kind: 'answer', title: `Tag coverage of \`${key}\`, ${scope.requested.label}`, blocks };
}

function offenderTable(
  title: string,
  untagged: readonly { key: string; amount: bigint }[],
  all: readonly { key: string; amount: bigint }[],
  scope: ReportScope,
  label: (key: string) => string,
): ReplyBlock[] {
  const totals = new Map(all.map((row) => [row.key, row.amount]));
  const worst = [...untagged]
    .filter((row) => toCents(row.amount) > 0n)
    .sort((a, b) => (b.amount > a.amount ? 1 : b.amount < a.amount ? -1 : 0))
    .slice(0, OFFENDERS);
  if (worst.length === 0) return [{ type: 'text', text: `*By ${title.toLowerCase()}*: everything is tagged.` }];
  return [
    {
      type: 'table',
      columns: [
        { title: `${title} (worst first)`, align: 'left' },
        { title: 'Untagged', align: 'right' },
        { title: `Of its spend`, align: 'right' },
      ],
      rows: worst.map((row) => [
        label(row.key),
        formatAmount(row.amount, scope.currency),
        formatPercent(percentShare(row.amount, totals.get(row.key) ?? row.amount), false),
      ]),
    },
  ];
}
