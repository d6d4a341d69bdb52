/**
 * Anomalies injected into the demo organisation, as pure functions of the seed and date.
 *
 * Time is cut into fixed slots counted from the epoch (before it too). Every spike slot
 * (21 days) holds exactly one spike and every step slot (63 days) exactly one step; the
 * hash of (seed, slot) picks the day, the line item, the length and the factor. So any
 * 45-day window contains a whole spike slot (and its spike), any 400-day window holds
 * about 19 spikes and 6 step onsets, and no day's value depends on which range was asked.
 *
 * - spike: one line item at 3–8× for 1 or 2 days (a runaway job, a retry storm);
 * - step: one line item +30–80% for 120–180 days, then fading back over 60 days (a
 *   bigger instance class nobody sized down, until someone does).
 */
import { addDays, type DateRange, type PlainDate } from '../../core/period.js';
import { DEMO_EPOCH, DEMO_EPOCH_DAY, dayNumber, type DemoLineItem, type DemoOrganisation } from './demo-organisation.js';
import { hash32, nextHash, toUnit } from './demo-random.js';

/** Length of a spike slot: every window of 2 × 21 − 1 = 41 days or more holds a spike. */
export const SPIKE_CADENCE_DAYS = 21;
/** Length of a step slot. */
export const STEP_CADENCE_DAYS = 63;
/** Days a step takes to fade back to normal after its full-strength period. */
export const STEP_FADE_DAYS = 60;

const MAX_STEP_DAYS = 180;
const SPIKE_STREAM = 0x5350_4b45;
const STEP_STREAM = 0x5354_4550;

/** The two shapes of anomaly a detector must catch: a short burst, or a lasting shift. */
export type InjectedAnomalyKind = 'spike' | 'step';

/** An anomaly the demo injected, for checking what anomaly detection finds (recall). */
export interface InjectedAnomaly {
  readonly kind: InjectedAnomalyKind;
  /** First affected day. */
  readonly start: PlainDate;
  /**
   * Day after the last day at full strength: 1–2 days after `start` for a spike, 120–180
   * for a step (which then fades out over {@link STEP_FADE_DAYS} days).
   */
  readonly end: PlainDate;
  /** Multiplier applied to the line item's cost while at full strength. */
  readonly factor: number;
  /** The affected line item (team, service, account, region, usage type, environment). */
  readonly lineItem: DemoLineItem;
}

interface Scheduled {
  readonly kind: InjectedAnomalyKind;
  readonly startDay: number;
  readonly fullDays: number;
  readonly factor: number;
  readonly itemIndex: number;
}

function slotOf(day: number, cadence: number): number {
  return Math.floor((day - DEMO_EPOCH_DAY) / cadence);
}

function pickCandidate(organisation: DemoOrganisation, hash: number): number {
  const candidates = organisation.anomalyCandidates;
  const index = candidates[Math.floor(toUnit(hash) * candidates.length)];
  if (index === undefined) throw new Error('the demo organisation has no line items');
  return index;
}

/** Rounds a factor to two decimals, so listed factors read well and are exactly the ones applied. */
function roundFactor(value: number): number {
  return Math.round(value * 100) / 100;
}

function spikeInSlot(organisation: DemoOrganisation, slot: number): Scheduled {
  let hash = hash32(organisation.seed, SPIKE_STREAM, slot);
  const fullDays = 1 + (hash & 1);
  hash = nextHash(hash);
  // The spike stays inside its slot, so a day only ever needs its own slot checked.
  const offset = Math.floor(toUnit(hash) * (SPIKE_CADENCE_DAYS - fullDays + 1));
  hash = nextHash(hash);
  const itemIndex = pickCandidate(organisation, hash);
  hash = nextHash(hash);
  const factor = roundFactor(3 + 5 * toUnit(hash));
  return { kind: 'spike', startDay: DEMO_EPOCH_DAY + slot * SPIKE_CADENCE_DAYS + offset, fullDays, factor, itemIndex };
}

function stepInSlot(organisation: DemoOrganisation, slot: number): Scheduled {
  let hash = hash32(organisation.seed, STEP_STREAM, slot);
  const offset = Math.floor(toUnit(hash) * STEP_CADENCE_DAYS);
  hash = nextHash(hash);
  const fullDays = 120 + Math.floor(toUnit(hash) * (MAX_STEP_DAYS - 120 + 1));
  hash = nextHash(hash);
  const itemIndex = pickCandidate(organisation, hash);
  hash = nextHash(hash);
  const factor = roundFactor(1.3 + 0.5 * toUnit(hash));
  return { kind: 'step', startDay: DEMO_EPOCH_DAY + slot * STEP_CADENCE_DAYS + offset, fullDays, factor, itemIndex };
}

function factorOn(anomaly: Scheduled, day: number): number {
  const since = day - anomaly.startDay;
  if (since < 0) return 1;
  if (since < anomaly.fullDays) return anomaly.factor;
  const fading = since - anomaly.fullDays;
  if (anomaly.kind === 'step' && fading < STEP_FADE_DAYS) {
    return anomaly.factor - ((anomaly.factor - 1) * (fading + 1)) / (STEP_FADE_DAYS + 1);
  }
  return 1;
}

/**
 * Multipliers of the line items an anomaly affects on a day (day number), keyed by line
 * item index; items absent from the map are unaffected. Overlapping anomalies multiply.
 */
export function anomalyFactorsOn(organisation: DemoOrganisation, day: number): Map<number, number> {
  const factors = new Map<number, number>();
  const apply = (anomaly: Scheduled) => {
    const factor = factorOn(anomaly, day);
    if (factor !== 1) factors.set(anomaly.itemIndex, (factors.get(anomaly.itemIndex) ?? 1) * factor);
  };
  apply(spikeInSlot(organisation, slotOf(day, SPIKE_CADENCE_DAYS)));
  const firstStepSlot = slotOf(day - MAX_STEP_DAYS - STEP_FADE_DAYS, STEP_CADENCE_DAYS);
  for (let slot = firstStepSlot, last = slotOf(day, STEP_CADENCE_DAYS); slot <= last; slot++) {
    apply(stepInSlot(organisation, slot));
  }
  return factors;
}

/**
 * The anomalies whose first affected day lies in `range` (half-open), in order of start.
 * A step that began before the range is not listed even if it is still in effect: its
 * onset, the thing a detector can find, is outside the range.
 */
export function listInjectedAnomalies(organisation: DemoOrganisation, range: DateRange): InjectedAnomaly[] {
  const startDay = dayNumber(range.start);
  const endDay = dayNumber(range.end);
  if (endDay <= startDay) return [];
  const scheduled: Scheduled[] = [];
  const collect = (cadence: number, inSlot: (organisation: DemoOrganisation, slot: number) => Scheduled) => {
    for (let slot = slotOf(startDay, cadence), last = slotOf(endDay - 1, cadence); slot <= last; slot++) {
      const anomaly = inSlot(organisation, slot);
      if (anomaly.startDay >= startDay && anomaly.startDay < endDay) scheduled.push(anomaly);
    }
  };
  collect(SPIKE_CADENCE_DAYS, spikeInSlot);
  collect(STEP_CADENCE_DAYS, stepInSlot);
  scheduled.sort((a, b) => a.startDay - b.startDay || a.kind.localeCompare(b.kind));
  return scheduled.map((anomaly) => {
    const lineItem = organisation.lineItems[anomaly.itemIndex];
    if (!lineItem) throw new Error(`no demo line item ${anomaly.itemIndex}`);
    const start = addDays(DEMO_EPOCH, anomaly.startDay - DEMO_EPOCH_DAY);
    return { kind: anomaly.kind, start, end: addDays(start, anomaly.fullDays), factor: anomaly.factor, lineItem };
  });
}
