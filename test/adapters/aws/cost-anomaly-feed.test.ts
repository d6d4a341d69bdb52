import { existsSync, readFileSync } from 'node:fs';
import {
  CostExplorerClient,
  CostExplorerServiceException,
  GetAnomaliesCommand,
  LimitExceededException,
  ProvideAnomalyFeedbackCommand,
  type Anomaly,
  type GetAnomaliesCommandOutput,
} from '@aws-sdk/client-cost-explorer';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CostAnomalyFeed, MAX_ANOMALY_PAGES } from '../../../src/adapters/aws/cost-anomaly-feed.js';
import { isFinOpsError } from '../../../src/core/errors.js';
import { parseAmount } from '../../../src/core/money.js';
import type { ApiRequestLedger, ApiRequestRecord } from '../../../src/ports.js';

const datasetDir = new URL('../../../../shared/datasets/aws-cost-explorer-examples/', import.meta.url);
const haveDatasets = existsSync(datasetDir);
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' };
const now = new Date('2026-11-04T09:00:00Z');
const monitorArn = 'arn:aws:ce::123456789012:anomalymonitor/abcdefgh-1234-4ea0-84cc-918a97d736ef';

class MemoryLedger implements ApiRequestLedger {
  readonly entries: ApiRequestRecord[] = [];
  async record(entry: ApiRequestRecord): Promise<void> {
    this.entries.push(entry);
  }
}

/** An anomaly as GetAnomalies returns it; `overrides` replace whole fields. */
const anomaly = (id: string, overrides: Partial<Anomaly> = {}): Anomaly => ({
  AnomalyId: id,
  AnomalyStartDate: '2026-11-01',
  AnomalyEndDate: '2026-11-02',
  DimensionValue: 'Amazon Elastic Compute Cloud - Compute',
  RootCauses: [],
  AnomalyScore: { MaxScore: 0.87, CurrentScore: 0.5 },
  Impact: { MaxImpact: 100, TotalImpact: 150, TotalActualSpend: 400, TotalExpectedSpend: 250 },
  MonitorArn: monitorArn,
  ...overrides,
});

const page = (anomalies: Anomaly[], next?: string, attempts = 1): GetAnomaliesCommandOutput => ({
  $metadata: { attempts },
  Anomalies: anomalies,
  ...(next === undefined ? {} : { NextPageToken: next }),
});

async function failure(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isFinOpsError(error)) throw new Error(`expected a FinOpsError, got ${String(error)}`);
  return error;
}

describe('CostAnomalyFeed with a mocked SDK client', () => {
  let mock: AwsClientStub<CostExplorerClient>;
  let ledger: MemoryLedger;
  let feed: CostAnomalyFeed;
  const warnings: string[] = [];
  beforeAll(() => {
    mock = mockClient(CostExplorerClient);
  });
  afterAll(() => mock.restore());
  beforeEach(() => {
    mock.reset();
    warnings.length = 0;
    ledger = new MemoryLedger();
    feed = new CostAnomalyFeed({
      client: new CostExplorerClient({ region: 'us-east-1', credentials }),
      ledger,
      clock: { now: () => now },
      logger: { warn: (_obj, msg) => warnings.push(msg) },
    });
  });

  it('reads every page and records each one in the ledger', async () => {
    // Prepare
    mock
      .on(GetAnomaliesCommand)
      .resolvesOnce(page([anomaly('a-1')], 'token-2', 1))
      .resolvesOnce(page([anomaly('a-2'), anomaly('a-3')], undefined, 2));
    // Act
    const anomalies = await feed.getAnomalies({ start: '2026-11-01', end: '2026-11-08' });
    // Assess
    expect(anomalies.map((a) => a.id)).toEqual(['a-1', 'a-2', 'a-3']);
    const calls = mock.commandCalls(GetAnomaliesCommand);
    expect(calls.map((c) => c.args[0].input)).toEqual([
      { DateInterval: { StartDate: '2026-11-01', EndDate: '2026-11-07' }, MaxResults: 100 },
      { DateInterval: { StartDate: '2026-11-01', EndDate: '2026-11-07' }, MaxResults: 100, NextPageToken: 'token-2' },
    ]);
    expect(ledger.entries).toEqual([
      { at: now, operation: 'GetAnomalies', attempts: 1, outcome: 'ok', detail: 'ANOMALIES 2026-11-01..2026-11-08 page 1' },
      { at: now, operation: 'GetAnomalies', attempts: 2, outcome: 'ok', detail: 'ANOMALIES 2026-11-01..2026-11-08 page 2' },
    ]);
    expect(warnings).toEqual([]);
  });

  it.each([
    ['a week', { start: '2026-11-01', end: '2026-11-08' }, '2026-11-07'],
    ['a month ending in a leap day', { start: '2028-02-01', end: '2028-03-01' }, '2028-02-29'],
    ['a year end', { start: '2026-12-01', end: '2027-01-01' }, '2026-12-31'],
    ['one day', { start: '2026-11-03', end: '2026-11-04' }, '2026-11-03'],
  ])('sends the inclusive last day of %s as EndDate', async (_label, range, lastDay) => {
    // Prepare
    mock.on(GetAnomaliesCommand).resolves(page([]));
    // Act
    await feed.getAnomalies(range);
    // Assess
    expect(mock.commandCalls(GetAnomaliesCommand)[0]!.args[0].input.DateInterval).toEqual({ StartDate: range.start, EndDate: lastDay });
  });

  it('sends nothing, and pays nothing, for an empty range', async () => {
    // Act
    const anomalies = await feed.getAnomalies({ start: '2026-11-03', end: '2026-11-03' });
    // Assess
    expect(anomalies).toEqual([]);
    expect(mock.commandCalls(GetAnomaliesCommand)).toHaveLength(0);
    expect(ledger.entries).toEqual([]);
  });

  it('keeps amounts exact, never through float arithmetic', async () => {
    // Prepare
    const impact = { MaxImpact: 0.1, TotalImpact: 1234.5678901234, TotalActualSpend: 1334.6678901234, TotalExpectedSpend: 100.1 };
    // 98765432.1234567 × 1e10 is 987654321234567040 in doubles: arithmetic would be off by 40 units.
    const rootCauses = [
      { Service: 'Amazon Relational Database Service', Impact: { Contribution: 98765432.1234567 } },
      { Service: 'AWS Key Management Service', Impact: { Contribution: 0.0000000001 } },
    ];
    mock.on(GetAnomaliesCommand).resolves(page([anomaly('a-1', { Impact: impact, RootCauses: rootCauses })]));
    // Act
    const [found] = await feed.getAnomalies({ start: '2026-11-01', end: '2026-11-08' });
    // Assess
    expect(found).toMatchObject({
      impact: parseAmount('1234.5678901234'),
      actual: parseAmount('1334.6678901234'),
      expected: parseAmount('100.1'),
    });
    expect(found!.impact).toBe(12_345_678_901_234n);
    expect(found!.rootCauses.map((c) => c.contribution)).toEqual([987_654_321_234_567_000n, 1n]);
  });

  it('orders root causes by contribution, biggest first, those without one last', async () => {
    // Prepare
    const rootCauses = [
      { Service: 'AWS Lambda', LinkedAccount: '111111111111', Region: 'eu-west-1', UsageType: 'Lambda-GB-Second', Impact: { Contribution: 10.5 } },
      { Service: 'Amazon S3', Region: 'us-east-1' },
      { Service: 'Amazon EC2', LinkedAccount: '222222222222', LinkedAccountName: 'prod', Region: 'us-east-1', UsageType: 'BoxUsage:m5.large', Impact: { Contribution: 120.25 } },
      { Service: 'Amazon CloudWatch', Impact: { Contribution: 19.25 } },
    ];
    mock.on(GetAnomaliesCommand).resolves(page([anomaly('a-1', { RootCauses: rootCauses })]));
    // Act
    const [found] = await feed.getAnomalies({ start: '2026-11-01', end: '2026-11-08' });
    // Assess
    expect(found!.rootCauses).toEqual([
      { service: 'Amazon EC2', account: '222222222222', region: 'us-east-1', usageType: 'BoxUsage:m5.large', contribution: parseAmount('120.25') },
      { service: 'Amazon CloudWatch', account: undefined, region: undefined, usageType: undefined, contribution: parseAmount('19.25') },
      { service: 'AWS Lambda', account: '111111111111', region: 'eu-west-1', usageType: 'Lambda-GB-Second', contribution: parseAmount('10.5') },
      { service: 'Amazon S3', account: undefined, region: 'us-east-1', usageType: undefined, contribution: undefined },
    ]);
  });

  it('takes the day of timestamped dates and leaves lastDay undefined when AWS gives no end date', async () => {
    // Prepare
    const { AnomalyEndDate: _omitted, ...ongoing } = anomaly('ongoing', { AnomalyStartDate: '2026-11-02T00:00:00Z' });
    const ended = anomaly('ended', { AnomalyStartDate: '2026-11-01T00:00:00Z', AnomalyEndDate: '2026-11-03T00:00:00Z', Feedback: 'PLANNED_ACTIVITY' });
    mock.on(GetAnomaliesCommand).resolves(page([ongoing, ended]));
    // Act
    const anomalies = await feed.getAnomalies({ start: '2026-11-01', end: '2026-11-08' });
    // Assess
    expect(anomalies).toMatchObject([
      { id: 'ongoing', firstDay: '2026-11-02', lastDay: undefined, maxScore: 0.87, feedback: undefined },
      { id: 'ended', firstDay: '2026-11-01', lastDay: '2026-11-03', feedback: 'PLANNED_ACTIVITY' },
    ]);
    expect(anomalies[0]).toHaveProperty('lastDay', undefined);
  });

  it.each([
    ['no total impact: actual − expected', { MaxImpact: 40, TotalActualSpend: 300.3, TotalExpectedSpend: 100.1 }, ['100.1', '300.3', '200.2']],
    ['only impacts (older anomalies): all of it unexpected', { MaxImpact: 40, TotalImpact: 90.5 }, ['0', '90.5', '90.5']],
    ['only the maximum impact', { MaxImpact: 40 }, ['0', '40', '40']],
    ['no expected spend', { MaxImpact: 40, TotalImpact: 50, TotalActualSpend: 70 }, ['20', '70', '50']],
  ] as const)('falls back sensibly with %s', async (_label, impact, [expected, actual, total]) => {
    // Prepare
    mock.on(GetAnomaliesCommand).resolves(page([anomaly('a-1', { Impact: impact })]));
    // Act
    const [found] = await feed.getAnomalies({ start: '2026-11-01', end: '2026-11-08' });
    // Assess
    expect([found!.expected, found!.actual, found!.impact]).toEqual([parseAmount(expected), parseAmount(actual), parseAmount(total)]);
  });

  it('skips an anomaly without a start date, with a warning', async () => {
    // Prepare
    const { AnomalyStartDate: _omitted, ...undated } = anomaly('undated');
    mock.on(GetAnomaliesCommand).resolves(page([undated, anomaly('dated')]));
    // Act
    const anomalies = await feed.getAnomalies({ start: '2026-11-01', end: '2026-11-08' });
    // Assess
    expect(anomalies.map((a) => a.id)).toEqual(['dated']);
    expect(warnings).toEqual(['skipped an AWS anomaly without an id or a start date']);
  });

  it('turns throttling that outlasts the SDK retries into cost_source_throttled and records it', async () => {
    // Prepare
    const sdkError = new LimitExceededException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400, attempts: 5 } });
    mock.on(GetAnomaliesCommand).resolvesOnce(page([anomaly('a-1')], 'token-2')).rejectsOnce(sdkError);
    // Act
    const error = await failure(feed.getAnomalies({ start: '2026-11-01', end: '2026-11-08' }));
    // Assess
    expect(error.code).toBe('cost_source_throttled');
    expect(error.message).toBe('AWS Cost Explorer is throttling requests (LimitExceededException); the bot will retry later.');
    expect(error.cause).toBe(sdkError);
    expect(ledger.entries).toMatchObject([
      { operation: 'GetAnomalies', outcome: 'ok', attempts: 1 },
      { operation: 'GetAnomalies', outcome: 'throttled', attempts: 5, detail: 'ANOMALIES 2026-11-01..2026-11-08 page 2' },
    ]);
    expect(warnings).toEqual(['Cost Explorer request failed']);
  });

  it('refuses a page token it has already followed, without paying for it again', async () => {
    // Prepare
    mock
      .on(GetAnomaliesCommand)
      .resolvesOnce(page([anomaly('a-1')], 'token-2'))
      .resolvesOnce(page([anomaly('a-2')], 'token-3'))
      .resolvesOnce(page([anomaly('a-3')], 'token-2'));
    // Act
    const error = await failure(feed.getAnomalies({ start: '2026-11-01', end: '2026-11-08' }));
    // Assess
    expect(error.code).toBe('cost_source_unavailable');
    expect(error.message).toMatch(/same page token twice/);
    expect(mock.commandCalls(GetAnomaliesCommand)).toHaveLength(3);
    expect(ledger.entries.map((e) => e.outcome)).toEqual(['ok', 'ok', 'ok']);
  });

  it(`stops after ${MAX_ANOMALY_PAGES} pages`, async () => {
    // Prepare
    let served = 0;
    mock.on(GetAnomaliesCommand).callsFake(() => {
      served += 1;
      return page([anomaly(`a-${served}`)], `token-${served + 1}`);
    });
    // Act
    const error = await failure(feed.getAnomalies({ start: '2026-11-01', end: '2026-11-08' }));
    // Assess
    expect(error.code).toBe('cost_source_unavailable');
    expect(error.message).toMatch(/after 50 pages/);
    expect(mock.commandCalls(GetAnomaliesCommand)).toHaveLength(MAX_ANOMALY_PAGES);
    expect(ledger.entries).toHaveLength(MAX_ANOMALY_PAGES);
  });

  it('sends the anomaly id and the feedback, and records the request', async () => {
    // Prepare
    mock.on(ProvideAnomalyFeedbackCommand).resolves({ $metadata: { attempts: 1 }, AnomalyId: 'a-1' });
    // Act
    await feed.provideFeedback('a-1', 'NO');
    // Assess
    expect(mock.commandCalls(ProvideAnomalyFeedbackCommand).map((c) => c.args[0].input)).toEqual([{ AnomalyId: 'a-1', Feedback: 'NO' }]);
    expect(ledger.entries).toEqual([{ at: now, operation: 'ProvideAnomalyFeedback', attempts: 1, outcome: 'ok', detail: 'a-1 NO' }]);
  });

  it('names the missing IAM permission when feedback is denied', async () => {
    // Prepare
    const sdkError = new CostExplorerServiceException({
      name: 'AccessDeniedException',
      $fault: 'client',
      message: 'User: arn:aws:iam::123456789012:user/bot is not authorized',
      $metadata: { httpStatusCode: 400 },
    });
    mock.on(ProvideAnomalyFeedbackCommand).rejects(sdkError);
    // Act
    const error = await failure(feed.provideFeedback('a-1', 'YES'));
    // Assess
    expect(error.code).toBe('cost_source_denied');
    expect(error.message).toMatch(/ce:ProvideAnomalyFeedback/);
    expect(error.message).not.toMatch(/arn:aws/);
    expect(ledger.entries).toMatchObject([{ operation: 'ProvideAnomalyFeedback', outcome: 'error', attempts: 1 }]);
  });

  // AWS publishes no example GetAnomalies response (see the dataset's README), so the closest
  // real-world check is that every field the fixtures use exists in AWS's API model.
  it.skipIf(!haveDatasets)('uses only fields of the GetAnomalies shapes in the AWS API model (skipped when ../shared/datasets is absent)', () => {
    // Prepare
    const model = JSON.parse(readFileSync(new URL('smithy-model/cost-explorer-2017-10-25.json', datasetDir), 'utf8')) as {
      shapes: Record<string, { members?: Record<string, unknown> }>;
    };
    const members = (shape: string) => Object.keys(model.shapes[`com.amazonaws.costexplorer#${shape}`]?.members ?? {});
    const sample = anomaly('a-1', {
      RootCauses: [{ Service: 's', Region: 'r', LinkedAccount: 'l', LinkedAccountName: 'n', UsageType: 'u', Impact: { Contribution: 1 } }],
      Feedback: 'YES',
    });
    // Act
    const used = {
      GetAnomaliesRequest: ['DateInterval', 'MaxResults', 'NextPageToken'],
      GetAnomaliesResponse: Object.keys(page([], 'token')).filter((k) => k !== '$metadata'),
      AnomalyDateInterval: ['StartDate', 'EndDate'],
      Anomaly: Object.keys(sample),
      RootCause: Object.keys(sample.RootCauses![0]!),
      RootCauseImpact: Object.keys(sample.RootCauses![0]!.Impact!),
      Impact: Object.keys(sample.Impact!),
      AnomalyScore: Object.keys(sample.AnomalyScore!),
      ProvideAnomalyFeedbackRequest: ['AnomalyId', 'Feedback'],
    };
    // Assess
    for (const [shape, fields] of Object.entries(used)) {
      expect(members(shape), shape).toEqual(expect.arrayContaining(fields));
    }
  });
});
