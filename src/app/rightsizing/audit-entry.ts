/**
 * The audit log's entry for one move of a recommendation: who, when, the state before and
 * after (status, approvers, steps, realised saving), the message clicked and a note naming
 * the instance. Shared by the desk and its execution.
 */
import type { NewAuditEntry, RightsizingRecord, SourceMessage } from '../../ports.js';
import { instanceLabel } from './present.js';

/** An audit entry for a move from `before` to `after`. */
export function auditOf(
  before: RightsizingRecord,
  after: RightsizingRecord,
  entry: { actor: string; action: string; at: Date; source: SourceMessage | undefined; note: string | undefined },
): NewAuditEntry {
  const state = (record: RightsizingRecord) => ({
    status: record.status,
    approvals: record.approvals.map((approval) => approval.userId),
    ...(record.execution.length > 0 ? { steps: record.execution.length } : {}),
    ...(record.realisedMonthlySavings !== undefined ? { realisedMonthlySavings: record.realisedMonthlySavings.toString() } : {}),
  });
  return {
    at: entry.at,
    actor: entry.actor,
    team: before.team,
    recommendationId: before.id,
    action: entry.action,
    before: state(before),
    after: state(after),
    source: entry.source,
    note: entry.note === undefined ? `${instanceLabel(before)}` : `${instanceLabel(before)}: ${entry.note}`,
  };
}
