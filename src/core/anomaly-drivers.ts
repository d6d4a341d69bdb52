/**
 * Root cause: an anomaly's impact broken down by the values of a dimension (services,
 * accounts, regions, usage types, teams), ranked by USD. Each value's share is in
 * proportion to how far it rose above its own usual level on the anomaly's days; the
 * shares are exact amounts that add up to the impact to the last unit, so a reader who
 * adds the drivers gets the anomaly's figure.
 */
import type { Amount } from './money.js';

/** How far one value rose above its usual level over the anomaly's days (a float is fine: it only weighs). */
export interface DriverRise {
  readonly key: string;
  readonly rise: number;
}

/** A value's exact share of the impact. */
export interface DriverShare {
  readonly key: string;
  readonly impact: Amount;
}

/** The key under which the values not listed are summed. */
export const OTHER_DRIVERS = '*';

/**
 * Splits `impact` among the values that rose, in proportion to their rise, and lists the
 * `limit` largest (the rest summed under {@link OTHER_DRIVERS}). When nothing rose (the
 * anomaly is spread too thin to see in this dimension) the whole impact is "other"; a zero
 * impact has no drivers.
 */
export function allocateImpact(impact: Amount, rises: readonly DriverRise[], limit = 5): DriverShare[] {
  const rising = rises.filter((entry) => entry.rise > 0 && Number.isFinite(entry.rise)).sort((a, b) => b.rise - a.rise || a.key.localeCompare(b.key));
  if (impact === 0n) return [];
  if (rising.length === 0) return [{ key: OTHER_DRIVERS, impact }];
  const listed = rising.slice(0, limit);
  const restRise = rising.slice(limit).reduce((sum, entry) => sum + entry.rise, 0);
  const weights = [...listed.map((entry) => entry.rise), ...(restRise > 0 ? [restRise] : [])];
  const parts = splitExactly(impact, weights);
  const shares = listed.map((entry, index) => ({ key: entry.key, impact: parts[index]! }));
  if (restRise > 0) shares.push({ key: OTHER_DRIVERS, impact: parts[listed.length]! });
  return shares;
}

/**
 * Splits an exact total into parts proportional to `weights` (positive), by the largest
 * remainder method in the amount's smallest unit: the parts always add up to `total`, and
 * each is within one unit of its exact proportion (the float weights are read exactly).
 */
export function splitExactly(total: Amount, weights: readonly number[]): Amount[] {
  if (weights.length === 0) return [];
  const exact = exactWeights(weights);
  const sum = exact.reduce((acc, weight) => acc + weight, 0n);
  if (sum <= 0n) return weights.map((_, index) => (index === 0 ? total : 0n));
  const floors = exact.map((weight) => floorDivide(total * weight, sum));
  const remainders = exact.map((weight, index) => total * weight - floors[index]! * sum);
  let left = total - floors.reduce((acc, value) => acc + value, 0n);
  const order = remainders.map((_, index) => index).sort((a, b) => (remainders[b]! > remainders[a]! ? 1 : remainders[b]! < remainders[a]! ? -1 : a - b));
  const parts = [...floors];
  for (let i = 0; left > 0n; i = (i + 1) % parts.length, left--) parts[order[i]!]! += 1n;
  return parts;
}

/**
 * The weights as integers in exact proportion: every finite double is m / 2^k exactly, so
 * all are scaled by the largest 2^k. Negative and non-finite weights count as zero.
 */
function exactWeights(weights: readonly number[]): bigint[] {
  const dyadic = weights.map((weight) => {
    if (!(weight > 0) || !Number.isFinite(weight)) return { numerator: 0n, shift: 0 };
    let value = weight;
    let shift = 0;
    // Doubling a double is exact, and a non-integer double is below 2^53: no overflow.
    while (!Number.isInteger(value)) {
      value *= 2;
      shift++;
    }
    return { numerator: BigInt(value), shift };
  });
  const most = Math.max(...dyadic.map((entry) => entry.shift));
  return dyadic.map((entry) => entry.numerator << BigInt(most - entry.shift));
}

function floorDivide(numerator: bigint, denominator: bigint): bigint {
  const quotient = numerator / denominator;
  return numerator % denominator !== 0n && numerator < 0n !== denominator < 0n ? quotient - 1n : quotient;
}
