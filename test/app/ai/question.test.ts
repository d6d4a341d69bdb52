/**
 * Reading a question in plain words for the deterministic explainer: its period, the team
 * it names and the services it mentions.
 */
import { describe, expect, it } from 'vitest';
import { readQuestion } from '../../../src/app/ai/question.js';
import type { PeriodSpec } from '../../../src/core/period.js';

const SERVICES = [
  'Amazon Elastic Compute Cloud - Compute',
  'EC2 - Other',
  'Amazon Relational Database Service',
  'Amazon Simple Storage Service',
  'AWS Lambda',
  'Amazon Virtual Private Cloud',
  'AmazonCloudWatch',
];
const TEAMS = ['payments', 'search', 'search-infra', 'data-platform', 'ML', ''];
// Sunday 22 November 2026.
const TODAY = '2026-11-22';
const read = (question: string, today = TODAY) => readQuestion(question, { teams: TEAMS, services: SERVICES }, today);
const period = (question: string, today = TODAY) => read(question, today).period;

describe('periods', () => {
  it.each<[string, PeriodSpec | undefined]>([
    ['why did our spend go up last week?', { kind: 'last-days', days: 7 }],
    ['what changed this week', { kind: 'last-days', days: 7 }],
    ['week over week, what moved?', { kind: 'last-days', days: 7 }],
    ['what happened yesterday?', { kind: 'yesterday' }],
    ['how much have we spent today', { kind: 'today' }],
    ['how did last month compare?', { kind: 'last-month' }],
    ['and the previous month?', { kind: 'last-month' }],
    ['what are we spending this month?', { kind: 'mtd' }],
    ['month to date by team', { kind: 'mtd' }],
    ['spend over the past 14 days', { kind: 'last-days', days: 14 }],
    ['the last 3 days', { kind: 'last-days', days: 3 }],
    ['cost for the past 1 day', { kind: 'last-days', days: 1 }],
    ['what about 90d?', { kind: 'last-days', days: 90 }],
    ['what about the last quarter', { kind: 'last-days', days: 90 }],
    ['and in 2026-10?', { kind: 'month', month: '2026-10' }],
    ['from 2026-11-01..2026-11-07', { kind: 'range', first: '2026-11-01', last: '2026-11-07' }],
    ['between 2026-11-01 to 2026-11-07', { kind: 'range', first: '2026-11-01', last: '2026-11-07' }],
    ['between 2026-11-01 – 2026-11-07', { kind: 'range', first: '2026-11-01', last: '2026-11-07' }],
    ['why did spend jump?', undefined],
    ['over the past 999 days', undefined],
    ['the last 0 days', undefined],
  ])('%j → %j', (question, expected) => {
    expect(period(question)).toEqual(expected);
  });

  it('reads a month name as its latest occurrence that has started', () => {
    expect(period('what happened in October?')).toEqual({ kind: 'month', month: '2026-10' });
    expect(period('and in November')).toEqual({ kind: 'month', month: '2026-11' });
    expect(period('what about December?')).toEqual({ kind: 'month', month: '2025-12' });
    expect(period('in January', '2027-01-01')).toEqual({ kind: 'month', month: '2027-01' });
    expect(period('in January', '2026-12-31')).toEqual({ kind: 'month', month: '2026-01' });
    expect(period('what did we spend in may?', '2026-11-22')).toEqual({ kind: 'month', month: '2026-05' });
    expect(period('May 2026 spend by team')).toEqual({ kind: 'month', month: '2026-05' });
  });

  it('does not take the verb "may" for the month', () => {
    expect(period('what may have caused the jump?')).toBeUndefined();
    expect(period('which services may explain it?')).toBeUndefined();
    expect(period('may I see the drivers?')).toBeUndefined();
  });

  it('prefers an explicit number of days or dates over words', () => {
    expect(period('last week, say the past 10 days')).toEqual({ kind: 'last-days', days: 10 });
    expect(period('in October, precisely 2026-10-03..2026-10-09')).toEqual({ kind: 'range', first: '2026-10-03', last: '2026-10-09' });
    expect(period('from 2026-11-07 to 2026-11-01')).not.toEqual(expect.objectContaining({ kind: 'range' }));
  });
});

describe('teams', () => {
  it.each<[string, string | undefined]>([
    ['why did payments go up?', 'payments'],
    ["show me payments' costs", 'payments'],
    ['PAYMENTS spend last week', 'payments'],
    ['what about search-infra?', 'search-infra'],
    ['what about search?', 'search'],
    ['is search or search-infra bigger', 'search-infra'],
    ['our research spend', undefined],
    ['the data-platform team', 'data-platform'],
    ['the data team', undefined],
    ['how much does ML spend', 'ML'],
    ['html pages', undefined],
    ['what is untagged?', ''],
    ['who pays for the untagged spend in payments', 'payments'],
    ['why did spend go up', undefined],
  ])('%j → %j', (question, team) => {
    expect(read(question).team).toBe(team);
  });

  it('does not read a team out of a service name or service words', () => {
    const known = { teams: ['data', 'compute', 'payments'], services: [...SERVICES, 'AWS Data Transfer'] };
    expect(readQuestion('why did data transfer go up?', known, TODAY).team).toBeUndefined();
    expect(readQuestion('what does Amazon Elastic Compute Cloud - Compute cost payments?', known, TODAY).team).toBe('payments');
    expect(readQuestion('what did the data team spend on data transfer?', known, TODAY).team).toBe('data');
  });

  it('matches team names with characters that mean something in a pattern', () => {
    expect(readQuestion('what does c++ (core) cost?', { teams: ['c++ (core)', 'core'], services: [] }, TODAY).team).toBe('c++ (core)');
    expect(readQuestion('what does a.b cost?', { teams: ['a.b', 'axb'], services: [] }, TODAY).team).toBe('a.b');
    expect(readQuestion('what does axb cost?', { teams: ['a.b'], services: [] }, TODAY).team).toBeUndefined();
  });
});

describe('services', () => {
  it.each<[string, string[]]>([
    ['why did our RDS bill jump?', ['Amazon Relational Database Service']],
    ['aurora costs', ['Amazon Relational Database Service']],
    ['EC2 spend', ['Amazon Elastic Compute Cloud - Compute', 'EC2 - Other']],
    ['what about S3 and lambda?', ['Amazon Simple Storage Service', 'AWS Lambda']],
    ['NAT gateways', ['EC2 - Other']],
    ['our Amazon Relational Database Service bill', ['Amazon Relational Database Service']],
    ['the words in our cards', []],
    ['the s3cret plan', []],
    // At most three, in the order of the short names' table.
    ['EC2, RDS, S3 and Lambda', ['Amazon Relational Database Service', 'Amazon Elastic Compute Cloud - Compute', 'EC2 - Other']],
  ])('%j → %j', (question, services) => {
    expect(read(question).services).toEqual(services);
  });

  it('names only services that have spend', () => {
    expect(readQuestion('what about RDS and Redshift?', { teams: [], services: ['AWS Lambda'] }, TODAY).services).toEqual([]);
  });
});
