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
 * anomaly is spread too thin to see in this dimension) the whole impact is "other".
 */
export function allocateImpact(impact: Amount, rises: readonly DriverRise[], limit = 5): DriverShare[] {
  const rising = rises.filter((entry) => entry.rise > 0 && Number.isFinite(entry.rise)).sort((a, b) => b.rise - a.rise || a.key.localeCompare(b.key));
  if (rising.length === 0) return impact === 0n ? [] : [{ key: OTHER_DRIVERS, impact }];
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
 * remainder method in the amount's smallest unit: the parts always add up to `total`.
 */
export function splitExactly(total: Amount, weights: readonly number[]): Amount[] {
  const sum = weights.reduce((acc, weight) => acc + weight, 0);
  if (weights.length === 0) return [];
  if (!(sum > 0)) return weights.map((_, index) => (index === 0 ? total : 0n));
  // Shares in parts per 2^40 keep the float step exact enough and the rest in bigint.
  const SCALE = 2 ** 40;
  const scaled = weights.map((weight) => BigInt(Math.round((weight / sum) * SCALE)));
  const scaledSum = scaled.reduce((acc, value) => acc + value, 0n);
  const floors = scaled.map((value) => floorDivide(total * value, scaledSum));
  const remainders = scaled.map((value, index) => total * value - floors[index]! * scaledSum);
  let left = total - floors.reduce((acc, value) => acc + value, 0n);
  const order = remainders.map((_, index) => index).sort((a, b) => (remainders[b]! > remainders[a]! ? 1 : remainders[b]! < remainders[a]! ? -1 : a - b));
  const parts = [...floors];
  for (let i = 0; left > 0n; i = (i + 1) % parts.length, left--) parts[order[i]!]! += 1n;
  return parts;
}

function floorDivide(numerator: bigint, denominator: bigint): bigint {
  const quotient = numerator / denominator;
  return numerator % denominator !== 0n && numerator < 0n !== denominator < 0n ? quotient - 1n : quotient;
}
