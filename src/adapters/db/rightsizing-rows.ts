/**
 * How rightsizing rows and records map onto each other: amounts as exact decimal text,
 * approvals, execution steps and approvers as JSON with ISO times, audit entries with only
 * the fields a source message has. Used by the rightsizing store.
 */
import type { RightsizingStatus } from '../../core/rightsizing.js';
import { amountToDecimalString, parseAmount } from '../../core/money.js';
import type { Approver, AuditEntry, ExecutionStep, NewAuditEntry, RightsizingAction, RightsizingApproval, RightsizingCandidate, RightsizingRecord, SourceMessage } from '../../ports.js';
import { rightsizingAudit, rightsizingRecommendations as recommendations, type StoredApproval, type StoredApprover, type StoredExecutionStep, type StoredSourceMessage } from './schema.js';

type RecommendationRow = typeof recommendations.$inferSelect;
type RecommendationInsert = typeof recommendations.$inferInsert;
type AuditRow = typeof rightsizingAudit.$inferSelect;
type AuditInsert = typeof rightsizingAudit.$inferInsert;

/** A new recommendation's row: pending, with the approvals it needs. */
export function toRow(candidate: RightsizingCandidate, approvalsNeeded: number, at: Date): RecommendationInsert {
  return {
    key: candidate.key,
    accountId: candidate.accountId,
    region: candidate.region,
    instanceId: candidate.instanceId,
    instanceName: candidate.instanceName ?? null,
    team: candidate.team,
    action: candidate.action,
    currentType: candidate.currentType,
    targetType: candidate.targetType ?? null,
    cpuMaxPercent: candidate.cpuMaxPercent ?? null,
    memoryMaxPercent: candidate.memoryMaxPercent ?? null,
    currentMonthlyCost: amountToDecimalString(candidate.currentMonthlyCost),
    monthlySavings: amountToDecimalString(candidate.monthlySavings),
    currency: candidate.currency,
    lookbackDays: candidate.lookbackDays,
    status: 'pending',
    approvalsNeeded,
    createdAt: at,
    seenAt: at,
  };
}

/** A stored row as the record the app reads. */
export function toRecord(row: RecommendationRow): RightsizingRecord {
  return {
    id: row.id,
    key: row.key,
    accountId: row.accountId,
    region: row.region,
    instanceId: row.instanceId,
    instanceName: row.instanceName ?? undefined,
    team: row.team,
    action: row.action as RightsizingAction,
    currentType: row.currentType,
    targetType: row.targetType ?? undefined,
    cpuMaxPercent: row.cpuMaxPercent ?? undefined,
    memoryMaxPercent: row.memoryMaxPercent ?? undefined,
    currentMonthlyCost: parseAmount(row.currentMonthlyCost),
    monthlySavings: parseAmount(row.monthlySavings),
    currency: row.currency,
    lookbackDays: row.lookbackDays,
    status: row.status as RightsizingStatus,
    approvals: row.approvals.map(fromStoredApproval),
    approvalsNeeded: row.approvalsNeeded,
    decidedBy: row.decidedBy ?? undefined,
    decidedAt: row.decidedAt ?? undefined,
    reason: row.reason ?? undefined,
    execution: row.execution.map(fromStoredStep),
    appliedAt: row.appliedAt ?? undefined,
    realisedMonthlySavings: row.realisedMonthlySavings === null ? undefined : parseAmount(row.realisedMonthlySavings),
    version: row.version,
    createdAt: row.createdAt,
    seenAt: row.seenAt,
  };
}

/** An approval as stored (ISO time). */
export function toStoredApproval(approval: RightsizingApproval): StoredApproval {
  return { userId: approval.userId, at: approval.at.toISOString(), ...(approval.source ? { source: toStoredSource(approval.source) } : {}) };
}

/** A stored approval as read. */
export function fromStoredApproval(approval: StoredApproval): RightsizingApproval {
  return { userId: approval.userId, at: new Date(approval.at), ...(approval.source ? { source: fromStoredSource(approval.source) } : {}) };
}

/** An execution step as stored (ISO time). */
export function toStoredStep(step: ExecutionStep): StoredExecutionStep {
  return { step: step.step, ok: step.ok, detail: step.detail, at: step.at.toISOString() };
}

/** A stored execution step as read. */
export function fromStoredStep(step: StoredExecutionStep): ExecutionStep {
  return { step: step.step, ok: step.ok, detail: step.detail, at: new Date(step.at) };
}

/** An approver as stored. */
export function toStoredApprover(approver: Approver): StoredApprover {
  return { kind: approver.kind, id: approver.id };
}

/** A stored approver as read. */
export function fromStoredApprover(approver: StoredApprover): Approver {
  return { kind: approver.kind as Approver['kind'], id: approver.id };
}

/** Only the message's fields, so nothing else reaches the table. */
export function toStoredSource(source: SourceMessage): StoredSourceMessage {
  return {
    platform: source.platform,
    ...(source.conversationId === undefined ? {} : { conversationId: source.conversationId }),
    ...(source.messageId === undefined ? {} : { messageId: source.messageId }),
  };
}

/** A stored source message as read. */
export function fromStoredSource(source: StoredSourceMessage): SourceMessage {
  return {
    platform: source.platform as SourceMessage['platform'],
    ...(source.conversationId === undefined ? {} : { conversationId: source.conversationId }),
    ...(source.messageId === undefined ? {} : { messageId: source.messageId }),
  };
}

/** `before` and `after` are stored as JSON: undefined as SQL null, Dates as ISO text. */
export function toAuditRow(entry: NewAuditEntry): AuditInsert {
  return {
    at: entry.at,
    actor: entry.actor,
    team: entry.team,
    recommendationId: entry.recommendationId ?? null,
    action: entry.action,
    before: entry.before ?? null,
    after: entry.after ?? null,
    source: entry.source === undefined ? null : toStoredSource(entry.source),
    note: entry.note ?? null,
  };
}

/** An audit row as the entry the app reads. */
export function toAuditEntry(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    at: row.at,
    actor: row.actor,
    team: row.team,
    recommendationId: row.recommendationId ?? undefined,
    action: row.action,
    before: row.before ?? undefined,
    after: row.after ?? undefined,
    source: row.source === null ? undefined : fromStoredSource(row.source),
    note: row.note ?? undefined,
  };
}
