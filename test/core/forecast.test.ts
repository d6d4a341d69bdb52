import { describe, expect, it } from 'vitest';
import { forecastRemaining } from '../../src/core/forecast.js';
import { type Amount, parseAmount } from '../../src/core/money.js';
import { addDays, eachDay, isoWeekday, type PlainDate } from '../../src/core/period.js';
import { seeded } from '../support/seeded-random.js';

type Day = { date: PlainDate; amount: Amount };

/** `count` days of history ending the day before `firstRemaining`, oldest first. */
function history(firstRemaining: PlainDate, count: number, amountOn: (date: PlainDate, index: number) => string): Day[] {
  return eachDay({ start: addDays(firstRemaining, -count), end: firstRemaining }).map((date, index) => ({
    date,
    amount: parseAmount(amountOn(date, index)),
  }));
}

/** Weekdays cost 100, Saturdays and Sundays 20. */
const weekdayPattern = (date: PlainDate) => (isoWeekday(date) >= 6 ? '20' : '100');


describe('forecastRemaining', () => {
  it('forecasts a flat series as actual + remaining days × the daily spend, with no range', () => {
    // 21 November: 22–30 November remain (9 days) at 100.50 a day.
    const remaining = eachDay({ start: '2026-11-22', end: '2026-12-01' });
    expect(remaining).toHaveLength(9);
    const actual = parseAmount('2110.50');
    const forecast = forecastRemaining(actual, history('2026-11-22', 28, () => '100.5'), remaining);
    expect(forecast.actual).toBe(actual);
    expect(forecast.mean).toBe(parseAmount('3015')); // 2110.50 + 9 × 100.50
    expect(forecast.low).toBe(forecast.mean);
    expect(forecast.high).toBe(forecast.mean);
    expect(forecast.remainingDays).toBe(9);
    expect(forecast.method).toContain('9 remaining days');
  });

  it('prices each remaining day at the typical spend of its weekday', () => {
    const actual = parseAmount('2000');
    // 28–30 November 2026 are Saturday, Sunday, Monday: 20 + 20 + 100.
    const november = eachDay({ start: '2026-11-28', end: '2026-12-01' });
    const weekendHeavy = forecastRemaining(actual, history(november[0]!, 28, weekdayPattern), november);
    expect(weekendHeavy.mean).toBe(parseAmount('2140'));
    // 28–30 September 2026 are Monday, Tuesday, Wednesday: 3 × 100.
    const september = eachDay({ start: '2026-09-28', end: '2026-10-01' });
    const weekdaysOnly = forecastRemaining(actual, history(september[0]!, 28, weekdayPattern), september);
    expect(weekdaysOnly.mean).toBe(parseAmount('2300'));
    expect(weekendHeavy.mean).toBeLessThan(weekdaysOnly.mean);
    // The pattern is followed exactly, so there is no spread.
    expect(weekendHeavy.high - weekendHeavy.low).toBe(0n);
  });

  it('is not dragged up by a single huge spike (weekday medians, not means)', () => {
    const remaining = eachDay({ start: '2026-11-22', end: '2026-12-01' });
    const spiky = history('2026-11-22', 28, (_, index) => (index === 20 ? '10000' : '100'));
    const forecast = forecastRemaining(0n, spiky, remaining);
    // Four samples per weekday: median(100, 100, 100, 10000) = 100.
    expect(forecast.mean).toBe(parseAmount('900'));
    // An average would have said 9 × (100 + 9900 / 28) ≈ 4082.
    expect(forecast.mean).toBeLessThan(parseAmount('1000'));
    // The spike does show as uncertainty.
    expect(forecast.high).toBeGreaterThan(forecast.mean);
    expect(forecast.low).toBeLessThanOrEqual(forecast.mean);
  });

  it('keeps low ≤ mean ≤ high, and the range widens with more remaining days', () => {
    const random = seeded(42);
    const noisy = (date: PlainDate) => (Number(weekdayPattern(date)) + (random() - 0.5) * 40).toFixed(4);
    const past = history('2026-11-01', 56, noisy);
    let previousWidth = -1n;
    for (const days of [1, 3, 7, 14, 30]) {
      const remaining = eachDay({ start: '2026-11-01', end: addDays('2026-11-01', days) });
      const forecast = forecastRemaining(parseAmount('0'), past, remaining);
      expect(forecast.low).toBeLessThanOrEqual(forecast.mean);
      expect(forecast.mean).toBeLessThanOrEqual(forecast.high);
      const width = forecast.high - forecast.low;
      expect(width, `${days} days`).toBeGreaterThan(previousWidth);
      previousWidth = width;
    }
  });

  it('keeps the range around the mean when credits make daily net spend negative', () => {
    const remaining = eachDay({ start: '2026-11-22', end: '2026-12-01' });
    const flat = forecastRemaining(parseAmount('100'), history('2026-11-22', 28, () => '-10'), remaining);
    expect(flat.mean).toBe(parseAmount('10')); // 100 + 9 × (−10)
    expect(flat.low).toBe(flat.mean);
    expect(flat.high).toBe(flat.mean);
    const random = seeded(7);
    const noisy = forecastRemaining(parseAmount('100'), history('2026-11-22', 56, () => (-10 + random() * 4).toFixed(2)), remaining);
    expect(noisy.low).toBeLessThan(noisy.mean);
    expect(noisy.mean).toBeLessThan(noisy.high);
  });

  it('returns the actual spend with a zero-width range when no days remain', () => {
    const actual = parseAmount('1234.5678901234');
    const forecast = forecastRemaining(actual, [], []);
    expect(forecast).toMatchObject({ actual, mean: actual, low: actual, high: actual, remainingDays: 0 });
  });

  it('needs at least 14 days of history', () => {
    const remaining = ['2026-11-22'];
    expect(() => forecastRemaining(0n, history('2026-11-22', 13, () => '1'), remaining)).toThrow(RangeError);
    expect(forecastRemaining(0n, history('2026-11-22', 14, () => '1'), remaining).mean).toBe(parseAmount('1'));
  });
});
