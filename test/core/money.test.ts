import { describe, expect, it } from 'vitest';
import {
  type Amount,
  AMOUNT_SCALE,
  amountFromEstimate,
  amountToDecimalString,
  amountToNumber,
  formatAmount,
  formatCents,
  formatPercent,
  formatSignedCents,
  fromCents,
  fromUnits,
  parseAmount,
  percentChange,
  percentShare,
  roundPartsToCents,
  sumAmounts,
  toCents,
} from '../../src/core/money.js';
import { seeded } from '../support/seeded-random.js';

/** 1 currency unit = 10^10 amount units; 1 cent = 10^8. */
const UNIT = 10_000_000_000n;
const CENT = 100_000_000n;


function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

describe('parseAmount', () => {
  it('keeps a Cost Explorer amount with ten fractional digits exactly', () => {
    expect(AMOUNT_SCALE).toBe(10);
    expect(parseAmount('40.3543773134')).toBe(403_543_773_134n);
    expect(amountToDecimalString(parseAmount('40.3543773134'))).toBe('40.3543773134');
  });

  it('parses the smallest negative amount', () => {
    expect(parseAmount('-0.0000000001')).toBe(-1n);
    expect(amountToDecimalString(-1n)).toBe('-0.0000000001');
  });

  it('parses scientific notation', () => {
    // 1.2E-5 = 0.000012 = 120000 × 10^-10
    expect(parseAmount('1.2E-5')).toBe(120_000n);
    expect(parseAmount('1.2e3')).toBe(1200n * UNIT);
    expect(parseAmount('12E-1')).toBe(12n * UNIT / 10n);
    expect(parseAmount('1e+2')).toBe(100n * UNIT);
  });

  it('accepts a sign, surrounding spaces, and a missing whole or fractional part', () => {
    expect(parseAmount('+5')).toBe(5n * UNIT);
    expect(parseAmount('  12.5  ')).toBe(125n * UNIT / 10n);
    expect(parseAmount('.5')).toBe(UNIT / 2n);
    expect(parseAmount('5.')).toBe(5n * UNIT);
    expect(parseAmount('-0')).toBe(0n);
  });

  it('rounds digits beyond the tenth fractional place half to even', () => {
    // Exactly half a unit: round to the even neighbour.
    expect(parseAmount('0.00000000005')).toBe(0n);
    expect(parseAmount('0.00000000015')).toBe(2n);
    expect(parseAmount('0.00000000025')).toBe(2n);
    expect(parseAmount('0.00000000035')).toBe(4n);
    expect(parseAmount('1.23456789015')).toBe(12_345_678_902n);
    expect(parseAmount('1.23456789025')).toBe(12_345_678_902n);
    // Not a tie: ordinary rounding.
    expect(parseAmount('0.000000000250000001')).toBe(3n);
    expect(parseAmount('0.00000000014999')).toBe(1n);
    // Negative ties round the magnitude the same way.
    expect(parseAmount('-0.00000000015')).toBe(-2n);
    expect(parseAmount('-0.00000000025')).toBe(-2n);
    // Far below the precision: zero.
    expect(parseAmount('1e-20')).toBe(0n);
  });

  it.each(['', '   ', 'abc', '-', '.', 'e5', '1e', '1,000', '12.5 USD', '0x10', 'NaN', 'Infinity', '1.2.3', '--5'])(
    'rejects %j with a RangeError',
    (text) => {
      expect(() => parseAmount(text)).toThrow(RangeError);
    },
  );

  it('accepts exponents up to ±30 and up to 40 digits', () => {
    expect(parseAmount('1e30')).toBe(10n ** 40n);
    expect(parseAmount('-1E+30')).toBe(-(10n ** 40n));
    expect(parseAmount('1e-30')).toBe(0n);
    expect(parseAmount('5e-11')).toBe(0n); // a tie: rounds to the even 0
    const forty = '1234567890'.repeat(4);
    expect(parseAmount(forty)).toBe(BigInt(forty) * UNIT);
    expect(parseAmount(`0.${'0'.repeat(38)}1`)).toBe(0n); // 40 digits, far below the precision
  });

  it.each([
    '1e100000000',
    '1e-100000000',
    '-1E+31',
    '1e-31',
    `1e${'9'.repeat(400)}`,
    '1'.repeat(41),
    `0.${'0'.repeat(39)}1`,
    `${'9'.repeat(20)}.${'9'.repeat(21)}`,
    '9'.repeat(1_000_000),
  ])('rejects %#, an amount too large or too long to be a cost, quickly and with a RangeError', (text) => {
    const started = performance.now();
    expect(() => parseAmount(text)).toThrow(new RangeError(`amount out of range: ${JSON.stringify(text)}`));
    expect(performance.now() - started).toBeLessThan(200);
  });
});

describe('sums and conversions', () => {
  it('sums 0.1 ten times to exactly 1', () => {
    const tenth = parseAmount('0.1');
    expect(sumAmounts(Array.from({ length: 10 }, () => tenth))).toBe(parseAmount('1'));
    expect(sumAmounts([])).toBe(0n);
  });

  it('round-trips amounts through their decimal text', () => {
    for (const text of ['0.0000000000', '1.0000000000', '-12.3456789012', '123456789.9999999999']) {
      expect(amountToDecimalString(parseAmount(text))).toBe(text);
    }
  });

  it('converts cents, units and estimates', () => {
    expect(fromCents(1n)).toBe(CENT);
    expect(fromCents(-250n)).toBe(parseAmount('-2.50'));
    expect(fromUnits(0.1)).toBe(parseAmount('0.1'));
    expect(fromUnits(1e-7)).toBe(1000n);
    expect(fromUnits(25000)).toBe(25_000n * UNIT);
    expect(amountToNumber(parseAmount('40.3543773134'))).toBeCloseTo(40.3543773134, 10);
    expect(amountFromEstimate(12.34)).toBe(parseAmount('12.34'));
    expect(amountFromEstimate(-3)).toBe(parseAmount('-3'));
    expect(() => amountFromEstimate(Number.NaN)).toThrow(RangeError);
    expect(() => amountFromEstimate(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});

describe('toCents', () => {
  it('rounds half a cent away from zero', () => {
    expect(toCents(parseAmount('0.005'))).toBe(1n);
    expect(toCents(parseAmount('0.0049999999'))).toBe(0n);
    expect(toCents(parseAmount('-0.005'))).toBe(-1n);
    expect(toCents(parseAmount('-0.0049999999'))).toBe(0n);
    // 2.675 is the classic case floats get wrong (2.675.toFixed(2) === "2.67").
    expect(toCents(parseAmount('2.675'))).toBe(268n);
    expect(toCents(parseAmount('-2.675'))).toBe(-268n);
    expect(toCents(parseAmount('1.994999'))).toBe(199n);
    expect(toCents(parseAmount('1.995'))).toBe(200n);
    expect(toCents(parseAmount('40.3543773134'))).toBe(4035n);
    expect(toCents(0n)).toBe(0n);
  });
});

describe('roundPartsToCents', () => {
  it('gives three thirds of a unit 34 + 33 + 33 cents, adding up to the rounded total', () => {
    const third = parseAmount('0.3333333333');
    const cents = roundPartsToCents([third, third, third]);
    // 0.9999999999 rounds to 1.00
    expect(cents.reduce((a, b) => a + b, 0n)).toBe(100n);
    expect([...cents].sort()).toEqual([33n, 33n, 34n]);
  });

  it('fixes the cases where rounding each part on its own drifts from the total', () => {
    // 1.005 + 1.005 = 2.01; rounding each gives 1.01 + 1.01 = 2.02.
    const half = parseAmount('1.005');
    const two = roundPartsToCents([half, half]);
    expect(two.reduce((a, b) => a + b, 0n)).toBe(201n);
    expect([...two].sort()).toEqual([100n, 101n]);
    // 3 × 0.004 = 0.012 → 0.01; rounding each gives 0.
    const tiny = parseAmount('0.004');
    const three = roundPartsToCents([tiny, tiny, tiny]);
    expect(three.reduce((a, b) => a + b, 0n)).toBe(1n);
    expect([...three].sort()).toEqual([0n, 0n, 1n]);
  });

  it('handles a credit among the parts', () => {
    // -0.005 + 0.01 = 0.005 → 1 cent; the credit is -0.5 cent, so it becomes -1 or 0.
    expect(roundPartsToCents([parseAmount('-0.005'), parseAmount('0.01')])).toEqual([0n, 1n]);
  });

  it('returns nothing for no parts and the rounded value for one part', () => {
    expect(roundPartsToCents([])).toEqual([]);
    expect(roundPartsToCents([parseAmount('12.345')])).toEqual([1235n]);
  });

  it('for random part sets, the rounded parts add up to the rounded total and each is within a cent', () => {
    const random = seeded(20261121);
    for (let trial = 0; trial < 2000; trial++) {
      const count = 1 + Math.floor(random() * 12);
      const withCredits = random() < 0.3;
      const parts: Amount[] = Array.from({ length: count }, () => {
        // Magnitudes from sub-cent to about 100k, with arbitrary 10-digit fractions.
        const scale = 10 ** Math.floor(random() * 6);
        let amount = BigInt(Math.floor(random() * scale * 1e10 + random() * 1e8));
        if (withCredits && random() < 0.4) amount = -amount;
        return amount;
      });
      const cents = roundPartsToCents(parts);
      expect(cents).toHaveLength(count);
      expect(cents.reduce((a, b) => a + b, 0n)).toBe(toCents(sumAmounts(parts)));
      cents.forEach((value, index) => {
        const part = parts[index]!;
        const floor = floorDiv(part, CENT);
        // Each part is rounded down or up, never moved further.
        expect(value === floor || value === floor + 1n).toBe(true);
        if (part % CENT === 0n) expect(value * CENT).toBe(part);
      });
    }
  });
});

describe('formatting', () => {
  it('formats cents with thousands separators and a leading minus', () => {
    expect(formatCents(0n, 'USD')).toBe('USD 0.00');
    expect(formatCents(1n, 'USD')).toBe('USD 0.01');
    expect(formatCents(99_999n, 'USD')).toBe('USD 999.99');
    expect(formatCents(100_000n, 'USD')).toBe('USD 1,000.00');
    expect(formatCents(123_456_789n, 'USD')).toBe('USD 1,234,567.89');
    expect(formatCents(100_000_000_000n, 'EUR')).toBe('EUR 1,000,000,000.00');
    expect(formatCents(-1200n, 'USD')).toBe('-USD 12.00');
    expect(formatCents(-123_456n, 'USD')).toBe('-USD 1,234.56');
  });

  it('formats amounts rounded to cents, and signed changes', () => {
    expect(formatAmount(parseAmount('1234.565'), 'USD')).toBe('USD 1,234.57');
    expect(formatAmount(parseAmount('-0.004'), 'USD')).toBe('USD 0.00');
    expect(formatSignedCents(0n, 'USD')).toBe('+USD 0.00');
    expect(formatSignedCents(123_456n, 'USD')).toBe('+USD 1,234.56');
    expect(formatSignedCents(-5n, 'USD')).toBe('-USD 0.05');
  });

  it('formats percentages to one decimal', () => {
    expect(formatPercent(12.34)).toBe('+12.3%');
    expect(formatPercent(-4)).toBe('-4.0%');
    expect(formatPercent(0)).toBe('0.0%');
    // A change too small to show has no sign.
    expect(formatPercent(-0.04)).toBe('0.0%');
    expect(formatPercent(0.04)).toBe('0.0%');
    expect(formatPercent(5, false)).toBe('5.0%');
    expect(formatPercent(-5, false)).toBe('-5.0%');
  });
});

describe('percentChange and percentShare', () => {
  it('has no percentage for a change from zero', () => {
    expect(percentChange(0n, parseAmount('10'))).toBeUndefined();
    expect(percentChange(0n, 0n)).toBeUndefined();
  });

  it('computes the change to two decimals', () => {
    expect(percentChange(parseAmount('100'), parseAmount('150'))).toBe(50);
    expect(percentChange(parseAmount('100'), parseAmount('0'))).toBe(-100);
    expect(percentChange(parseAmount('100'), parseAmount('100'))).toBe(0);
    expect(percentChange(parseAmount('3'), parseAmount('4'))).toBe(33.33);
    expect(percentChange(parseAmount('3'), parseAmount('1'))).toBe(-66.67);
    // From a credit of -100 to -50 spend went up by half of its size.
    expect(percentChange(parseAmount('-100'), parseAmount('-50'))).toBe(50);
  });

  it('computes shares to two decimals, zero of a zero whole', () => {
    expect(percentShare(parseAmount('1'), parseAmount('3'))).toBe(33.33);
    expect(percentShare(parseAmount('2'), parseAmount('3'))).toBe(66.67);
    expect(percentShare(parseAmount('1'), parseAmount('8'))).toBe(12.5);
    expect(percentShare(parseAmount('5'), parseAmount('5'))).toBe(100);
    expect(percentShare(parseAmount('5'), 0n)).toBe(0);
  });
});
