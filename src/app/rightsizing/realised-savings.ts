/**
 * The saving a rightsizing change actually brought, measured from the cost store: the
 * owning team's daily spend on the instance types involved (usage types ending in
 * `BoxUsage:<type>`, any region prefix) over the 30 days before the change against the 30
 * days after, as a monthly figure. It reads a team's spend on those types, not one
 * instance's, so other instances of the same types move it too; the report says so.
 */
import type { CostMetric } from '../../core/cost-model.js';
import { type Amount, sumAmounts } from '../../core/money.js';
import { addDays, type PlainDate } from '../../core/period.js';
import type { CostStore } from '../../ports.js';

/** Days compared on each side of the change. */
export const REALISATION_WINDOW_DAYS = 30;

/** Average days in a month, as a fraction, for exact scaling of a 30-day sum. */
const MONTH_NUMERATOR = 3_652_425n;
const MONTH_DENOMINATOR = 120_000n;

/** What was measured. */
export interface RealisedSaving {
  /** Spend a month on the types before the change, and after. */
  readonly before: Amount;
  readonly after: Amount;
  /** before − after. */
  readonly monthly: Amount;
  readonly currency: string;
}

/**
 * Measures the saving of a change applied on `appliedDay`: undefined until the store has the
 * 30 days after it (the day of the change itself is left out of both sides).
 */
export async function measureRealisedSaving(
  store: Pick<CostStore, 'sumByDayAndKey' | 'currency'>,
  change: { team: string; currentType: string; targetType: string | undefined; appliedDay: PlainDate; dataThrough: PlainDate | undefined; metric: CostMetric },
): Promise<RealisedSaving | undefined> {
  const afterFrom = addDays(change.appliedDay, 1);
  const afterTo = addDays(afterFrom, REALISATION_WINDOW_DAYS);
  if (change.dataThrough === undefined || change.dataThrough < addDays(afterTo, -1)) return undefined;
  const beforeTo = change.appliedDay;
  const beforeFrom = addDays(beforeTo, -REALISATION_WINDOW_DAYS);
  const types = [change.currentType, change.targetType].filter((type): type is string => type !== undefined);
  const matches = (usageType: string) => types.some((type) => usageType === `BoxUsage:${type}` || usageType.endsWith(`-BoxUsage:${type}`));
  const spend = async (from: PlainDate, to: PlainDate) => {
    const rows = await store.sumByDayAndKey('usage-type', 'team-value', { range: { start: from, end: to }, metric: change.metric, team: change.team });
    return sumAmounts(rows.filter((row) => row.team === change.team && matches(row.value)).map((row) => row.amount));
  };
  const [before, after] = await Promise.all([spend(beforeFrom, beforeTo), spend(afterFrom, afterTo)]);
  const monthly = (sum: Amount) => (sum * MONTH_NUMERATOR) / (MONTH_DENOMINATOR * BigInt(REALISATION_WINDOW_DAYS));
  return { before: monthly(before), after: monthly(after), monthly: monthly(before) - monthly(after), currency: (await store.currency()) ?? 'USD' };
}
