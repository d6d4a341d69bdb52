/**
 * AWS Cost Anomaly Detection's findings merged into the scan's: an AWS anomaly on the same
 * service, days and account as one of ours marks it as found by both (alerted once, and
 * feedback goes back to AWS); one only AWS found becomes an anomaly of its own, owned by the
 * team whose spend on its service rose most, with drivers from AWS's root causes.
 */
import { allocateImpact } from '../../core/anomaly-drivers.js';
import { DEFAULT_DETECTOR_SETTINGS, severityOf } from '../../core/anomaly.js';
import { amountToNumber } from '../../core/money.js';
import { addDays, type PlainDate } from '../../core/period.js';
import type { AwsAnomaly, DetectedAnomaly, DriverDimension } from '../../ports.js';
import { awsAnomalyKey, serviceOf } from './anomaly-keys.js';
import { risesOf, type SeriesSet } from './series.js';

/** What the merge reads of the scan: its day axis, every team × service series, the currency. */
export interface AwsMergeReadings {
  readonly days: readonly PlainDate[];
  readonly teamServices: SeriesSet;
  readonly currency: string;
}

/**
 * Marks the events AWS Cost Anomaly Detection found too (same service, overlapping days) and
 * adds the ones only AWS found that start in the judged days, so one event is alerted once.
 */
export function mergeAws(events: DetectedAnomaly[], aws: readonly AwsAnomaly[], readings: AwsMergeReadings, lastJudged: PlainDate, judgedFrom: PlainDate): void {
  for (const anomaly of aws) {
    const service = anomaly.rootCauses[0]?.service ?? '';
    const account = anomaly.rootCauses[0]?.account;
    const lastDay = anomaly.lastDay ?? lastJudged;
    // Same service, overlapping days, and — when both name accounts — an account in common
    // (two teams' events on one service are told apart by where the spend is).
    const sameAccount = (event: DetectedAnomaly) => {
      const accounts = event.drivers.filter((driver) => driver.dimension === 'account').map((driver) => driver.key);
      return account === undefined || accounts.length === 0 || accounts.includes(account);
    };
    const index = events.findIndex(
      (event) => service !== '' && serviceOf(event) === service && sameAccount(event) && event.firstDay <= addDays(lastDay, 1) && event.lastDay >= addDays(anomaly.firstDay, -1),
    );
    const match = events[index];
    if (match) {
      events[index] = { ...match, source: 'both', awsAnomalyId: anomaly.id };
      continue;
    }
    if (anomaly.firstDay < judgedFrom || anomaly.firstDay > lastJudged) continue;
    events.push(fromAws(anomaly, service, readings, lastJudged));
  }
}


/** An event only AWS found, owned by the team whose spend on its service rose most. */
function fromAws(anomaly: AwsAnomaly, service: string, readings: AwsMergeReadings, lastJudged: PlainDate): DetectedAnomaly {
  const first = readings.days.indexOf(anomaly.firstDay);
  const lastDay = anomaly.lastDay && anomaly.lastDay < lastJudged ? anomaly.lastDay : lastJudged;
  const last = readings.days.indexOf(lastDay);
  const days = first >= 0 && last >= first ? Array.from({ length: last - first + 1 }, (_, offset) => first + offset) : [];
  const owner = service ? risesOf(readings.teamServices, days, (series) => (series.value === service ? series.team : undefined))[0] : undefined;
  const team = owner && owner.rise > 0 ? owner.key : undefined;
  const rootCause = (pick: (cause: AwsAnomaly['rootCauses'][number]) => string | undefined) =>
    anomaly.rootCauses.map((cause) => ({ key: pick(cause) ?? '', rise: cause.contribution === undefined ? 0 : amountToNumber(cause.contribution) })).filter((cause) => cause.key !== '');
  const dimensions: [DriverDimension, (cause: AwsAnomaly['rootCauses'][number]) => string | undefined][] = [
    ['service', (cause) => cause.service],
    ['account', (cause) => cause.account],
    ['region', (cause) => cause.region],
    ['usage-type', (cause) => cause.usageType],
  ];
  return {
    key: awsAnomalyKey(anomaly.id, anomaly.firstDay),
    scope: { kind: 'aws', value: service },
    team,
    firstDay: anomaly.firstDay,
    lastDay,
    // AWS's end date is the last day it saw the anomaly: still on if that is the last day judged.
    active: anomaly.lastDay === undefined || anomaly.lastDay >= lastJudged,
    expected: anomaly.expected,
    actual: anomaly.actual,
    impact: anomaly.impact,
    severity: severityOf(amountToNumber(anomaly.impact), amountToNumber(anomaly.expected), DEFAULT_DETECTOR_SETTINGS.minImpact),
    score: anomaly.maxScore,
    currency: readings.currency,
    drivers: dimensions.flatMap(([dimension, pick]) => allocateImpact(anomaly.impact, merge(rootCause(pick))).map((share) => ({ dimension, ...share }))),
    source: 'aws',
    awsAnomalyId: anomaly.id,
  };
}

function merge(rises: readonly { key: string; rise: number }[]): { key: string; rise: number }[] {
  const byKey = new Map<string, number>();
  for (const { key, rise } of rises) byKey.set(key, (byKey.get(key) ?? 0) + rise);
  return [...byKey].map(([key, rise]) => ({ key, rise }));
}
