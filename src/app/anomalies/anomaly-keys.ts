/**
 * The identity of an anomaly across scans and instances: its team, its service and its
 * first day (AWS-only ones: AWS's id). A re-detection shares the team and service part.
 */
import type { PlainDate } from '../../core/period.js';
import type { DetectedAnomaly } from '../../ports.js';

/** Separates the parts of an anomaly key (a control character no team or service name holds; PostgreSQL text refuses NUL). */
export const KEY_SEPARATOR = '\u001f';

/** Stable identity of an event: its team, its service and its first day. */
export function anomalyKey(team: string, service: string, firstDay: PlainDate): string {
  return [team, service, firstDay].join(KEY_SEPARATOR);
}

/** The key's team and service part, which a re-detection shares even if its first day moved. */
export function groupOf(key: string): string {
  return key.slice(0, key.lastIndexOf(KEY_SEPARATOR));
}

/** The service part of an anomaly's key. */
export function serviceOf(event: DetectedAnomaly): string {
  return event.key.split(KEY_SEPARATOR)[1] ?? '';
}

/** The key of an anomaly only AWS found. */
export function awsAnomalyKey(id: string, firstDay: PlainDate): string {
  return ['aws', id, firstDay].join(KEY_SEPARATOR);
}
