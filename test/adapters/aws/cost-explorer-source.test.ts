import { existsSync, readFileSync } from 'node:fs';
import {
  CostExplorerClient,
  CostExplorerServiceException,
  DataUnavailableException,
  GetCostAndUsageCommand,
  GetCostForecastCommand,
  LimitExceededException,
  type GetCostAndUsageCommandOutput,
} from '@aws-sdk/client-cost-explorer';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CostExplorerSource, createCostExplorerClient } from '../../../src/adapters/aws/cost-explorer-source.js';
import type { CostMetric } from '../../../src/core/cost-model.js';
import { isFinOpsError } from '../../../src/core/errors.js';
import { parseAmount, sumAmounts, toCents } from '../../../src/core/money.js';
import type { DateRange } from '../../../src/core/period.js';
import type { ApiRequestLedger, ApiRequestRecord, CostGrouping, CostSource, DailyCostRow } from '../../../src/ports.js';
import { startFakeCostExplorer, type FakeCostExplorer } from '../../support/fake-cost-explorer.js';

const datasetDir = new URL('../../../../shared/datasets/aws-cost-explorer-examples/', import.meta.url);
const readDataset = (file: string): unknown => JSON.parse(readFileSync(new URL(file, datasetDir), 'utf8'));
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' };
const byServiceAndEnv: [CostGrouping, CostGrouping] = [
  { type: 'DIMENSION', key: 'SERVICE' },
  { type: 'TAG', key: 'Environment' },
];
const byTeamAndService: [CostGrouping, CostGrouping] = [
  { type: 'TAG', key: 'Team' },
  { type: 'DIMENSION', key: 'SERVICE' },
];

class MemoryLedger implements ApiRequestLedger {
  readonly entries: ApiRequestRecord[] = [];
  async record(entry: ApiRequestRecord): Promise<void> {
    this.entries.push(entry);
  }
}

const costs = (u: string, a = u, n = u): Record<CostMetric, bigint> => ({
  UnblendedCost: parseAmount(u),
  AmortizedCost: parseAmount(a),
  NetUnblendedCost: parseAmount(n),
});

async function failure(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isFinOpsError(error)) throw new Error(`expected a FinOpsError, got ${String(error)}`);
  return error;
}

describe('CostExplorerSource with a mocked SDK client', () => {
  let mock: AwsClientStub<CostExplorerClient>;
  let ledger: MemoryLedger;
  let source: CostExplorerSource;
  const warnings: string[] = [];
  beforeAll(() => {
    mock = mockClient(CostExplorerClient);
  });
  afterAll(() => mock.restore());
  beforeEach(() => {
    mock.reset();
    warnings.length = 0;
    ledger = new MemoryLedger();
    source = new CostExplorerSource({
      client: new CostExplorerClient({ region: 'us-east-1', credentials }),
      ledger,
      clock: { now: () => new Date('2026-11-04T09:00:00Z') },
      logger: { warn: (_obj, msg) => warnings.push(msg) },
    });
  });

  const haveDatasets = existsSync(datasetDir);
  describe.skipIf(!haveDatasets)(
    haveDatasets ? 'against AWS-written examples from ../shared/datasets' : 'skipped: ../shared/datasets/aws-cost-explorer-examples is absent in this clone',
    () => {
    it('reads the published get-cost-and-usage output: tag prefixes stripped, amounts exact', async () => {
      mock.on(GetCostAndUsageCommand).resolves(readDataset('aws-cli-examples/get-cost-and-usage.output.json') as never);
      const rows = await source.getDailyCosts({ range: { start: '2017-09-01', end: '2017-10-01' }, groupBy: byServiceAndEnv });
      expect(rows.map((r) => r.keys)).toEqual([
        ['Amazon Simple Storage Service', ''],
        ['Amazon Simple Storage Service', 'Dev'],
      ]);
      expect(rows[0]).toMatchObject({ date: '2017-09-01', currency: 'USD', estimated: false });
      expect(rows[0]?.costs).toEqual({ UnblendedCost: 403543773134n, AmortizedCost: 0n, NetUnblendedCost: 0n });
      expect(sumAmounts(rows.map((r) => r.costs.UnblendedCost))).toBe(parseAmount('40.6226137778'));
      expect(warnings).toEqual([]);
      expect(ledger.entries).toMatchObject([{ operation: 'GetCostAndUsage', outcome: 'ok', attempts: 1 }]);

      const request = mock.commandCalls(GetCostAndUsageCommand)[0]!.args[0].input;
      expect(request).toEqual({
        TimePeriod: { Start: '2017-09-01', End: '2017-10-01' },
        Granularity: 'DAILY',
        Metrics: ['UnblendedCost', 'AmortizedCost', 'NetUnblendedCost'],
        GroupBy: [
          { Type: 'DIMENSION', Key: 'SERVICE' },
          { Type: 'TAG', Key: 'Environment' },
        ],
      });
    });

    it('carries the Estimated flag of each day', async () => {
      const output = readDataset('aws-cli-examples/get-cost-and-usage.output.json') as GetCostAndUsageCommandOutput;
      output.ResultsByTime![0]!.Estimated = true;
      mock.on(GetCostAndUsageCommand).resolves(output);
      const rows = await source.getDailyCosts({ range: { start: '2017-09-01', end: '2017-10-01' }, groupBy: byServiceAndEnv });
      expect(rows.map((r) => r.estimated)).toEqual([true, true]);
    });

    it('maps a forecast built from the GetCostForecastResponse model shape, bounds summed exactly', async () => {
      const model = readDataset('smithy-model/cost-explorer-2017-10-25.json') as {
        shapes: Record<string, { members?: Record<string, unknown> }>;
      };
      const members = (shape: string) => Object.keys(model.shapes[`com.amazonaws.costexplorer#${shape}`]?.members ?? {});
      const response = {
        Total: { Amount: '1523.4567890123', Unit: 'USD' },
        ForecastResultsByTime: [
          { TimePeriod: { Start: '2026-11-21', End: '2026-12-01' }, MeanValue: '500.1', PredictionIntervalLowerBound: '450.0000000001', PredictionIntervalUpperBound: '560.25' },
          { TimePeriod: { Start: '2026-12-01', End: '2027-01-01' }, MeanValue: '1023.3567890123', PredictionIntervalLowerBound: '900.0000000002', PredictionIntervalUpperBound: '1200.5' },
        ],
      };
      expect(members('GetCostForecastResponse')).toEqual(expect.arrayContaining(Object.keys(response)));
      expect(members('ForecastResult')).toEqual(expect.arrayContaining(Object.keys(response.ForecastResultsByTime[0]!)));
      expect(members('MetricValue')).toEqual(expect.arrayContaining(Object.keys(response.Total)));
      mock.on(GetCostForecastCommand).resolves(response);

      const range = { start: '2026-11-21', end: '2027-01-01' };
      const forecast = await source.getForecast(range, 'AmortizedCost');
      expect(forecast).toEqual({
        range,
        metric: 'AmortizedCost',
        currency: 'USD',
        mean: parseAmount('1523.4567890123'),
        low: parseAmount('1350.0000000003'),
        high: parseAmount('1760.75'),
      });
      expect(mock.commandCalls(GetCostForecastCommand)[0]!.args[0].input).toEqual({
        TimePeriod: { Start: '2026-11-21', End: '2027-01-01' },
        Metric: 'AMORTIZED_COST',
        Granularity: 'MONTHLY',
        PredictionIntervalLevel: 80,
      });
      expect(ledger.entries).toMatchObject([{ operation: 'GetCostForecast', outcome: 'ok', detail: expect.stringContaining('AMORTIZED_COST') }]);
    });
    },
  );

  it('follows NextPageToken, records each page, and skips all-zero groups', async () => {
    const metric = (amount: string) => ({ Amount: amount, Unit: 'USD' });
    const group = (keys: string[], amount: string) => ({
      Keys: keys,
      Metrics: { UnblendedCost: metric(amount), AmortizedCost: metric(amount), NetUnblendedCost: metric(amount) },
    });
    const day = (start: string, end: string, groups: ReturnType<typeof group>[]) => ({
      TimePeriod: { Start: start, End: end }, Total: {}, Groups: groups, Estimated: true,
    });
    mock
      .on(GetCostAndUsageCommand)
      .resolvesOnce({ $metadata: { attempts: 1 }, NextPageToken: 'token-2', ResultsByTime: [day('2026-11-01', '2026-11-02', [group(['Team$payments', 'AWS Lambda'], '1.25')])] })
      .resolvesOnce({
        $metadata: { attempts: 2 },
        ResultsByTime: [day('2026-11-02', '2026-11-03', [group(['Team$', 'Amazon S3'], '0.0000000001'), group(['Team$search', 'Amazon S3'], '0'), group(['legacy', 'Amazon S3'], '3')])],
      });
    const range = { start: '2026-11-01', end: '2026-11-03' };
    const rows = await source.getDailyCosts({ range, groupBy: byTeamAndService });

    expect(rows.map((r) => [r.date, ...r.keys, r.costs.NetUnblendedCost])).toEqual([
      ['2026-11-01', 'payments', 'AWS Lambda', 12_500_000_000n],
      ['2026-11-02', '', 'Amazon S3', 1n],
      ['2026-11-02', 'legacy', 'Amazon S3', 30_000_000_000n],
    ]);
    expect(warnings).toHaveLength(1);
    const calls = mock.commandCalls(GetCostAndUsageCommand);
    expect(calls).toHaveLength(2);
    expect(calls[0]!.args[0].input.NextPageToken).toBeUndefined();
    expect(calls[1]!.args[0].input.NextPageToken).toBe('token-2');
    expect(ledger.entries).toEqual([
      { at: new Date('2026-11-04T09:00:00Z'), operation: 'GetCostAndUsage', attempts: 1, outcome: 'ok', detail: 'DAILY 2026-11-01..2026-11-03 TAG:Team+DIMENSION:SERVICE page 1' },
      { at: new Date('2026-11-04T09:00:00Z'), operation: 'GetCostAndUsage', attempts: 2, outcome: 'ok', detail: 'DAILY 2026-11-01..2026-11-03 TAG:Team+DIMENSION:SERVICE page 2' },
    ]);
  });

  it('turns throttling that outlasts the SDK retries into cost_source_throttled and records it', async () => {
    const sdkError = new LimitExceededException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400, attempts: 5 } });
    mock.on(GetCostAndUsageCommand).rejects(sdkError);
    const error = await failure(source.getDailyCosts({ range: { start: '2026-11-01', end: '2026-11-02' }, groupBy: byTeamAndService }));
    expect(error.code).toBe('cost_source_throttled');
    expect(error.message).toBe('AWS Cost Explorer is throttling requests (LimitExceededException); the bot will retry later.');
    expect(error.cause).toBe(sdkError);
    expect(ledger.entries).toMatchObject([{ operation: 'GetCostAndUsage', outcome: 'throttled', attempts: 5 }]);
  });

  const serviceError = (name: string) =>
    new CostExplorerServiceException({ name, $fault: 'client', message: 'User: arn:aws:iam::123456789012:user/bot is not authorized', $metadata: { httpStatusCode: 400 } });
  it.each([
    ['AccessDenied on costs', 'daily', serviceError('AccessDeniedException'), 'cost_source_denied', /ce:GetCostAndUsage/],
    ['AccessDenied on forecast', 'forecast', serviceError('AccessDeniedException'), 'cost_source_denied', /ce:GetCostForecast/],
    ['unknown access key', 'daily', serviceError('UnrecognizedClientException'), 'cost_source_denied', /ce:GetCostAndUsage/],
    ['no credentials', 'daily', Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }), 'cost_source_denied', /credentials/],
    ['forecast without history', 'forecast', new DataUnavailableException({ message: 'x', $metadata: { httpStatusCode: 400 } }), 'cost_source_unavailable', /too little cost history/],
    ['network down', 'daily', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'cost_source_unavailable', /could not be reached/],
  ] as const)('maps %s to a coded, readable error', async (_label, call, sdkError, code, sentence) => {
    mock.on(GetCostAndUsageCommand).rejects(sdkError).on(GetCostForecastCommand).rejects(sdkError);
    const range = { start: '2026-11-01', end: '2026-12-01' };
    const error = await failure(call === 'daily' ? source.getDailyCosts({ range, groupBy: byTeamAndService }) : source.getForecast(range, 'UnblendedCost'));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(sentence);
    expect(error.message).not.toMatch(/arn:aws|at .*\.js|AKID/);
    expect(error.cause).toBe(sdkError);
    // Missing credentials fail before anything is sent (and billed).
    expect(ledger.entries).toMatchObject([{ outcome: 'error', attempts: _label === 'no credentials' ? 0 : 1 }]);
  });
});

describe('CostExplorerSource over HTTP with the real SDK client and the fake endpoint', () => {
  const day1 = '2026-11-01';
  const day2 = '2026-11-02';
  const sourceRows: DailyCostRow[] = [
    { date: day1, keys: ['payments', 'AWS Lambda'], currency: 'USD', costs: costs('12.3456789012', '12.5', '11.99'), estimated: false },
    { date: day1, keys: ['', 'Amazon Simple Storage Service'], currency: 'USD', costs: costs('0.0049999999'), estimated: false },
    { date: day1, keys: ['search', 'Amazon OpenSearch Service'], currency: 'USD', costs: costs('250.005'), estimated: false },
    { date: day2, keys: ['payments', 'AWS Lambda'], currency: 'USD', costs: costs('13.01'), estimated: true },
    { date: day2, keys: ['search', 'Amazon OpenSearch Service'], currency: 'USD', costs: costs('249.9950000001'), estimated: true },
  ];
  const inTestSource: CostSource = {
    kind: 'demo',
    getDailyCosts: async ({ range }) => sourceRows.filter((r) => r.date >= range.start && r.date < range.end),
    getForecast: async (range: DateRange, metric: CostMetric) => ({
      range, metric, currency: 'USD', mean: parseAmount('1000.0000000001'), low: parseAmount('900.33'), high: parseAmount('1100.67'),
    }),
    getAccountNames: async () => new Map([['481516234201', 'acme-production'], ['905812347763', 'acme-shared-services']]),
  };
  const range = { start: day1, end: '2026-11-03' };
  let fake: FakeCostExplorer;
  let ledger: MemoryLedger;
  const sourceFor = (overrides: Parameters<typeof createCostExplorerClient>[0] = {}) =>
    new CostExplorerSource({
      ledger,
      client: createCostExplorerClient({ endpoint: fake.url, credentials, region: 'us-east-1', retryStrategy: new ConfiguredRetryStrategy(3, () => 10), ...overrides }),
    });
  beforeEach(async () => {
    ledger = new MemoryLedger();
    fake = await startFakeCostExplorer({ source: inTestSource, pageSize: 2 });
  });
  afterEach(() => fake.close());

  it('fetches every page and returns the figures exactly', async () => {
    const rows = await sourceFor().getDailyCosts({ range, groupBy: byTeamAndService });
    expect(rows).toEqual(sourceRows);
    expect(toCents(sumAmounts(rows.map((r) => r.costs.UnblendedCost)))).toBe(52_536n);
    expect(fake.requests).toEqual({ GetCostAndUsage: 3, GetCostForecast: 0, GetDimensionValues: 0, GetAnomalies: 0, GetRightsizingRecommendation: 0 });
    expect(ledger.entries.map((e) => [e.outcome, e.attempts, e.detail.slice(-6)])).toEqual([
      ['ok', 1, 'page 1'],
      ['ok', 1, 'page 2'],
      ['ok', 1, 'page 3'],
    ]);
  });

  it('reads account names from the LINKED_ACCOUNT dimension values and records the request', async () => {
    const names = await sourceFor().getAccountNames(range);
    expect([...names]).toEqual([
      ['481516234201', 'acme-production'],
      ['905812347763', 'acme-shared-services'],
    ]);
    expect(fake.requests.GetDimensionValues).toBe(1);
    expect(ledger.entries).toMatchObject([{ operation: 'GetDimensionValues', outcome: 'ok', detail: 'LINKED_ACCOUNT 2026-11-01..2026-11-03 page 1' }]);
  });

  it('returns the forecast with exact bounds across months', async () => {
    const forecastRange = { start: '2026-11-20', end: '2027-01-01' };
    const forecast = await sourceFor().getForecast(forecastRange, 'NetUnblendedCost');
    expect(forecast).toEqual(await inTestSource.getForecast(forecastRange, 'NetUnblendedCost'));
    expect(ledger.entries).toMatchObject([{ operation: 'GetCostForecast', outcome: 'ok', attempts: 1 }]);
  });

  it('lets the SDK retry a throttled request transparently', async () => {
    fake.throttleNext(1);
    const rows = await sourceFor().getDailyCosts({ range: { start: day1, end: day2 }, groupBy: byTeamAndService });
    expect(rows).toEqual(sourceRows.slice(0, 3));
    expect(fake.requests.GetCostAndUsage).toBe(3);
    expect(ledger.entries.map((e) => [e.outcome, e.attempts])).toEqual([['ok', 2], ['ok', 1]]);
  });

  it('reports persistent throttling as cost_source_throttled after the SDK gives up', async () => {
    fake.throttleNext(Number.POSITIVE_INFINITY);
    const error = await failure(sourceFor().getForecast(range, 'UnblendedCost'));
    expect(error.code).toBe('cost_source_throttled');
    expect(fake.requests.GetCostForecast).toBe(3);
    expect(ledger.entries).toMatchObject([{ operation: 'GetCostForecast', outcome: 'throttled', attempts: 3 }]);
  });

  it('honours AWS_ENDPOINT_URL_COST_EXPLORER when no endpoint is configured', async () => {
    const saved = process.env.AWS_ENDPOINT_URL_COST_EXPLORER;
    const savedIgnore = process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS;
    process.env.AWS_ENDPOINT_URL_COST_EXPLORER = fake.url;
    delete process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS;
    try {
      const client = createCostExplorerClient({ credentials, retryStrategy: new ConfiguredRetryStrategy(1) });
      const rows = await new CostExplorerSource({ client, ledger }).getDailyCosts({ range, groupBy: byTeamAndService });
      expect(rows).toEqual(sourceRows);
      expect(fake.requests.GetCostAndUsage).toBe(3);
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_COST_EXPLORER;
      else process.env.AWS_ENDPOINT_URL_COST_EXPLORER = saved;
      if (savedIgnore !== undefined) process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS = savedIgnore;
    }
  });
});
