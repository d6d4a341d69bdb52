import { describe, expect, it } from 'vitest';
import { listInjectedAnomalies } from '../../../src/adapters/demo/demo-anomalies.js';
import { DemoCostSource } from '../../../src/adapters/demo/demo-cost-source.js';
import { lineItemCosts } from '../../../src/adapters/demo/demo-daily-costs.js';
import { dayNumber, expectedDailyCost, type DemoLineItem } from '../../../src/adapters/demo/demo-organisation.js';
import { COST_METRICS, type CostMetric } from '../../../src/core/cost-model.js';
import { amountToNumber, fromCents, fromUnits, type Amount } from '../../../src/core/money.js';
import { addDays, eachDay, isoWeekday, startOfNextMonth, type DateRange } from '../../../src/core/period.js';
import type { CostGrouping, DailyCostRow } from '../../../src/ports.js';

const TEAM: CostGrouping = { type: 'TAG', key: 'Team' };
const SERVICE: CostGrouping = { type: 'DIMENSION', key: 'SERVICE' };
const ACCOUNT: CostGrouping = { type: 'DIMENSION', key: 'LINKED_ACCOUNT' };
const REGION: CostGrouping = { type: 'DIMENSION', key: 'REGION' };
const USAGE_TYPE: CostGrouping = { type: 'DIMENSION', key: 'USAGE_TYPE' };
const ENVIRONMENT: CostGrouping = { type: 'TAG', key: 'Environment' };

const source = new DemoCostSource();

function totalsByDay(rows: readonly DailyCostRow[], metric: CostMetric = 'UnblendedCost'): Map<string, Amount> {
  const totals = new Map<string, Amount>();
  for (const row of rows) totals.set(row.date, (totals.get(row.date) ?? 0n) + row.costs[metric]);
  return totals;
}

function totalBy(rows: readonly DailyCostRow[], key: (row: DailyCostRow) => string): Map<string, Amount> {
  const totals = new Map<string, Amount>();
  for (const row of rows) totals.set(key(row), (totals.get(key(row)) ?? 0n) + row.costs.UnblendedCost);
  return totals;
}

function sum(amounts: Iterable<Amount>): Amount {
  let total = 0n;
  for (const amount of amounts) total += amount;
  return total;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function itemCost(item: DemoLineItem, date: string): number {
  return amountToNumber(lineItemCosts(source.organisation, item.index, date).UnblendedCost);
}

describe('DemoCostSource determinism', () => {
  const range: DateRange = { start: '2026-01-01', end: '2026-03-01' };

  it('gives identical rows from two instances with the same seed', async () => {
    const other = new DemoCostSource({ seed: source.organisation.seed });
    const request = { range, groupBy: [TEAM, SERVICE] as const };
    expect(await other.getDailyCosts(request)).toEqual(await source.getDailyCosts(request));
  });

  it('gives different figures for a different seed', async () => {
    const request = { range: { start: '2026-01-01', end: '2026-01-08' }, groupBy: [TEAM, SERVICE] as const };
    const other = await new DemoCostSource({ seed: 7 }).getDailyCosts(request);
    expect(totalsByDay(other)).not.toEqual(totalsByDay(await source.getDailyCosts(request)));
  });

  it('returns the same figures for a day whichever range it is asked in', async () => {
    const large = await source.getDailyCosts({ range, groupBy: [TEAM, USAGE_TYPE] });
    const small = await source.getDailyCosts({ range: { start: '2026-02-10', end: '2026-02-17' }, groupBy: [TEAM, USAGE_TYPE] });
    const later = await source.getDailyCosts({ range: { start: '2026-02-10', end: '2026-06-01' }, groupBy: [TEAM, USAGE_TYPE] });
    expect(small.length).toBeGreaterThan(0);
    expect(large.filter((row) => row.date >= '2026-02-10' && row.date < '2026-02-17')).toEqual(small);
    expect(later.filter((row) => row.date < '2026-02-17')).toEqual(small);
  });

  it('returns nothing for an empty range and rejects a reversed one', async () => {
    expect(await source.getDailyCosts({ range: { start: '2026-01-05', end: '2026-01-05' }, groupBy: [TEAM, SERVICE] })).toEqual([]);
    await expect(source.getDailyCosts({ range: { start: '2026-01-05', end: '2026-01-01' }, groupBy: [TEAM, SERVICE] })).rejects.toThrow(
      /ends before it starts/,
    );
  });
});

describe('DemoCostSource rows', () => {
  const range: DateRange = { start: '2025-12-20', end: '2026-01-10' };

  it('gives every day the same exact total whichever dimension is grouped', async () => {
    const groupings: (readonly [CostGrouping, CostGrouping])[] = [
      [TEAM, SERVICE],
      [TEAM, ACCOUNT],
      [TEAM, REGION],
      [TEAM, USAGE_TYPE],
      [TEAM, ENVIRONMENT],
      [SERVICE, REGION],
      [{ type: 'TAG', key: 'CostCenter' }, ACCOUNT],
    ];
    const results = await Promise.all(groupings.map((groupBy) => source.getDailyCosts({ range, groupBy })));
    for (const metric of COST_METRICS) {
      const reference = totalsByDay(results[0]!, metric);
      expect(reference.size).toBe(eachDay(range).length);
      for (const rows of results.slice(1)) expect(totalsByDay(rows, metric)).toEqual(reference);
    }
    // Per-team totals agree too, whatever the second key is.
    const byTeam = results.slice(0, 5).map((rows) => totalBy(rows, (row) => `${row.date} ${row.keys[0]}`));
    for (const totals of byTeam.slice(1)) expect(totals).toEqual(byTeam[0]);
  });

  it('returns one row per day and key pair, in whole cents, with spend, in USD', async () => {
    const rows = await source.getDailyCosts({ range, groupBy: [TEAM, USAGE_TYPE] });
    const ids = rows.map((row) => `${row.date}|${row.keys.join('|')}`);
    expect(new Set(ids).size).toBe(rows.length);
    const cent = fromCents(1n);
    for (const row of rows) {
      expect(row.currency).toBe('USD');
      expect(row.estimated).toBe(false);
      expect(row.costs.UnblendedCost).toBeGreaterThan(0n);
      for (const metric of COST_METRICS) expect(row.costs[metric] % cent).toBe(0n);
      expect(row.costs.AmortizedCost).toBeLessThanOrEqual(row.costs.UnblendedCost);
      expect(row.costs.NetUnblendedCost).toBeLessThan(row.costs.UnblendedCost);
      expect(row.keys.join('')).not.toContain('$');
    }
  });

  it('puts keys in the order of groupBy and answers an unused tag key with untagged', async () => {
    const swapped = await source.getDailyCosts({ range, groupBy: [SERVICE, TEAM] });
    const straight = await source.getDailyCosts({ range, groupBy: [TEAM, SERVICE] });
    expect(new Set(swapped.map((row) => `${row.date}|${row.keys[1]}|${row.keys[0]}`))).toEqual(
      new Set(straight.map((row) => `${row.date}|${row.keys[0]}|${row.keys[1]}`)),
    );
    const unused = await source.getDailyCosts({ range, groupBy: [{ type: 'TAG', key: 'CostCenter' }, REGION] });
    expect(new Set(unused.map((row) => row.keys[0]))).toEqual(new Set(['']));
  });

  it('rejects a dimension the demo does not have, naming it', async () => {
    await expect(
      source.getDailyCosts({ range, groupBy: [TEAM, { type: 'DIMENSION', key: 'INSTANCE_TYPE' }] }),
    ).rejects.toThrow(/INSTANCE_TYPE.*supported/);
  });
});

describe('demo organisation shape', () => {
  const year: DateRange = { start: '2025-07-01', end: '2026-07-01' };

  it('has several teams, services, accounts and exactly three regions, with matching usage types', async () => {
    const byTeam = await source.getDailyCosts({ range: { start: '2026-03-02', end: '2026-03-03' }, groupBy: [TEAM, SERVICE] });
    const byPlace = await source.getDailyCosts({ range: { start: '2026-03-02', end: '2026-03-03' }, groupBy: [ACCOUNT, REGION] });
    const teams = new Set(byTeam.map((row) => row.keys[0]).filter((team) => team !== ''));
    expect(teams.size).toBeGreaterThanOrEqual(5);
    expect(new Set(byTeam.map((row) => row.keys[1])).size).toBeGreaterThanOrEqual(12);
    const accounts = new Set(byPlace.map((row) => row.keys[0]));
    expect(accounts.size).toBeGreaterThanOrEqual(3);
    for (const account of accounts) expect(account).toMatch(/^\d{12}$/);
    expect(new Set(byPlace.map((row) => row.keys[1]))).toEqual(new Set(['us-east-1', 'eu-west-1', 'ap-southeast-2']));
    const prefixes: Record<string, string> = { 'us-east-1': 'USE1-', 'eu-west-1': 'EU-', 'ap-southeast-2': 'APS2-' };
    for (const item of source.organisation.lineItems) expect(item.usageType.startsWith(prefixes[item.region]!)).toBe(true);
  });

  it('has untagged spend at a plausible share, and an untagged environment too', async () => {
    const rows = await source.getDailyCosts({ range: year, groupBy: [TEAM, ENVIRONMENT] });
    const total = sum(totalsByDay(rows).values());
    const share = (key: (row: DailyCostRow) => string) => amountToNumber(totalBy(rows, key).get('') ?? 0n) / amountToNumber(total);
    expect(share((row) => row.keys[0])).toBeGreaterThan(0.06);
    expect(share((row) => row.keys[0])).toBeLessThan(0.1);
    expect(share((row) => row.keys[1])).toBeGreaterThan(0.05);
    expect(new Set(rows.map((row) => row.keys[1]))).toEqual(new Set(['production', 'staging', 'development', '']));
  });

  it('costs a mid-size company USD 150k–400k in every month from 2025 to 2027, growing', async () => {
    const rows = await source.getDailyCosts({ range: { start: '2025-01-01', end: '2028-01-01' }, groupBy: [TEAM, SERVICE] });
    const byMonth = totalBy(rows, (row) => row.date.slice(0, 7));
    expect(byMonth.size).toBe(36);
    for (const [, total] of byMonth) {
      expect(total).toBeGreaterThan(fromUnits(150_000));
      expect(total).toBeLessThan(fromUnits(400_000));
    }
    expect(byMonth.get('2026-10')!).toBeGreaterThan(byMonth.get('2025-10')!);
    const amortized = sum(rows.map((row) => row.costs.AmortizedCost));
    const unblended = sum(rows.map((row) => row.costs.UnblendedCost));
    expect(amountToNumber(amortized) / amountToNumber(unblended)).toBeGreaterThan(0.93);
    expect(amountToNumber(amortized) / amountToNumber(unblended)).toBeLessThan(0.99);
  });

  it('is cheaper at weekends than on weekdays', async () => {
    const totals = totalsByDay(await source.getDailyCosts({ range: { start: '2026-04-06', end: '2026-06-01' }, groupBy: [TEAM, REGION] }));
    const weekday: number[] = [];
    const weekend: number[] = [];
    for (const [date, total] of totals) (isoWeekday(date) >= 6 ? weekend : weekday).push(amountToNumber(total));
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    expect(mean(weekend)).toBeLessThan(mean(weekday) * 0.92);
  });

  it('aggregates 400 days of every line item in well under a second', async () => {
    const started = performance.now();
    const rows = await source.getDailyCosts({ range: { start: '2025-06-01', end: '2026-07-06' }, groupBy: [TEAM, USAGE_TYPE] });
    expect(rows.length).toBeGreaterThan(400 * 50);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('injected anomalies', () => {
  const window: DateRange = { start: '2025-06-01', end: '2026-07-06' };
  const anomalies = listInjectedAnomalies(source.organisation, window);

  it('makes a listed spike several times its item’s usual cost on the same weekday', () => {
    const spikes = anomalies.filter((anomaly) => anomaly.kind === 'spike');
    expect(spikes.length).toBeGreaterThanOrEqual(10);
    const spikeDays = new Set(spikes.flatMap((spike) => eachDay(spike).map((date) => `${spike.lineItem.index} ${date}`)));
    for (const spike of spikes) {
      expect(spike.factor).toBeGreaterThanOrEqual(3);
      expect(spike.factor).toBeLessThanOrEqual(8);
      for (const date of eachDay(spike)) {
        const neighbours = [-14, -7, 7, 14]
          .map((offset) => addDays(date, offset))
          .filter((other) => !spikeDays.has(`${spike.lineItem.index} ${other}`))
          .map((other) => itemCost(spike.lineItem, other));
        expect(itemCost(spike.lineItem, date)).toBeGreaterThan(2 * median(neighbours));
      }
    }
  });

  it('makes a listed step a lasting rise of its item’s level', () => {
    const steps = anomalies.filter((anomaly) => anomaly.kind === 'step');
    expect(steps.length).toBeGreaterThanOrEqual(4);
    const level = (item: DemoLineItem, range: DateRange) =>
      median(eachDay(range).map((date) => itemCost(item, date) / expectedDailyCost(item, dayNumber(date))));
    for (const step of steps) {
      expect(step.factor).toBeGreaterThanOrEqual(1.3);
      expect(step.factor).toBeLessThanOrEqual(1.8);
      const before = level(step.lineItem, { start: addDays(step.start, -28), end: step.start });
      const after = level(step.lineItem, { start: addDays(step.start, 60), end: addDays(step.start, 88) });
      expect(after / before).toBeGreaterThan(1.2);
    }
  });

  it('puts a spike in every 45-day window and several of each kind in every 400-day window', () => {
    for (let start = '2024-01-01'; start < '2028-01-01'; start = addDays(start, 1)) {
      const spikes = listInjectedAnomalies(source.organisation, { start, end: addDays(start, 45) });
      expect(spikes.some((anomaly) => anomaly.kind === 'spike')).toBe(true);
    }
    for (let end = '2024-06-01'; end < '2028-01-01'; end = addDays(end, 5)) {
      const listed = listInjectedAnomalies(source.organisation, { start: addDays(end, -400), end });
      expect(listed.filter((anomaly) => anomaly.kind === 'spike').length).toBeGreaterThanOrEqual(10);
      expect(listed.filter((anomaly) => anomaly.kind === 'step').length).toBeGreaterThanOrEqual(4);
    }
  });

  it('lists the same anomalies for a range as for its parts', () => {
    const parts = [
      { start: window.start, end: '2025-11-17' },
      { start: '2025-11-17', end: window.end },
    ];
    expect(parts.flatMap((part) => listInjectedAnomalies(source.organisation, part))).toEqual(anomalies);
    expect(source.listInjectedAnomalies(window)).toEqual(anomalies);
  });
});

describe('DemoCostSource forecast', () => {
  it('forecasts a month close to what the month then costs, with an exact ±8% band', async () => {
    for (const month of ['2025-09-01', '2026-03-01', '2027-02-01']) {
      const range = { start: month, end: startOfNextMonth(month) };
      const forecast = await source.getForecast(range, 'UnblendedCost');
      const actual = sum(totalsByDay(await source.getDailyCosts({ range, groupBy: [TEAM, REGION] })).values());
      expect(forecast).toMatchObject({ range, metric: 'UnblendedCost', currency: 'USD' });
      expect(Math.abs(amountToNumber(actual) / amountToNumber(forecast.mean) - 1)).toBeLessThan(0.05);
      const cent = fromCents(1n);
      expect(forecast.low).toBe(fromCents((forecast.mean / cent * 92n + 50n) / 100n));
      expect(forecast.high).toBe(fromCents((forecast.mean / cent * 108n + 50n) / 100n));
    }
  });

  it('forecasts each metric in proportion to its costs', async () => {
    const range = { start: '2026-05-01', end: '2026-06-01' };
    const [unblended, amortized, net] = await Promise.all(
      (['UnblendedCost', 'AmortizedCost', 'NetUnblendedCost'] as const).map((metric) => source.getForecast(range, metric)),
    );
    expect(amortized!.mean).toBeLessThan(unblended!.mean);
    expect(amountToNumber(net!.mean) / amountToNumber(unblended!.mean)).toBeCloseTo(0.97, 3);
  });
});
