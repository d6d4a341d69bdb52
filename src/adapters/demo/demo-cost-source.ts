/**
 * A cost source that needs no AWS account: it answers Cost Explorer-shaped requests from
 * the generated demo organisation, so the bot can be tried (and tested) end to end.
 */
import type { CostMetric } from '../../core/cost-model.js';
import { fromCents } from '../../core/money.js';
import { daysBetween, eachDay, type DateRange } from '../../core/period.js';
import type { CostGrouping, CostSource, DailyCostRequest, DailyCostRow, SourceForecast } from '../../ports.js';
import { listInjectedAnomalies, type InjectedAnomaly } from './demo-anomalies.js';
import { DEMO_ACCOUNTS } from './demo-catalogue.js';
import { expectedTotalCents, lineItemCentsOn } from './demo-daily-costs.js';
import {
  createDemoOrganisation,
  DEFAULT_DEMO_SEED,
  DEMO_CURRENCY,
  type DemoLineItem,
  type DemoOrganisation,
} from './demo-organisation.js';

/** Options of {@link DemoCostSource}. */
export interface DemoCostSourceOptions {
  /** Seed of the generated organisation; the default gives the documented demo company. */
  readonly seed?: number;
}

/** Cost Explorer dimensions the demo can group by, and the line item field each reads. */
const DIMENSIONS: Readonly<Record<string, (item: DemoLineItem) => string>> = {
  SERVICE: (item) => item.service,
  LINKED_ACCOUNT: (item) => item.account,
  REGION: (item) => item.region,
  USAGE_TYPE: (item) => item.usageType,
};

/** Tag keys the demo organisation uses; any other key is untagged everywhere. */
const TAGS: Readonly<Record<string, (item: DemoLineItem) => string>> = {
  Team: (item) => item.team,
  Environment: (item) => item.environment,
};

const FORECAST_LOW_PERCENT = 92n;
const FORECAST_HIGH_PERCENT = 108n;

/** How a grouping reads its key from a line item; throws for a dimension the demo lacks. */
function groupingReader(grouping: CostGrouping): (item: DemoLineItem) => string {
  if (grouping.type === 'TAG') return TAGS[grouping.key] ?? (() => '');
  const reader = DIMENSIONS[grouping.key];
  if (!reader) {
    throw new Error(
      `The demo cost source does not support grouping by dimension ${grouping.key}; ` +
        `supported dimensions: ${Object.keys(DIMENSIONS).join(', ')}.`,
    );
  }
  return reader;
}

function checkRange(range: DateRange): void {
  if (daysBetween(range.start, range.end) < 0) {
    throw new RangeError(`date range ends before it starts: ${range.start} to ${range.end}`);
  }
}

/** Rounds a non-negative bigint ratio half up. */
function percentOf(cents: bigint, percent: bigint): bigint {
  return (cents * percent + 50n) / 100n;
}

/**
 * The demo organisation as a {@link CostSource}: daily costs grouped like Cost Explorer
 * (tag values without their "Key$" prefix, '' for untagged), and an honest forecast from
 * the model's expected values. Every figure is a pure function of the seed and the date.
 */
export class DemoCostSource implements CostSource {
  readonly kind = 'demo' as const;
  /** The generated organisation, exposed so tests can check figures against the model. */
  readonly organisation: DemoOrganisation;

  constructor(options: DemoCostSourceOptions = {}) {
    this.organisation = createDemoOrganisation(options.seed ?? DEFAULT_DEMO_SEED);
  }

  /** One row per (day, first key, second key) with spend, line items summed exactly. */
  async getDailyCosts(request: DailyCostRequest): Promise<DailyCostRow[]> {
    const { range, groupBy } = request;
    checkRange(range);
    const readFirst = groupingReader(groupBy[0]);
    const readSecond = groupingReader(groupBy[1]);

    // The group of each line item is the same every day: work it out once.
    const groupKeys: (readonly [string, string])[] = [];
    const groupIds = new Map<string, number>();
    const itemGroup = this.organisation.lineItems.map((item) => {
      const keys = [readFirst(item), readSecond(item)] as const;
      const id = `${keys[0]}\u0000${keys[1]}`;
      let group = groupIds.get(id);
      if (group === undefined) {
        group = groupKeys.length;
        groupIds.set(id, group);
        groupKeys.push(keys);
      }
      return group;
    });
    const order = groupKeys
      .map((_, group) => group)
      .sort((a, b) => compareKeys(groupKeys[a]!, groupKeys[b]!));

    const rows: DailyCostRow[] = [];
    for (const date of eachDay(range)) {
      const cents = lineItemCentsOn(this.organisation, date);
      const unblended = new Array<bigint>(groupKeys.length).fill(0n);
      const amortized = new Array<bigint>(groupKeys.length).fill(0n);
      const net = new Array<bigint>(groupKeys.length).fill(0n);
      itemGroup.forEach((group, index) => {
        unblended[group]! += BigInt(cents.unblended[index]!);
        amortized[group]! += BigInt(cents.amortized[index]!);
        net[group]! += BigInt(cents.net[index]!);
      });
      for (const group of order) {
        if (unblended[group] === 0n && amortized[group] === 0n && net[group] === 0n) continue;
        rows.push({
          date,
          keys: groupKeys[group]!,
          currency: DEMO_CURRENCY,
          costs: {
            UnblendedCost: fromCents(unblended[group]!),
            AmortizedCost: fromCents(amortized[group]!),
            NetUnblendedCost: fromCents(net[group]!),
          },
          // The demo has no clock, so it cannot know which days are recent: all are final.
          estimated: false,
        });
      }
    }
    return rows;
  }

  /** Anomalies injected with their onset in `range`, so detection can be checked for recall. */
  listInjectedAnomalies(range: DateRange): InjectedAnomaly[] {
    checkRange(range);
    return listInjectedAnomalies(this.organisation, range);
  }

  /** The model's expected spend over the range (no noise, no anomalies), ±8%. */
  async getForecast(range: DateRange, metric: CostMetric): Promise<SourceForecast> {
    checkRange(range);
    const mean = expectedTotalCents(this.organisation, range, metric);
    return {
      range,
      metric,
      currency: DEMO_CURRENCY,
      mean: fromCents(mean),
      low: fromCents(percentOf(mean, FORECAST_LOW_PERCENT)),
      high: fromCents(percentOf(mean, FORECAST_HIGH_PERCENT)),
    };
  }

  /** The demo accounts' names (the demo has the same accounts on every day). */
  async getAccountNames(_range: DateRange): Promise<ReadonlyMap<string, string>> {
    return new Map(Object.values(DEMO_ACCOUNTS).map((account) => [account.id, account.name]));
  }
}

function compareKeys(a: readonly [string, string], b: readonly [string, string]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}
