import { describe, expect, it } from 'vitest';
import { buildBreakdown, rankMovers } from '../../src/core/breakdown.js';
import type { KeyedAmount } from '../../src/core/cost-model.js';
import { parseAmount, sumAmounts } from '../../src/core/money.js';

const item = (key: string, amount: string): KeyedAmount => ({ key, amount: parseAmount(amount) });

describe('buildBreakdown', () => {
  const current = [
    item('RDS', '300.003'),
    item('EC2', '500.004'),
    item('SQS', '0'),
    item('S3', '100.003'),
    item('CloudWatch', '20.005'),
    item('Lambda', '50'),
  ];
  const previous = [item('EC2', '400'), item('RDS', '300'), item('Lambda', '25'), item('CloudWatch', '25'), item('Glue', '30')];

  it('shows the largest keys first and folds the rest into "others"', () => {
    const breakdown = buildBreakdown(current, previous, 3);
    expect(breakdown.lines.map((line) => line.key)).toEqual(['EC2', 'RDS', 'S3', 'others']);
    expect(breakdown.lines.map((line) => line.isOthers)).toEqual([false, false, false, true]);
    const others = breakdown.lines[3]!;
    // Lambda + CloudWatch; the zero SQS line is not a member.
    expect(others.members).toBe(2);
    expect(others.amount).toBe(parseAmount('70.005'));
    expect(breakdown.lines.slice(0, 3).every((line) => line.members === 1)).toBe(true);
  });

  it('rounds the lines to cents so that they add up exactly to the rounded total', () => {
    const breakdown = buildBreakdown(current, previous, 3);
    // 500.004 + 300.003 + 100.003 + 50 + 20.005 = 970.015 → 970.02
    expect(breakdown.total).toBe(parseAmount('970.015'));
    expect(breakdown.totalCents).toBe(97_002n);
    // Rounding each line alone gives 500.00 + 300.00 + 100.00 + 70.01 = 970.01; the cent that
    // is missing goes to the largest remainder after others' (0.4 cent on EC2).
    expect(breakdown.lines.map((line) => line.cents)).toEqual([50_001n, 30_000n, 10_000n, 7_001n]);
    expect(breakdown.lines.reduce((sum, line) => sum + line.cents, 0n)).toBe(breakdown.totalCents);
    expect(sumAmounts(breakdown.lines.map((line) => line.amount))).toBe(breakdown.total);
  });

  it('compares every line and the total with the previous period', () => {
    const breakdown = buildBreakdown(current, previous, 3);
    const [ec2, rds, s3, others] = breakdown.lines;
    expect(ec2!.previous).toBe(parseAmount('400'));
    expect(ec2!.changePercent).toBe(25); // 500.004 / 400 = +25.001% → 25.00
    expect(rds!.changePercent).toBe(0); // +0.001%
    expect(s3!.previous).toBe(0n);
    expect(s3!.changePercent).toBeUndefined(); // new this period
    expect(others!.previous).toBe(parseAmount('50')); // Lambda 25 + CloudWatch 25
    expect(others!.changePercent).toBe(40.01); // 70.005 / 50
    // Glue only had spend before: it counts in the previous total though it has no line.
    expect(breakdown.previousTotal).toBe(parseAmount('780'));
    expect(breakdown.changePercent).toBe(24.36); // 190.015 / 780 = 24.3609…%
  });

  it('shows one more line instead of an "others" line that would hold a single key', () => {
    const four = [item('a', '4'), item('b', '3'), item('c', '2'), item('d', '1')];
    const exact = buildBreakdown(four, [], 3);
    expect(exact.lines.map((line) => line.key)).toEqual(['a', 'b', 'c', 'd']);
    expect(exact.lines.some((line) => line.isOthers)).toBe(false);
    const five = buildBreakdown([...four, item('e', '0.5')], [], 3);
    expect(five.lines.map((line) => line.key)).toEqual(['a', 'b', 'c', 'others']);
    expect(five.lines[3]!.members).toBe(2);
    expect(five.lines[3]!.cents).toBe(150n);
  });

  it('drops zero items and breaks ties by key', () => {
    const breakdown = buildBreakdown([item('zeta', '5'), item('alpha', '5'), item('nil', '0')], [], 10);
    expect(breakdown.lines.map((line) => line.key)).toEqual(['alpha', 'zeta']);
    expect(breakdown.totalCents).toBe(1000n);
  });

  it('gives an empty breakdown of nothing', () => {
    const breakdown = buildBreakdown([], [item('old', '12')], 5);
    expect(breakdown.lines).toEqual([]);
    expect(breakdown.total).toBe(0n);
    expect(breakdown.totalCents).toBe(0n);
    expect(breakdown.previousTotal).toBe(parseAmount('12'));
    expect(breakdown.changePercent).toBe(-100);
  });

  it('keeps credits (negative amounts) in the lines and the total', () => {
    const withCredit = [item('EC2', '100.333'), item('S3', '50.333'), item('Credits', '-30.333'), item('SNS', '0.333'), item('SES', '0.333')];
    for (const limit of [1, 2, 3, 10]) {
      const breakdown = buildBreakdown(withCredit, [], limit);
      expect(breakdown.totalCents).toBe(12_100n); // 100.333 + 50.333 − 30.333 + 0.333 + 0.333 = 120.999 → 121.00
      expect(breakdown.lines.reduce((sum, line) => sum + line.cents, 0n)).toBe(breakdown.totalCents);
    }
    expect(buildBreakdown(withCredit, [], 10).lines.at(-1)!.key).toBe('Credits');
  });
});

describe('rankMovers', () => {
  const current = [item('A', '100'), item('B', '50'), item('C', '10'), item('D', '20.004'), item('E', '5'), item('G', '30')];
  const previous = [item('A', '80'), item('B', '70'), item('C', '10'), item('D', '20'), item('E', '5.004'), item('F', '15')];

  it('lists the largest increases first, then the largest decreases first', () => {
    const { increases, decreases } = rankMovers(current, previous);
    expect(increases.map((mover) => [mover.key, mover.delta])).toEqual([
      ['G', parseAmount('30')],
      ['A', parseAmount('20')],
    ]);
    expect(decreases.map((mover) => [mover.key, mover.delta])).toEqual([
      ['B', parseAmount('-20')],
      ['F', parseAmount('-15')],
    ]);
  });

  it('breaks ties alphabetically in both lists', () => {
    const { increases, decreases } = rankMovers(
      [item('b', '5'), item('a', '5'), item('y', '0'), item('x', '0')],
      [item('y', '5'), item('x', '5')],
    );
    expect(increases.map((mover) => mover.key)).toEqual(['a', 'b']);
    expect(decreases.map((mover) => mover.key)).toEqual(['x', 'y']);
  });

  it('reports current, previous and percentage change of each mover', () => {
    const { increases, decreases } = rankMovers(current, previous);
    expect(increases[0]).toEqual({ key: 'G', current: parseAmount('30'), previous: 0n, delta: parseAmount('30'), changePercent: undefined });
    expect(increases[1]!.changePercent).toBe(25);
    expect(decreases[0]!.changePercent).toBe(-28.57); // 50 / 70 − 1 = −28.571…%
    expect(decreases[1]).toEqual({ key: 'F', current: 0n, previous: parseAmount('15'), delta: parseAmount('-15'), changePercent: -100 });
  });

  it('ignores unchanged keys and changes that round to less than a cent', () => {
    const { increases, decreases } = rankMovers(current, previous);
    const keys = [...increases, ...decreases].map((mover) => mover.key);
    expect(keys).not.toContain('C'); // no change
    expect(keys).not.toContain('D'); // +0.004
    expect(keys).not.toContain('E'); // −0.004
  });

  it('counts a change of half a cent as a cent', () => {
    const { increases, decreases } = rankMovers(
      [item('up', '1.005'), item('down', '0.995')],
      [item('up', '1'), item('down', '1')],
    );
    expect(increases.map((mover) => mover.key)).toEqual(['up']);
    expect(decreases.map((mover) => mover.key)).toEqual(['down']);
  });

  it('breaks ties between equal increases by key', () => {
    const { increases } = rankMovers([item('b', '2'), item('a', '2')], []);
    expect(increases.map((mover) => mover.key)).toEqual(['a', 'b']);
  });
});
