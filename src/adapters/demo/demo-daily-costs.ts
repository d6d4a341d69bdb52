/**
 * The complete demo cost model for a day: expected cost × noise × injected anomalies,
 * rounded once to whole cents per line item, in all three Cost Explorer metrics.
 *
 * Rounding to cents at generation makes every later sum exact: whatever grouping the app
 * asks for, the line items add up to the same bigint total.
 */
import type { CostMetric } from '../../core/cost-model.js';
import { fromCents, type Amount } from '../../core/money.js';
import { eachDay, type DateRange, type PlainDate } from '../../core/period.js';
import { anomalyFactorsOn } from './demo-anomalies.js';
import {
  dayNumber,
  expectedDailyCost,
  noiseFactor,
  type DemoLineItem,
  type DemoOrganisation,
} from './demo-organisation.js';

/** Amortized ÷ unblended for committed usage (as if savings plans cover it at a 7% discount). */
const AMORTIZED_RATE = 0.93;
/** Net unblended ÷ unblended (an enterprise discount of 3%). */
const NET_RATE = 0.97;

/**
 * Whole cents of every line item on one day, one array per metric, indexed by line item
 * index. Plain integer arrays keep a 400-day aggregation fast; convert with `fromCents`.
 */
export interface DayCents {
  readonly date: PlainDate;
  readonly unblended: Float64Array;
  readonly amortized: Float64Array;
  readonly net: Float64Array;
}

/** The other two metrics of a line item, in whole cents, from its unblended cents. */
export function derivedCents(item: DemoLineItem, unblendedCents: number): { amortized: number; net: number } {
  return {
    amortized: item.committed ? Math.round(unblendedCents * AMORTIZED_RATE) : unblendedCents,
    net: Math.round(unblendedCents * NET_RATE),
  };
}

/** Every line item's cost on `date`, with noise and injected anomalies, in whole cents. */
export function lineItemCentsOn(organisation: DemoOrganisation, date: PlainDate): DayCents {
  const day = dayNumber(date);
  const anomalies = anomalyFactorsOn(organisation, day);
  const count = organisation.lineItems.length;
  const unblended = new Float64Array(count);
  const amortized = new Float64Array(count);
  const net = new Float64Array(count);
  for (const item of organisation.lineItems) {
    const usd = expectedDailyCost(item, day) * noiseFactor(organisation.seed, item, day) * (anomalies.get(item.index) ?? 1);
    const cents = Math.max(0, Math.round(usd * 100));
    const derived = derivedCents(item, cents);
    unblended[item.index] = cents;
    amortized[item.index] = derived.amortized;
    net[item.index] = derived.net;
  }
  return { date, unblended, amortized, net };
}

/** One line item's exact cost on one day in every metric (for tests and explanations). */
export function lineItemCosts(organisation: DemoOrganisation, index: number, date: PlainDate): Record<CostMetric, Amount> {
  const cents = lineItemCentsOn(organisation, date);
  return {
    UnblendedCost: fromCents(BigInt(cents.unblended[index] ?? 0)),
    AmortizedCost: fromCents(BigInt(cents.amortized[index] ?? 0)),
    NetUnblendedCost: fromCents(BigInt(cents.net[index] ?? 0)),
  };
}

/**
 * The model's expected total over `range` in `metric`, without noise or anomalies, in
 * whole cents: each line item's expected day is rounded to cents, then summed exactly.
 */
export function expectedTotalCents(organisation: DemoOrganisation, range: DateRange, metric: CostMetric): bigint {
  let total = 0n;
  for (const date of eachDay(range)) {
    const day = dayNumber(date);
    for (const item of organisation.lineItems) {
      const cents = Math.round(expectedDailyCost(item, day) * 100);
      const derived = derivedCents(item, cents);
      total += BigInt(metric === 'UnblendedCost' ? cents : metric === 'AmortizedCost' ? derived.amortized : derived.net);
    }
  }
  return total;
}
