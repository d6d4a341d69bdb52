import { describe, expect, it } from 'vitest';
import { allocateImpact, type DriverRise, type DriverShare, OTHER_DRIVERS, splitExactly } from '../../src/core/anomaly-drivers.js';
import { type Amount, parseAmount, sumAmounts } from '../../src/core/money.js';
import { seeded } from '../support/seeded-random.js';

const total = (shares: readonly DriverShare[]) => sumAmounts(shares.map((share) => share.impact));

/** A random bigint in [0, bound) from a seeded generator. */
function randomBigInt(random: () => number, bound: bigint): bigint {
  // Three 30-bit draws cover any bound used here (< 2^90).
  const draw = (BigInt(Math.floor(random() * 2 ** 30)) << 60n) | (BigInt(Math.floor(random() * 2 ** 30)) << 30n) | BigInt(Math.floor(random() * 2 ** 30));
  return draw % bound;
}

/** Random impacts: odd unit counts, whole cents, dollar figures, tiny and huge, sometimes negative. */
function randomImpact(random: () => number): Amount {
  const pick = Math.floor(random() * 6);
  const magnitude = [
    123_456_789n,
    1n + randomBigInt(random, 100n),
    parseAmount((random() * 5_000).toFixed(2)),
    parseAmount((random() * 1_000_000).toFixed(10)),
    1n + randomBigInt(random, 10n ** 25n),
    parseAmount('0.0000000001'),
  ][pick]!;
  return random() < 0.15 ? -magnitude : magnitude;
}

/** 0–15 drivers, some that rose (by very different amounts), some flat, some that fell. */
function randomRises(random: () => number): DriverRise[] {
  const count = Math.floor(random() * 16);
  return Array.from({ length: count }, (_, index) => {
    const kind = random();
    const rise = kind < 0.2 ? -random() * 500 : kind < 0.3 ? 0 : kind < 0.4 ? random() * 1e-6 : random() * 10 ** Math.floor(random() * 6);
    return { key: `service-${index}`, rise };
  });
}

/** Fractional bits kept when comparing a part with its exact quota. */
const FRACTION_BITS = 20n;

/** A positive double as an exact integer over 2^1100 (every double is an integer times a power of two). */
function exactWeight(weight: number): bigint {
  let value = weight;
  let exponent = 0n;
  while (!Number.isInteger(value)) {
    value *= 2;
    exponent++;
  }
  return BigInt(value) << (1100n - exponent);
}

/**
 * How far `part` is from its exact quota, amount × weights[index] / Σweights, in units:
 * computed in bigint from the weights' exact values, so the reference itself does not round.
 */
function deviation(part: Amount, amount: Amount, weights: readonly number[], index: number): number {
  const scaled = weights.map(exactWeight);
  const sum = scaled.reduce((acc, value) => acc + value, 0n);
  const quota = (amount * scaled[index]! << FRACTION_BITS) / sum;
  const difference = (part << FRACTION_BITS) - quota;
  return Number(difference < 0n ? -difference : difference) / 2 ** Number(FRACTION_BITS);
}

describe('allocateImpact', () => {
  it('makes the shares add up exactly to the impact, for many random breakdowns', () => {
    const random = seeded(2024);
    for (let round = 0; round < 3_000; round++) {
      // Prepare
      const impact = randomImpact(random);
      const rises = randomRises(random);
      const limit = 1 + Math.floor(random() * 7);

      // Act
      const shares = allocateImpact(impact, rises, limit);

      // Assess
      expect(total(shares), `round ${round}: ${impact} over ${JSON.stringify(rises)} (limit ${limit})`).toBe(impact);
    }
  });

  it('gives nothing to values that did not rise', () => {
    const random = seeded(7);
    for (let round = 0; round < 500; round++) {
      // Prepare
      const rises = randomRises(random);
      const impact = randomImpact(random);

      // Act
      const shares = allocateImpact(impact, rises, 100);

      // Assess
      const didNotRise = new Set(rises.filter((entry) => !(entry.rise > 0)).map((entry) => entry.key));
      expect(shares.filter((share) => didNotRise.has(share.key))).toEqual([]);
    }
    // Not-a-number and infinite rises are not rises either.
    const shares = allocateImpact(parseAmount('100'), [
      { key: 'ec2', rise: 30 },
      { key: 'broken', rise: Number.NaN },
      { key: 'runaway', rise: Number.POSITIVE_INFINITY },
      { key: 'shrank', rise: -80 },
      { key: 'flat', rise: 0 },
    ]);
    expect(shares).toEqual([{ key: 'ec2', impact: parseAmount('100') }]);
  });

  it('splits the impact in proportion to the rises, largest driver first', () => {
    // Prepare: EC2 rose three times as much as S3, Lambda as much as S3; RDS fell.
    const impact = parseAmount('1000');
    const rises = [
      { key: 's3', rise: 50 },
      { key: 'rds', rise: -400 },
      { key: 'ec2', rise: 150 },
      { key: 'lambda', rise: 50 },
    ];

    // Act
    const shares = allocateImpact(impact, rises);

    // Assess: ties keep a stable order (by key).
    expect(shares).toEqual([
      { key: 'ec2', impact: parseAmount('600') },
      { key: 'lambda', impact: parseAmount('200') },
      { key: 's3', impact: parseAmount('200') },
    ]);
  });

  it('lists the `limit` largest rising values and sums the rest under OTHER_DRIVERS', () => {
    // Prepare: eight services rose, by 8, 4, 2, 1, ½, ¼, ⅛ and ⅛ (16 in all).
    const rises = [8, 4, 2, 1, 0.5, 0.25, 0.125, 0.125].map((rise, index) => ({ key: `service-${index + 1}`, rise }));
    const impact = parseAmount('1600'); // 100 per unit of rise

    // Act
    const shares = allocateImpact(impact, rises, 3);
    const unlimited = allocateImpact(impact, rises, 100);

    // Assess
    expect(shares.map((share) => share.key)).toEqual(['service-1', 'service-2', 'service-3', OTHER_DRIVERS]);
    expect(shares.slice(0, 3).map((share) => share.impact)).toEqual([parseAmount('800'), parseAmount('400'), parseAmount('200')]);
    // The other five rose by 2 in all.
    expect(shares[3]!.impact).toBe(parseAmount('200'));
    expect(total(shares)).toBe(impact);
    // Without a limit every service is listed, and the rest are exactly what "other" held.
    expect(unlimited).toHaveLength(8);
    expect(sumAmounts(unlimited.slice(3).map((share) => share.impact))).toBe(shares[3]!.impact);
  });

  it('uses OTHER_DRIVERS only when more values rose than the limit', () => {
    const rises = [
      { key: 'a', rise: 3 },
      { key: 'b', rise: 2 },
      { key: 'c', rise: 1 },
      { key: 'd', rise: -5 },
    ];
    expect(allocateImpact(parseAmount('60'), rises, 3).map((share) => share.key)).toEqual(['a', 'b', 'c']);
    expect(allocateImpact(parseAmount('60'), rises, 2).map((share) => share.key)).toEqual(['a', 'b', OTHER_DRIVERS]);
  });

  it('keeps the "other" share within a unit of its proportion, for random breakdowns', () => {
    const random = seeded(31);
    for (let round = 0; round < 1_000; round++) {
      // Prepare: impacts up to USD 1 in units, where a unit is the resolution that can be promised.
      const impact = 1n + randomBigInt(random, 10n ** 10n);
      const rises = randomRises(random);
      const limit = 1 + Math.floor(random() * 4);

      // Act
      const shares = allocateImpact(impact, rises, limit);

      // Assess
      const rising = rises.filter((entry) => entry.rise > 0).sort((a, b) => b.rise - a.rise || a.key.localeCompare(b.key));
      if (rising.length === 0) {
        expect(shares).toEqual([{ key: OTHER_DRIVERS, impact }]);
        continue;
      }
      if (rising.length <= limit) {
        expect(shares.some((share) => share.key === OTHER_DRIVERS)).toBe(false);
        continue;
      }
      const other = shares.at(-1)!;
      expect(other.key).toBe(OTHER_DRIVERS);
      const weights = [...rising.slice(0, limit).map((entry) => entry.rise), rising.slice(limit).reduce((sum, entry) => sum + entry.rise, 0)];
      expect(deviation(other.impact, impact, weights, limit), `round ${round}`).toBeLessThan(1);
    }
  });

  it('puts the whole impact under OTHER_DRIVERS when nothing rose in this dimension', () => {
    const impact = parseAmount('742.1234567891');
    expect(allocateImpact(impact, [])).toEqual([{ key: OTHER_DRIVERS, impact }]);
    expect(
      allocateImpact(impact, [
        { key: 'ec2', rise: -10 },
        { key: 's3', rise: 0 },
      ]),
    ).toEqual([{ key: OTHER_DRIVERS, impact }]);
  });

  it('has no drivers for a zero impact when nothing rose, and never invents money when something did', () => {
    expect(allocateImpact(0n, [])).toEqual([]);
    expect(allocateImpact(0n, [{ key: 'ec2', rise: -10 }])).toEqual([]);
    const shares = allocateImpact(0n, [
      { key: 'ec2', rise: 10 },
      { key: 's3', rise: 5 },
    ]);
    expect(shares.every((share) => share.impact === 0n)).toBe(true);
  });
});

describe('splitExactly', () => {
  it('returns parts that add up to the total, for random totals and weights, negative totals included', () => {
    const random = seeded(5);
    for (let round = 0; round < 3_000; round++) {
      // Prepare
      const amount = randomImpact(random);
      const weights = Array.from({ length: 1 + Math.floor(random() * 12) }, () => random() * 10 ** Math.floor(random() * 8) + 1e-9);

      // Act
      const parts = splitExactly(amount, weights);

      // Assess
      expect(parts).toHaveLength(weights.length);
      expect(sumAmounts(parts), `round ${round}: ${amount} over ${weights.join(', ')}`).toBe(amount);
    }
  });

  it('keeps every part within one unit of its exact proportion (totals up to USD 1)', () => {
    const random = seeded(6);
    for (let round = 0; round < 2_000; round++) {
      // Prepare
      const magnitude = 1n + randomBigInt(random, 10n ** 10n);
      const amount = round % 3 === 0 ? -magnitude : magnitude;
      const weights = Array.from({ length: 1 + Math.floor(random() * 10) }, () => random() * 1_000 + 1e-6);

      // Act
      const parts = splitExactly(amount, weights);

      // Assess
      parts.forEach((part, index) => {
        expect(deviation(part, amount, weights, index), `round ${round}, part ${index}`).toBeLessThan(1);
      });
    }
  });

  it('keeps every part within one unit of its exact proportion for real-sized impacts (USD 100 to USD 1,000,000)', () => {
    const random = seeded(8);
    const worst = { deviation: 0, amount: 0n, weights: [] as number[] };
    for (let round = 0; round < 500; round++) {
      // Prepare
      const amount = parseAmount((100 * 10 ** (random() * 4)).toFixed(10));
      const weights = Array.from({ length: 2 + Math.floor(random() * 6) }, () => random() * 1_000 + 1e-6);

      // Act
      const parts = splitExactly(amount, weights);

      // Assess: collect the worst deviation, to report it with its case.
      parts.forEach((part, index) => {
        const off = deviation(part, amount, weights, index);
        if (off > worst.deviation) Object.assign(worst, { deviation: off, amount, weights });
      });
    }
    expect(worst.deviation, `worst case: ${worst.amount} units over ${worst.weights.join(', ')}`).toBeLessThan(1);
  });

  it('keeps every part within a cent of its exact proportion for real-sized impacts, however large', () => {
    const random = seeded(9);
    const CENT = parseAmount('0.01');
    for (let round = 0; round < 500; round++) {
      const amount = parseAmount((10 ** (random() * 9)).toFixed(10)) * (round % 4 === 0 ? -1n : 1n);
      const weights = Array.from({ length: 1 + Math.floor(random() * 8) }, () => random() * 10 ** Math.floor(random() * 6) + 1e-6);
      const parts = splitExactly(amount, weights);
      parts.forEach((part, index) => {
        expect(deviation(part, amount, weights, index), `round ${round}, part ${index}`).toBeLessThan(Number(CENT));
      });
    }
  });

  it('splits evenly when the weights are equal: parts differ by at most one unit', () => {
    for (const amount of [10n, 11n, 123_456_789n, -10n, -123_456_789n, 2n, 0n]) {
      const parts = splitExactly(amount, [1, 1, 1]);
      expect(sumAmounts(parts)).toBe(amount);
      const sorted = [...parts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      expect(sorted[2]! - sorted[0]!, `${amount}`).toBeLessThanOrEqual(1n);
    }
  });

  it('gives the whole total to a single weight, and nothing to split for no weights', () => {
    expect(splitExactly(123_456_789n, [0.25])).toEqual([123_456_789n]);
    expect(splitExactly(-5n, [42])).toEqual([-5n]);
    expect(splitExactly(100n, [])).toEqual([]);
  });

  it('loses no money even when the weights sum to nothing', () => {
    expect(sumAmounts(splitExactly(987_654_321n, [0, 0, 0]))).toBe(987_654_321n);
  });
});
