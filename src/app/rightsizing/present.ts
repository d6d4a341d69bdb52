/**
 * How rightsizing reads: the `rightsizing` list (each open recommendation with Approve and
 * Reject buttons, decided ones with who decided and when), the reports of an execution and
 * of a realised saving, the digest's section and the `audit` table. Channel-neutral replies.
 */
import { UNTAGGED_LABEL } from '../../core/cost-model.js';
import { type Amount, formatAmount, sumAmounts } from '../../core/money.js';
import { mention, type Reply, type ReplyBlock, type ReplyButton } from '../../core/reply.js';
import type { AuditEntry, ExecutionStep, RightsizingRecord } from '../../ports.js';
import type { RealisedSaving } from './realised-savings.js';

/** The action ids of a recommendation's buttons (the Slack manifest's interactivity sends them back). */
export const RIGHTSIZING_ACTIONS = { approve: 'rightsizing_approve', reject: 'rightsizing_reject', applied: 'rightsizing_applied' } as const;

/** The list scope for every team, in a button's value. */
export const ALL_TEAMS_SCOPE = '*';

/** Open recommendations listed with buttons in one message (each takes two blocks). */
const OPEN_SHOWN = 12;
/** Recently decided ones listed under them. */
const DECIDED_SHOWN = 5;

/** What a button carries back: the recommendation and the list it was shown in (a team, or every team). */
export interface RightsizingButtonValue {
  readonly id: number;
  readonly scope: string;
}

/** Reads a button's value; undefined when it is not one of ours. */
export function parseButtonValue(value: string): RightsizingButtonValue | undefined {
  try {
    const parsed = JSON.parse(value) as { id?: unknown; for?: unknown };
    if (typeof parsed.id !== 'number' || !Number.isSafeInteger(parsed.id) || parsed.id <= 0 || typeof parsed.for !== 'string') return undefined;
    return { id: parsed.id, scope: parsed.for };
  } catch {
    return undefined;
  }
}

/** The instance in a few words: its name, else its id. */
export function instanceLabel(record: Pick<RightsizingRecord, 'instanceName' | 'instanceId'>): string {
  return record.instanceName ? `${record.instanceName} (${record.instanceId})` : record.instanceId;
}

/** The change in a few words: "`m6i.2xlarge` → `m6i.xlarge`", or "stop idle `t3.large`". */
export function changeLabel(record: Pick<RightsizingRecord, 'action' | 'currentType' | 'targetType'>): string {
  return record.action === 'terminate' || record.targetType === undefined ? `stop idle \`${record.currentType}\`` : `\`${record.currentType}\` → \`${record.targetType}\``;
}

/** What the list needs besides the records. */
export interface ListContext {
  /** The team listed, or undefined for every team the conversation sees. */
  readonly team: string | undefined;
  readonly lastSyncedAt: Date | undefined;
  readonly sourceKind: 'aws' | 'demo';
  readonly execute: 'off' | 'dry-run' | 'apply';
  readonly twoApproverFrom: Amount | undefined;
  readonly expireDays: number;
  /** Whether buttons can be clicked where the list is shown (not in a terminal). */
  readonly buttons: boolean;
}

/** The `rightsizing` answer: open recommendations biggest saving first, each with Approve / Reject, then recently decided ones. */
export function rightsizingList(records: readonly RightsizingRecord[], context: ListContext): Reply {
  const open = records.filter((record) => record.status === 'pending');
  // Approved ones still to be made come first among the decided: they may need a click.
  const decided = records.filter((record) => record.status !== 'pending').sort((a, b) => Number(b.status === 'approved') - Number(a.status === 'approved'));
  const scope = context.team ?? ALL_TEAMS_SCOPE;
  const title = context.team === undefined ? 'Rightsizing recommendations' : `Rightsizing recommendations · ${label(context.team)}`;
  const blocks: ReplyBlock[] = [];
  const currency = records[0]?.currency ?? 'USD';
  if (open.length === 0) {
    blocks.push({ type: 'text', text: context.lastSyncedAt ? 'No open recommendations: every instance looks the right size.' : 'No recommendations yet: the first read of them has not finished.' });
  } else {
    const total = sumAmounts(open.map((record) => record.monthlySavings));
    blocks.push({ type: 'text', text: `*${open.length} open* recommendation${open.length === 1 ? '' : 's'} could save *${formatAmount(total, currency)} a month*.` });
  }
  for (const record of open.slice(0, OPEN_SHOWN)) {
    blocks.push({ type: 'text', text: recordText(record, context.team === undefined) });
    if (context.buttons) blocks.push({ type: 'actions', buttons: buttonsFor(record, scope) });
  }
  if (open.length > OPEN_SHOWN) blocks.push({ type: 'text', text: `… and ${open.length - OPEN_SHOWN} more, worth less each${context.team === undefined ? '; ask `rightsizing for TEAM`' : ''}.` });
  if (decided.length > 0) {
    blocks.push({ type: 'text', text: '*Decided*' });
    for (const record of decided.slice(0, DECIDED_SHOWN)) {
      blocks.push({ type: 'text', text: recordText(record, context.team === undefined) });
      // The bot does not make the change here: whoever makes it says so, and its saving is measured from then.
      if (context.buttons && record.status === 'approved' && context.execute !== 'apply') {
        blocks.push({ type: 'actions', buttons: [{ text: 'Mark applied', actionId: RIGHTSIZING_ACTIONS.applied, value: JSON.stringify({ id: record.id, for: scope }) }] });
      }
    }
  }
  blocks.push({ type: 'context', text: footer(context) });
  return { kind: 'answer', title, blocks };
}

/** One recommendation: the instance, the change and its figures, then where it stands. */
export function recordText(record: RightsizingRecord, showTeam: boolean): string {
  const where = [showTeam ? label(record.team) : undefined, record.region].filter(Boolean).join(' · ');
  const usage = [
    record.cpuMaxPercent === undefined ? undefined : `CPU max ${formatUtilisation(record.cpuMaxPercent)}`,
    record.memoryMaxPercent === undefined ? 'memory not measured' : `memory max ${formatUtilisation(record.memoryMaxPercent)}`,
  ]
    .filter(Boolean)
    .join(' · ');
  const saving = `saves *${formatAmount(record.monthlySavings, record.currency)}/month* of ${formatAmount(record.currentMonthlyCost, record.currency)}`;
  return [`*${record.instanceName ?? record.instanceId}* \`${record.instanceId}\` · ${where}`, `${changeLabel(record)} · ${usage} · ${saving}`, statusLine(record)].join('\n');
}

/** Where a recommendation stands, naming who decided and when. */
export function statusLine(record: RightsizingRecord): string {
  const when = record.decidedAt ? ` at ${formatTime(record.decidedAt)}` : '';
  const approvers = record.approvals.map((approval) => mention(approval.userId)).join(' and ');
  switch (record.status) {
    case 'pending':
      return record.approvalsNeeded > 1
        ? `Waiting for approval: needs ${record.approvalsNeeded} approvers${record.approvals.length > 0 ? `, approved so far by ${approvers}` : ''}.`
        : 'Waiting for approval.';
    case 'approved':
      return `✅ Approved by ${approvers}${when}.${executionLine(record)}`;
    case 'rejected':
      return `❌ Rejected by ${mention(record.decidedBy ?? '')}${when}: ${record.reason ?? ''}`;
    case 'expired':
      return `⌛ Expired${when}: ${record.reason ?? 'no decision'}.`;
    case 'applied':
      return `✅ Approved by ${approvers}; applied${record.execution.some((step) => !step.step.startsWith('dry-run')) ? '' : ' by hand'}${record.appliedAt ? ` at ${formatTime(record.appliedAt)}` : ''}.${realisedLine(record)}`;
    case 'failed':
      return `⚠️ Approved by ${approvers}; the change failed: ${record.reason ?? 'see the audit log'}.`;
  }
}

function executionLine(record: RightsizingRecord): string {
  const dry = record.execution.filter((step) => step.step.startsWith('dry-run'));
  if (dry.length === 0) return '';
  const failed = dry.find((step) => !step.ok);
  return failed ? ` Dry run: refused at ${failed.step.replace('dry-run: ', '')} (${failed.detail}).` : ' Dry run: every call would be allowed.';
}

function realisedLine(record: RightsizingRecord): string {
  return record.realisedMonthlySavings === undefined ? '' : ` Realised: ${formatAmount(record.realisedMonthlySavings, record.currency)}/month.`;
}

function buttonsFor(record: RightsizingRecord, scope: string): ReplyButton[] {
  const value = JSON.stringify({ id: record.id, for: scope });
  return [
    { text: 'Approve', actionId: RIGHTSIZING_ACTIONS.approve, value, style: 'primary' },
    { text: 'Reject…', actionId: RIGHTSIZING_ACTIONS.reject, value, style: 'danger' },
  ];
}

function footer(context: ListContext): string {
  const source = context.sourceKind === 'aws' ? 'AWS Cost Explorer rightsizing (EC2, same family)' : 'demo organisation';
  const asOf = context.lastSyncedAt ? `as of ${formatTime(context.lastSyncedAt)}` : 'not read yet';
  const rule = context.twoApproverFrom === undefined ? 'one approver each' : `two approvers from ${formatAmount(context.twoApproverFrom, 'USD')} a month`;
  const execution =
    context.execute === 'off'
      ? 'approving records the decision; the change is made by hand, then marked applied'
      : context.execute === 'dry-run'
        ? 'approving runs an EC2 dry run'
        : 'approving stops, resizes and restarts the instance';
  const buttons = context.buttons ? '' : ' · approve or reject with the buttons in Slack';
  return `estimated saving a month at on-demand rates · ${source}, ${asOf} · ${rule}; undecided ones expire after ${context.expireDays} days · ${execution}${buttons}`;
}

/** The report of an execution: each step, and where the recommendation now stands. */
export function executionReport(record: RightsizingRecord, steps: readonly ExecutionStep[], mode: 'dry-run' | 'apply'): Reply {
  const failed = steps.find((step) => !step.ok);
  const head =
    mode === 'dry-run'
      ? failed
        ? `Dry run for *${instanceLabel(record)}* (${changeLabel(record)}): EC2 would refuse it.`
        : `Dry run for *${instanceLabel(record)}* (${changeLabel(record)}): every call would be allowed. Nothing was changed.`
      : failed
        ? `The change to *${instanceLabel(record)}* (${changeLabel(record)}) failed.`
        : `*${instanceLabel(record)}* is changed: ${changeLabel(record)}.`;
  return {
    kind: 'answer',
    title: mode === 'dry-run' ? 'Rightsizing dry run' : 'Rightsizing applied',
    blocks: [
      { type: 'text', text: head },
      { type: 'text', text: steps.map((step) => `${step.ok ? '✓' : '✗'} ${step.step.replace('dry-run: ', '')}: ${step.detail}`).join('\n') },
      { type: 'context', text: `team ${label(record.team)} · account ${record.accountId} · ${record.region} · estimated saving ${formatAmount(record.monthlySavings, record.currency)} a month` },
    ],
  };
}

/** The report of an approval closed without being carried out (too old, or no longer recommended). */
export function staleReport(record: RightsizingRecord, reason: string): Reply {
  return {
    kind: 'answer',
    title: 'Rightsizing not carried out',
    blocks: [
      { type: 'text', text: `The approved change to *${instanceLabel(record)}* (${changeLabel(record)}) was not made: ${reason}.` },
      { type: 'context', text: `team ${label(record.team)} · account ${record.accountId} · ${record.region}` },
    ],
  };
}

/** The report 30 days after a change: the saving measured against the estimate. */
export function realisedReport(record: RightsizingRecord, saving: RealisedSaving): Reply {
  return {
    kind: 'answer',
    title: 'Rightsizing: saving realised',
    blocks: [
      {
        type: 'text',
        text: `Resizing *${instanceLabel(record)}* (${changeLabel(record)}) saved *${formatAmount(saving.monthly, saving.currency)} a month* (estimated ${formatAmount(record.monthlySavings, record.currency)}).`,
      },
      { type: 'text', text: `Spend on these instance types: ${formatAmount(saving.before, saving.currency)} a month before, ${formatAmount(saving.after, saving.currency)} after.` },
      { type: 'context', text: `team ${label(record.team)} · 30 days before the change against the 30 days after · its instance types' usage, so other instances of those types count too` },
    ],
  };
}

/** The digest's lines: the team's open recommendations, biggest first, and how to act on them. */
export function digestLines(open: readonly RightsizingRecord[], team: string | undefined, shown = 3): string[] {
  if (open.length === 0) return [];
  const currency = open[0]!.currency;
  const total = sumAmounts(open.map((record) => record.monthlySavings));
  const lines = open.slice(0, shown).map((record) => `• ${record.instanceName ?? record.instanceId}: ${changeLabel(record)}, ${formatAmount(record.monthlySavings, currency)}/month`);
  const more = open.length > shown ? ` (and ${open.length - shown} more)` : '';
  return [
    `*Rightsizing:* ${open.length} open recommendation${open.length === 1 ? '' : 's'} could save ${formatAmount(total, currency)} a month${more}. Approve or reject with \`rightsizing${team === undefined ? '' : ` for ${team === '' ? 'untagged' : team}`}\`.`,
    ...lines,
  ];
}

/** The `audit` table: newest first. */
export function auditTable(entries: readonly AuditEntry[], showTeam: boolean): ReplyBlock {
  const columns = [
    { title: 'When (UTC)', align: 'left' as const },
    ...(showTeam ? [{ title: 'Team', align: 'left' as const }] : []),
    { title: 'Who', align: 'left' as const },
    { title: 'What', align: 'left' as const },
    { title: 'Change', align: 'left' as const },
    { title: 'Details', align: 'left' as const },
  ];
  return {
    type: 'table',
    columns,
    rows: entries.map((entry) => [
      formatTime(entry.at).replace(' UTC', ''),
      ...(showTeam ? [label(entry.team)] : []),
      entry.actor === 'system' ? 'bot' : entry.actor === 'console' ? 'console' : mention(entry.actor),
      entry.action,
      stateChange(entry.before, entry.after),
      entry.note ?? '',
    ]),
  };
}

function stateChange(before: unknown, after: unknown): string {
  const status = (state: unknown) => (state && typeof state === 'object' && 'status' in state ? String((state as { status: unknown }).status) : undefined);
  const people = (state: unknown) => (Array.isArray(state) ? `${state.length} approver${state.length === 1 ? '' : 's'}` : undefined);
  const from = status(before) ?? people(before) ?? '—';
  const to = status(after) ?? people(after) ?? '—';
  return `${from} → ${to}`;
}

/** A time as people read it in a list: "2026-11-23 10:42 UTC". */
export function formatTime(at: Date): string {
  return `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function formatUtilisation(percent: number): string {
  return `${percent < 10 ? percent.toFixed(1) : Math.round(percent)}%`;
}

function label(team: string): string {
  return team === '' ? UNTAGGED_LABEL : team;
}
