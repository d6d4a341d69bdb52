/**
 * `digest [daily|weekly] [for TEAM]`: a preview of the digest a subscribed channel receives,
 * built now from stored costs. Chat shows the reply only; the posted digest also carries
 * the chart, which the preview says rather than draws.
 */
import { CHART_DAYS, CHART_SERIES } from '../../core/digest.js';
import type { Reply } from '../../core/reply.js';
import type { Command } from '../command.js';
import { buildDigest } from '../digest.js';
import type { HandlerDeps } from '../report-context.js';

/** Answers `digest`. */
export async function handleDigest(deps: HandlerDeps, command: Extract<Command, { name: 'digest' }>): Promise<Reply> {
  const digest = await buildDigest(deps, { cadence: command.cadence, team: command.team });
  return {
    ...digest.reply,
    blocks: [
      ...digest.reply.blocks,
      {
        type: 'context',
        text: `Preview: the posted ${command.cadence} digest also carries a chart of the last ${CHART_DAYS} days of daily spend, stacked by the top ${CHART_SERIES} services.`,
      },
    ],
  };
}
