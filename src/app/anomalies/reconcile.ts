/**
 * A scan's detections against the anomalies already stored, so a re-detection updates the
 * same anomaly (and its alert) instead of adding one.
 */
import { addDays, type PlainDate } from '../../core/period.js';
import type { AnomalyRecord, DetectedAnomaly } from '../../ports.js';
import { groupOf } from './anomaly-keys.js';

/**
 * Matches this scan's events with the anomalies already stored: an event of the same team
 * and service on overlapping or touching days — or with the same AWS anomaly id — is the
 * same anomaly (it keeps its key and its alert). An anomaly that began before the judged
 * days is left as stored: the window only sees its tail, and must not shrink it. A stored
 * anomaly still marked active that this scan no longer finds has ended — unless AWS found it
 * and could not be asked this time.
 */
export function reconcile(events: readonly DetectedAnomaly[], known: readonly AnomalyRecord[], context: { lastJudged: PlainDate; judgedFrom: PlainDate; awsAnswered: boolean }): DetectedAnomaly[] {
  const matched = new Set<number>();
  const result: DetectedAnomaly[] = [];
  for (const event of events) {
    const group = groupOf(event.key);
    const existing =
      known.find((record) => !matched.has(record.id) && event.awsAnomalyId !== undefined && record.awsAnomalyId === event.awsAnomalyId) ??
      known.find((record) => !matched.has(record.id) && groupOf(record.key) === group && record.firstDay <= addDays(event.lastDay, 2) && record.lastDay >= addDays(event.firstDay, -2));
    if (!existing) {
      result.push(event);
      continue;
    }
    matched.add(existing.id);
    if (existing.firstDay < context.judgedFrom && event.lastDay <= existing.lastDay) continue;
    // AWS may have matched the stored anomaly on an earlier scan: keep what it knew.
    const awsAnomalyId = event.awsAnomalyId ?? existing.awsAnomalyId;
    const source = awsAnomalyId && event.source === 'finops' ? 'both' : event.source;
    result.push({ ...event, key: existing.key, awsAnomalyId, source });
  }
  const ended = known
    .filter((record) => record.active && !matched.has(record.id) && record.lastDay <= context.lastJudged && (context.awsAnswered || record.source === 'finops'))
    .map((record): DetectedAnomaly => ({ ...detectedPart(record), active: false }));
  return [...result, ...ended];
}

function detectedPart(record: AnomalyRecord): DetectedAnomaly {
  const { key, scope, team, firstDay, lastDay, active, expected, actual, impact, severity, score, currency, drivers, source, awsAnomalyId } = record;
  return { key, scope, team, firstDay, lastDay, active, expected, actual, impact, severity, score, currency, drivers, source, awsAnomalyId };
}
