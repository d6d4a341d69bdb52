import { describe, expect, it } from 'vitest';
import { DEMO_ACCOUNTS, DEMO_REGIONS, DEMO_SERVICES, DEMO_TEAMS } from '../../../src/adapters/demo/demo-catalogue.js';
import { createDemoOrganisation, DEFAULT_DEMO_SEED } from '../../../src/adapters/demo/demo-organisation.js';
import { DemoInstanceExecutor, DemoRightsizingSource } from '../../../src/adapters/demo/demo-rightsizing.js';
import { fromUnits, parseAmount } from '../../../src/core/money.js';
import type { InstanceChange, RightsizingCandidate } from '../../../src/ports.js';

const candidates = await new DemoRightsizingSource().getRecommendations();
const THOUSAND = fromUnits(1000);
const SIZES = ['medium', 'large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge'];

function parseType(type: string): { family: string; size: number } {
  const [family = '', size = ''] = type.split('.');
  return { family, size: SIZES.indexOf(size) };
}

function byPair(current: string, target: string | undefined): RightsizingCandidate {
  const found = candidates.find((candidate) => candidate.currentType === current && candidate.targetType === target);
  if (!found) throw new Error(`no candidate ${current} > ${target ?? 'stop'}`);
  return found;
}

describe('DemoRightsizingSource', () => {
  it('gives the same list every call and for the same seed, another list for another seed', async () => {
    const again = await new DemoRightsizingSource().getRecommendations();
    const sameSeed = await new DemoRightsizingSource({ seed: DEFAULT_DEMO_SEED }).getRecommendations();
    expect(again).toEqual(candidates);
    expect(sameSeed).toEqual(candidates);
    const other = await new DemoRightsizingSource({ seed: 7 }).getRecommendations();
    expect(other).toHaveLength(candidates.length);
    const ids = new Set(candidates.map((candidate) => candidate.instanceId));
    expect(other.some((candidate) => ids.has(candidate.instanceId))).toBe(false);
  });

  it('returns 12 to 16 well-formed EC2 candidates', () => {
    expect(candidates.length).toBeGreaterThanOrEqual(12);
    expect(candidates.length).toBeLessThanOrEqual(16);
    for (const candidate of candidates) {
      expect(candidate.instanceId).toMatch(/^i-0[0-9a-f]{16}$/);
      expect(candidate.instanceName).toMatch(/^[a-z][a-z-]*-([1-9]|[a-z]+)$/);
      expect(candidate.currency).toBe('USD');
      expect(candidate.lookbackDays).toBe(14);
      expect(candidate.key).toBe(`${candidate.accountId}:${candidate.instanceId}:${candidate.currentType}>${candidate.targetType ?? 'stop'}`);
    }
    expect(new Set(candidates.map((candidate) => candidate.key)).size).toBe(candidates.length);
    const notebook = candidates.find((candidate) => candidate.instanceName?.startsWith('ml-notebook-'));
    expect(notebook?.instanceName).toMatch(/^ml-notebook-[a-z]+$/);
    expect(notebook?.action).toBe('terminate');
  });

  it('places every candidate on a catalogue team, account and region that carry EC2 spend in the demo cost data', () => {
    const ec2Teams = new Set(DEMO_TEAMS.filter((team) => team.services.ec2 !== undefined).map((team) => team.name));
    const accounts = new Set<string>(Object.values(DEMO_ACCOUNTS).map((account) => account.id));
    const regions = new Set<string>(Object.values(DEMO_REGIONS).map((region) => region.code));
    const ec2Places = new Set(
      createDemoOrganisation(DEFAULT_DEMO_SEED)
        .lineItems.filter((item) => item.service === DEMO_SERVICES.ec2.name)
        .map((item) => `${item.team}|${item.account}|${item.region}`),
    );
    for (const candidate of candidates) {
      expect(ec2Teams.has(candidate.team)).toBe(true);
      expect(accounts.has(candidate.accountId)).toBe(true);
      expect(regions.has(candidate.region)).toBe(true);
      expect(ec2Places.has(`${candidate.team}|${candidate.accountId}|${candidate.region}`)).toBe(true);
    }
    expect(new Set(candidates.map((candidate) => candidate.team)).size).toBeGreaterThanOrEqual(6);
    const untagged = candidates.filter((candidate) => candidate.team === '');
    expect(untagged.length).toBeGreaterThanOrEqual(1);
    expect(untagged.length).toBeLessThanOrEqual(2);
  });

  it('saves less than the current cost when resizing and all of it when stopping', () => {
    for (const candidate of candidates) {
      expect(candidate.monthlySavings).toBeGreaterThan(0n);
      if (candidate.action === 'terminate') {
        expect(candidate.targetType).toBeUndefined();
        expect(candidate.monthlySavings).toBe(candidate.currentMonthlyCost);
      } else {
        expect(candidate.targetType).toBeDefined();
        expect(candidate.monthlySavings).toBeLessThan(candidate.currentMonthlyCost);
      }
    }
  });

  it('prices at on-demand hourly rates × 730 hours, exactly', () => {
    // m6i.2xlarge $0.384/h → m6i.xlarge $0.192/h: $0.192 × 730 = $140.16 a month.
    const api = byPair('m6i.2xlarge', 'm6i.xlarge');
    expect(api.currentMonthlyCost).toBe(parseAmount('280.32'));
    expect(api.monthlySavings).toBe(parseAmount('140.16'));
    // r6g.xlarge $0.2016/h → r6g.large $0.1008/h: $73.584 a month, no rounding.
    expect(byPair('r6g.xlarge', 'r6g.large').monthlySavings).toBe(parseAmount('73.584'));
    // An idle t3.xlarge ($0.1664/h) stopped saves all of its $121.472.
    expect(byPair('t3.xlarge', undefined).monthlySavings).toBe(parseAmount('121.472'));
    // m6i.12xlarge $2.304/h → m6i.4xlarge $0.768/h: $1,121.28 a month.
    expect(byPair('m6i.12xlarge', 'm6i.4xlarge').monthlySavings).toBe(parseAmount('1121.28'));
  });

  it('has savings above USD 1,000 a month for the two-approver rule, and several below', () => {
    const big = candidates.filter((candidate) => candidate.monthlySavings > THOUSAND);
    const small = candidates.filter((candidate) => candidate.monthlySavings < THOUSAND);
    expect(big.length).toBeGreaterThanOrEqual(1);
    expect(small.length).toBeGreaterThanOrEqual(5);
  });

  it('resizes to a smaller type of the same family, one or two sizes down, on moderate utilisation', () => {
    const resized = candidates.filter((candidate) => candidate.action === 'modify');
    expect(resized.length).toBeGreaterThanOrEqual(6);
    for (const candidate of resized) {
      const current = parseType(candidate.currentType);
      const target = parseType(candidate.targetType!);
      expect(target.family).toBe(current.family);
      expect(current.size).toBeGreaterThan(0);
      expect(target.size).toBeGreaterThanOrEqual(0);
      expect(current.size - target.size).toBeGreaterThanOrEqual(1);
      expect(current.size - target.size).toBeLessThanOrEqual(2);
      expect(candidate.cpuMaxPercent).toBeGreaterThanOrEqual(18);
      expect(candidate.cpuMaxPercent).toBeLessThanOrEqual(35);
      if (candidate.memoryMaxPercent !== undefined) {
        expect(candidate.memoryMaxPercent).toBeGreaterThanOrEqual(20);
        expect(candidate.memoryMaxPercent).toBeLessThanOrEqual(40);
      }
    }
  });

  it('stops only idle instances (CPU under 5%)', () => {
    const idle = candidates.filter((candidate) => candidate.action === 'terminate');
    expect(idle.length).toBeGreaterThanOrEqual(3);
    for (const candidate of idle) expect(candidate.cpuMaxPercent).toBeLessThan(5);
  });

  it('leaves memory out for instances without the CloudWatch agent', () => {
    const withoutMemory = candidates.filter((candidate) => candidate.memoryMaxPercent === undefined);
    expect(withoutMemory.length).toBeGreaterThanOrEqual(2);
    expect(withoutMemory.length).toBeLessThan(candidates.length / 2);
    for (const candidate of candidates) expect(candidate.cpuMaxPercent).toBeDefined();
  });

  it('hands out copies, so a caller cannot change the next sync', async () => {
    const source = new DemoRightsizingSource();
    const first = await source.getRecommendations();
    (first[0] as { team: string }).team = 'tampered';
    first.pop();
    const second = await source.getRecommendations();
    expect(second).toEqual(candidates);
  });
});

describe('DemoInstanceExecutor', () => {
  const at = new Date('2025-03-04T10:00:00Z');
  const executor = new DemoInstanceExecutor({ clock: { now: () => at } });
  const resize: InstanceChange = {
    accountId: DEMO_ACCOUNTS.production.id,
    region: 'us-east-1',
    instanceId: 'i-0123456789abcdef0',
    action: 'modify',
    currentType: 'm6i.2xlarge',
    targetType: 'm6i.xlarge',
  };
  const stop: InstanceChange = { ...resize, action: 'terminate', targetType: undefined };

  it('dry-runs describe, stop, modify, start, each saying what it would do', async () => {
    const steps = await executor.dryRun(resize);
    expect(steps.map((step) => step.step)).toEqual(['describe', 'stop', 'modify', 'start']);
    for (const step of steps) {
      expect(step.ok).toBe(true);
      expect(step.detail).toMatch(/^demo: would /);
      expect(step.at).toEqual(at);
    }
    expect(steps[2]!.detail).toContain('m6i.2xlarge to m6i.xlarge');
  });

  it('applies a resize as stop, wait-stopped, modify, start, all marked demo', async () => {
    const steps = await executor.apply(resize);
    expect(steps.map((step) => step.step)).toEqual(['stop', 'wait-stopped', 'modify', 'start']);
    for (const step of steps) {
      expect(step.ok).toBe(true);
      expect(step.detail.startsWith('demo:')).toBe(true);
    }
    expect(steps[3]!.detail).toContain('m6i.xlarge');
  });

  it('applies an idle instance as a stop only, and dry-runs it without a type change', async () => {
    const applied = await executor.apply(stop);
    expect(applied.map((step) => step.step)).toEqual(['stop']);
    expect(applied[0]!.ok).toBe(true);
    expect(applied[0]!.detail).toMatch(/^demo: stopped idle i-0123456789abcdef0/);
    const dry = await executor.dryRun(stop);
    expect(dry.map((step) => step.step)).toEqual(['describe', 'stop']);
  });

  it('fails the modify step, and starts the instance again, when a resize names no target', async () => {
    const steps = await executor.apply({ ...resize, targetType: undefined });
    expect(steps.map((step) => [step.step, step.ok])).toEqual([['stop', true], ['wait-stopped', true], ['modify', false], ['start', true]]);
    expect(steps.every((step) => step.detail.startsWith('demo:'))).toBe(true);
  });
});
