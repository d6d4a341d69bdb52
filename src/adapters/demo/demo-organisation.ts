/**
 * The demo organisation: a mid-size company's AWS spend, generated from a seed.
 *
 * The catalogue (demo-catalogue.ts) says which teams run which services where; this module
 * expands it into line items (team × service × account × region × usage type ×
 * environment) with a base daily cost, growth, weekend seasonality and noise. Everything is
 * a pure function of the seed and the date — no clock, no I/O, no state carried between
 * days — so the app can sync a few days at a time and always get the same figures.
 * Injected anomalies live in demo-anomalies.ts; the full daily model in demo-daily-costs.ts.
 */
import { daysBetween, type PlainDate } from '../../core/period.js';
import { DEMO_SERVICES, DEMO_TEAMS, type DemoServiceId } from './demo-catalogue.js';
import { hash32, mulberry32, nextHash, toUnit } from './demo-random.js';

/** Seed of the organisation every demo instance shows unless told otherwise. */
export const DEFAULT_DEMO_SEED = 20_250_101;

/** Currency of every demo figure. */
export const DEMO_CURRENCY = 'USD';

/**
 * Date the model is anchored to: base costs are the spend on this day, growth compounds
 * from it (earlier dates are simply cheaper) and anomaly slots are counted from it.
 */
export const DEMO_EPOCH: PlainDate = '2025-01-01';

const UNIX_EPOCH: PlainDate = '1970-01-01';

/** Day number (days since 1970-01-01) of {@link DEMO_EPOCH}. */
export const DEMO_EPOCH_DAY = daysBetween(UNIX_EPOCH, DEMO_EPOCH);

/** Weekday spend of the whole organisation at the epoch, in USD per day. */
const WEEKDAY_SPEND_AT_EPOCH = 6_000;
/** Weekend drop of production traffic for a service that follows traffic fully. */
const WEEKEND_DROP = 0.3;
/** Share of team line items whose Environment tag was forgotten. */
const UNTAGGED_ENVIRONMENT_RATE = 0.08;
/** Usage types that bill for things kept (bytes stored, addresses held): flat all week. */
const FLAT_USAGE = /Storage|ByteHrs|VolumeUsage|Snapshot|KMS-Keys|PublicIPv4|perCluster/;
const DAYS_PER_MONTH = 365.2425 / 12;
const NOISE_STREAM = 0x4e_0000;

/** One line of the organisation's bill: a cost stream with fixed dimensions and tags. */
export interface DemoLineItem {
  /** Position in {@link DemoOrganisation.lineItems}; also the item's noise stream. */
  readonly index: number;
  /** Team tag value ('' = untagged). */
  readonly team: string;
  /** Cost Explorer SERVICE value. */
  readonly service: string;
  /** Linked account id (12 digits). */
  readonly account: string;
  readonly region: string;
  readonly usageType: string;
  /** Environment tag value ('' = untagged). */
  readonly environment: string;
  /** Expected weekday cost at {@link DEMO_EPOCH}, in USD. */
  readonly baseDailyCost: number;
  /** Growth per month, compounded from the epoch (0.02 = 2%). */
  readonly monthlyGrowth: number;
  /** Multiplier of the expected cost on Saturdays and Sundays (1 = flat). */
  readonly weekendFactor: number;
  /** Covered by savings plans or reservations: amortized cost is below unblended. */
  readonly committed: boolean;
  /** Relative standard deviation of the day-to-day noise. */
  readonly noise: number;
}

/** The generated organisation: its seed and its line items. */
export interface DemoOrganisation {
  readonly seed: number;
  readonly lineItems: readonly DemoLineItem[];
  /**
   * Indices of the larger half of the line items, largest first: anomalies are injected
   * only into these, so each one is material enough to be worth detecting.
   */
  readonly anomalyCandidates: readonly number[];
}

/** Days since 1970-01-01 of a plain date: the integer the per-day hashes are keyed on. */
export function dayNumber(date: PlainDate): number {
  return daysBetween(UNIX_EPOCH, date);
}

/** True when a day number falls on a Saturday or Sunday (1970-01-01 was a Thursday). */
export function isWeekendDay(day: number): boolean {
  const weekday = (((day + 3) % 7) + 7) % 7; // 0 = Monday … 6 = Sunday
  return weekday >= 5;
}

/**
 * Lays out the organisation's line items from the catalogue. Which services run in
 * staging and development, usage types, forgotten Environment tags and the split of each
 * team's spend are drawn from a generator seeded with `seed`; each team's items are then
 * scaled so the team has its catalogue share of {@link WEEKDAY_SPEND_AT_EPOCH}.
 */
export function createDemoOrganisation(seed: number = DEFAULT_DEMO_SEED): DemoOrganisation {
  const random = mulberry32(seed);
  const lineItems: DemoLineItem[] = [];
  for (const team of DEMO_TEAMS) {
    const teamItems: Omit<DemoLineItem, 'index'>[] = [];
    for (const [serviceId, weight] of Object.entries(team.services) as [DemoServiceId, number][]) {
      const service = DEMO_SERVICES[serviceId];
      for (const environment of team.environments) {
        if (random() >= environment.presence) continue;
        const home = team.regions[0];
        if (!home) throw new Error(`demo team ${team.name} has no region`);
        const regions = environment.multiRegion ? team.regions : [[home[0], 1] as const];
        for (const [region, regionShare] of regions) {
          const tag = environment.tag !== '' && random() < UNTAGGED_ENVIRONMENT_RATE ? '' : environment.tag;
          const size = weight * environment.scale * regionShare * (0.7 + 0.6 * random());
          const growth = Math.max(0, team.monthlyGrowth + (random() - 0.5) * 0.01);
          const usageTypes = pickUsageTypes(service.usageTypes, environment.scale === 1 ? 2 : 1, random);
          usageTypes.forEach((usageType, position) => {
            const share = usageTypes.length === 1 ? 1 : position === 0 ? 0.62 : 0.38;
            const dip = FLAT_USAGE.test(usageType) ? 0 : service.weekendDip;
            teamItems.push({
              team: team.name,
              service: service.name,
              account: environment.account.id,
              region: region.code,
              usageType: `${region.usagePrefix}-${usageType}`,
              environment: tag,
              baseDailyCost: size * share,
              monthlyGrowth: growth,
              weekendFactor: Math.max(0.15, 1 - dip * (WEEKEND_DROP + environment.weekendShutdown)),
              committed: service.committed,
              noise: service.noise,
            });
          });
        }
      }
    }
    const teamTotal = teamItems.reduce((sum, item) => sum + item.baseDailyCost, 0);
    const scale = (team.share * WEEKDAY_SPEND_AT_EPOCH) / teamTotal;
    for (const item of teamItems) {
      lineItems.push({ ...item, index: lineItems.length, baseDailyCost: item.baseDailyCost * scale });
    }
  }
  const bySize = [...lineItems].sort((a, b) => b.baseDailyCost - a.baseDailyCost || a.index - b.index);
  const anomalyCandidates = bySize.slice(0, Math.ceil(bySize.length / 2)).map((item) => item.index);
  return { seed, lineItems, anomalyCandidates };
}

/** One usage type, or (half the time, when `most` is 2) two distinct ones, drawn from `choices`. */
function pickUsageTypes(choices: readonly string[], most: number, random: () => number): string[] {
  const first = Math.floor(random() * choices.length);
  const picked = [choices[first]!];
  if (most > 1 && choices.length > 1 && random() < 0.5) {
    picked.push(choices[(first + 1 + Math.floor(random() * (choices.length - 1))) % choices.length]!);
  }
  return picked;
}

/**
 * The model's expected cost of a line item on a day, in USD, before noise and anomalies:
 * base × compounded growth × weekend factor. This is what the demo forecast sums.
 */
export function expectedDailyCost(item: DemoLineItem, day: number): number {
  const growth = Math.pow(1 + item.monthlyGrowth, (day - DEMO_EPOCH_DAY) / DAYS_PER_MONTH);
  return item.baseDailyCost * growth * (isWeekendDay(day) ? item.weekendFactor : 1);
}

/**
 * Multiplicative noise of a line item on a day: mean 1, standard deviation `item.noise`,
 * bounded to ±3 deviations. A hash of (seed, item, day), so it never depends on the range.
 */
export function noiseFactor(seed: number, item: DemoLineItem, day: number): number {
  if (item.noise === 0) return 1;
  const first = hash32(seed, NOISE_STREAM + item.index, day);
  const second = nextHash(first);
  const third = nextHash(second);
  // The sum of three uniforms has mean 1.5 and variance 1/4: centre it and scale to sd 1.
  const z = (toUnit(first) + toUnit(second) + toUnit(third) - 1.5) * 2;
  return 1 + item.noise * z;
}
