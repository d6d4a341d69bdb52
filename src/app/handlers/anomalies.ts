/**
 * `anomalies [PERIOD] [for TEAM]`: the anomalies found on the period's days (the last 30 by
 * default), biggest impact first, each with its scope, its main driver and what people
 * decided about it.
 */
import { TOTAL_FACET } from '../../core/cost-model.js';
import { formatCents, roundPartsToCents, sumAmounts } from '../../core/money.js';
import type { Reply } from '../../core/reply.js';
import type { AnomalyStore } from '../../ports.js';
import { anomalyRow } from '../anomalies/present.js';
import type { Command } from '../command.js';
import { type HandlerDeps, labellerFor, resolveScope, scopeFooter, teamSuffix } from '../report-context.js';

/** Most anomalies listed; the rest are counted. */
const LISTED = 15;

/** Answers `anomalies`. */
export async function handleAnomalies(deps: HandlerDeps & { readonly anomalies: AnomalyStore }, command: Extract<Command, { name: 'anomalies' }>): Promise<Reply> {
  const scope = await resolveScope(deps, { period: command.period ?? { kind: 'last-days', days: 30 }, team: command.team, metric: command.metric }, [TOTAL_FACET]);
  const [records, account] = await Promise.all([deps.anomalies.listOverlapping(scope.range, scope.team), labellerFor(deps, 'account')]);
  const labels = { metric: deps.settings.defaultMetric, account };
  const title = `Anomalies${teamSuffix(scope.team)} · ${scope.requested.label}`;
  // Anomalies are found in the default metric, whatever metric was asked for.
  const footer = { type: 'context' as const, text: scopeFooter(deps, { ...scope, metric: labels.metric }) };
  if (records.length === 0) {
    return { kind: 'answer', title, blocks: [{ type: 'text', text: `No anomalies${teamSuffix(scope.team)} over ${scope.requested.label}: nothing rose above its usual level by the minimum impact.` }, footer] };
  }
  const listed = records.slice(0, LISTED);
  const currency = records[0]!.currency;
  const rest = records.length - listed.length;
  // Rounded together, so the rows (and the line for the rest) add up to the total shown.
  const cents = roundPartsToCents([...listed.map((record) => record.impact), sumAmounts(records.slice(LISTED).map((record) => record.impact))]);
  const total = cents.reduce((sum, part) => sum + part, 0n);
  return {
    kind: 'answer',
    title,
    blocks: [
      {
        type: 'table',
        columns: [
          { title: 'Days', align: 'left' },
          { title: 'What', align: 'left' },
          { title: 'Above expected', align: 'right' },
          { title: 'Severity', align: 'left' },
          { title: 'Status', align: 'left' },
          { title: 'Main driver', align: 'left' },
        ],
        rows: listed.map((record, index) => anomalyRow(record, labels, cents[index]!)),
        footer: ['Total', `${records.length} anomal${records.length === 1 ? 'y' : 'ies'}`, formatCents(total, currency), '', '', ''],
      },
      ...(rest > 0 ? [{ type: 'text' as const, text: `… and ${rest} smaller one${rest === 1 ? '' : 's'}, ${formatCents(cents[listed.length]!, currency)} together (in the total).` }] : []),
      footer,
    ],
  };
}
