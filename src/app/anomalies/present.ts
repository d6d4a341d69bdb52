/**
 * How anomalies read: the alert posted to a team's channel (with its buttons), a line of the
 * `anomalies` list, and the digest's open-anomalies section. Channel-neutral replies; the
 * renderers make Block Kit or text of them.
 */
import { OTHER_DRIVERS } from '../../core/anomaly-drivers.js';
import { type CostMetric, metricLabel, UNTAGGED_LABEL } from '../../core/cost-model.js';
import { formatDay } from '../../core/digest.js';
import { formatAmount, formatCents, formatPercent, percentChange, roundPartsToCents } from '../../core/money.js';
import { addDays, daysBetween, type PlainDate } from '../../core/period.js';
import type { Reply, ReplyBlock } from '../../core/reply.js';
import type { AlertButton, AlertMessage, AnomalyDriver, AnomalyRecord, AnomalyStatus, DriverDimension } from '../../ports.js';

/** The action ids of an alert's buttons (the Slack manifest's interactivity sends them back). */
export const ANOMALY_ACTIONS = {
  acknowledge: 'anomaly_acknowledge',
  snooze: 'anomaly_snooze',
  dismiss: 'anomaly_dismiss',
} as const;

/** What a button click decides. */
export type AnomalyDecision = keyof typeof ANOMALY_ACTIONS;

/** Days a snooze lasts. */
export const SNOOZE_DAYS = 7;

const DIMENSION_LABELS: Readonly<Record<DriverDimension, string>> = {
  team: 'Team',
  service: 'Service',
  account: 'Account',
  region: 'Region',
  'usage-type': 'Usage type',
};

const STATUS_LABELS: Readonly<Record<AnomalyStatus, string>> = {
  open: 'Open',
  acknowledged: 'Acknowledged',
  snoozed: 'Snoozed',
  dismissed: 'Not an anomaly',
};

/** Drivers shown per dimension in an alert. */
const DRIVERS_SHOWN = 3;

/** Labels for what the figures are: the metric, and a way to show account ids by name. */
export interface AnomalyLabels {
  readonly metric: CostMetric;
  readonly account?: ((id: string) => string) | undefined;
  /** The last day of cost data stored, for the alert's freshness line. */
  readonly dataThrough?: PlainDate | undefined;
}

/** What an anomaly is about, in a few words: "payments · Amazon EC2", "Amazon S3 (all teams)". */
export function anomalySubject(record: AnomalyRecord, labels: AnomalyLabels): string {
  const { scope } = record;
  const team = (name: string) => (name === '' ? UNTAGGED_LABEL : name);
  switch (scope.kind) {
    case 'team':
      return `${team(scope.team)} · all services`;
    case 'team-service':
      return `${team(scope.team)} · ${scope.value}`;
    case 'service':
      return `${scope.value} (all teams)`;
    case 'account':
      return `account ${labels.account?.(scope.value) ?? scope.value} (all teams)`;
    case 'aws':
      return `${scope.value || 'AWS-detected'}${record.team === undefined ? '' : ` · ${team(record.team)}`}`;
  }
}

/** "Tue 17 Nov 2026" or "Tue 17 – Thu 19 Nov 2026 (3 days)". */
export function anomalyDays(record: AnomalyRecord): string {
  const count = daysBetween(record.firstDay, record.lastDay) + 1;
  return count === 1 ? formatDay(record.firstDay) : `${formatDay(record.firstDay)} – ${formatDay(record.lastDay)} (${count} days)`;
}

/** The alert message: what rose, by how much, its root cause, its status, and the buttons that change it. */
export function anomalyAlert(record: AnomalyRecord, labels: AnomalyLabels): AlertMessage {
  const blocks: ReplyBlock[] = [
    { type: 'text', text: headline(record) },
    {
      type: 'fields',
      fields: [
        { label: 'Status', value: statusText(record) },
        { label: 'Severity', value: `${record.severity} (${record.source === 'aws' ? 'AWS score' : 'score'} ${record.score})` },
        { label: 'Actual', value: formatAmount(record.actual, record.currency) },
        { label: 'Expected', value: formatAmount(record.expected, record.currency) },
      ],
    },
    ...driverBlocks(record, labels),
    { type: 'context', text: footer(record, labels) },
  ];
  const reply: Reply = { kind: 'answer', title: `Cost anomaly · ${anomalySubject(record, labels)}`, blocks };
  const decision = record.status !== 'open' && record.statusBy ? { status: record.status, userId: record.statusBy } : undefined;
  return { reply, buttons: buttonsFor(record), decision };
}

function headline(record: AnomalyRecord): string {
  const change = percentChange(record.expected, record.actual);
  const rise = change === undefined ? 'new spend' : formatPercent(change);
  const state = record.active ? 'still above its usual level on the last day judged' : 'back to its usual level since';
  const since = record.active ? '' : ` ${formatDay(addDays(record.lastDay, 1))}`;
  return `*${formatAmount(record.impact, record.currency)} above expected* (${rise}) on ${anomalyDays(record)}; ${state}${since}.`;
}

function statusText(record: AnomalyRecord): string {
  if (record.status === 'snoozed' && record.snoozedUntil) return `Snoozed until ${formatDay(record.snoozedUntil.toISOString().slice(0, 10))}`;
  return STATUS_LABELS[record.status];
}

/** The root cause: the top drivers of each dimension, which add up to the impact. */
function driverBlocks(record: AnomalyRecord, labels: AnomalyLabels): ReplyBlock[] {
  const byDimension = new Map<DriverDimension, AnomalyDriver[]>();
  for (const driver of record.drivers) byDimension.set(driver.dimension, [...(byDimension.get(driver.dimension) ?? []), driver]);
  if (byDimension.size === 0) return [];
  const rows = [...byDimension].map(([dimension, drivers]) => [DIMENSION_LABELS[dimension], driverLine(dimension, drivers, record.currency, labels)]);
  // Stored facts split a team's spend by one dimension at a time: for one of its services,
  // accounts, regions and usage types are read across the team's services.
  const across = record.scope.kind === 'team-service' ? '; account, region and usage type across the team’s services' : '';
  return [
    { type: 'text', text: `*Root cause* (each line adds up to the impact${across})` },
    { type: 'table', columns: [{ title: 'By', align: 'left' }, { title: 'Biggest contributors', align: 'left' }], rows },
  ];
}

/** The top drivers and "other", each rounded so that the line adds up to the impact as shown. */
function driverLine(dimension: DriverDimension, drivers: readonly AnomalyDriver[], currency: string, labels: AnomalyLabels): string {
  const named = drivers.filter((driver) => driver.key !== OTHER_DRIVERS);
  const shown = named.slice(0, DRIVERS_SHOWN);
  const rest = drivers.filter((driver) => !shown.includes(driver)).reduce((sum, driver) => sum + driver.impact, 0n);
  const cents = roundPartsToCents([...shown.map((driver) => driver.impact), rest]);
  const parts = shown.map((driver, index) => `${driverLabel(dimension, driver.key, labels)} ${formatCents(cents[index]!, currency)}`);
  if (rest !== 0n) parts.push(`other ${formatCents(cents[shown.length]!, currency)}`);
  return parts.join(' · ');
}

function footer(record: AnomalyRecord, labels: AnomalyLabels): string {
  const found = record.source === 'both' ? 'our detector and AWS Cost Anomaly Detection' : record.source === 'aws' ? 'AWS Cost Anomaly Detection' : 'our detector';
  const through = labels.dataThrough ? ` · data through ${labels.dataThrough} (that last day is judged once AWS completes it)` : '';
  return `${metricLabel(labels.metric)} in ${record.currency} · ${anomalyDays(record)} · found by ${found}${through}`;
}

function buttonsFor(record: AnomalyRecord): AlertButton[] {
  const value = String(record.id);
  if (record.status === 'dismissed') return [];
  const buttons: AlertButton[] = [];
  if (record.status !== 'acknowledged') buttons.push({ text: 'Acknowledge', actionId: ANOMALY_ACTIONS.acknowledge, value, style: 'primary' });
  if (record.status !== 'snoozed') buttons.push({ text: `Snooze ${SNOOZE_DAYS} days`, actionId: ANOMALY_ACTIONS.snooze, value });
  buttons.push({ text: 'Not an anomaly', actionId: ANOMALY_ACTIONS.dismiss, value, style: 'danger' });
  return buttons;
}

/** The dimension that names a cause most precisely first: a usage type says what was bought. */
const MAIN_DRIVER_ORDER: readonly DriverDimension[] = ['usage-type', 'service', 'team', 'account', 'region'];

/** The single driver that says most about an anomaly, if any. */
export function mainDriver(record: AnomalyRecord): AnomalyDriver | undefined {
  for (const dimension of MAIN_DRIVER_ORDER) {
    const driver = record.drivers.find((candidate) => candidate.dimension === dimension && candidate.key !== OTHER_DRIVERS);
    if (driver) return driver;
  }
  return undefined;
}

/** One line for a digest: when, what, how much, how bad, and its status. */
export function anomalyLine(record: AnomalyRecord, labels: AnomalyLabels): string {
  const driver = mainDriver(record);
  const cause = driver ? `, mostly ${driverLabel(driver.dimension, driver.key, labels)}` : '';
  return `• ${anomalyDays(record)} · ${anomalySubject(record, labels)}: *${formatAmount(record.impact, record.currency)}* above expected${cause} (${record.severity}, ${STATUS_LABELS[record.status].toLowerCase()}${record.active ? ', ongoing' : ''})`;
}

function driverLabel(dimension: DriverDimension, key: string, labels: AnomalyLabels): string {
  return dimension === 'team' && key === '' ? UNTAGGED_LABEL : dimension === 'account' ? (labels.account?.(key) ?? key) : key;
}

/** One row of the `anomalies` list; `impactCents` is its impact as rounded with the others (so the rows add up to the total). */
export function anomalyRow(record: AnomalyRecord, labels: AnomalyLabels, impactCents: bigint): string[] {
  const top = mainDriver(record);
  return [
    anomalyDays(record),
    anomalySubject(record, labels),
    formatCents(impactCents, record.currency),
    record.severity,
    `${STATUS_LABELS[record.status]}${record.active ? ', ongoing' : ''}`,
    top ? `${DIMENSION_LABELS[top.dimension]}: ${driverLabel(top.dimension, top.key, labels)}` : '',
  ];
}

