import { existsSync, readFileSync } from 'node:fs';
import {
  CostExplorerClient,
  CostExplorerServiceException,
  GetRightsizingRecommendationCommand,
  LimitExceededException,
  type GetRightsizingRecommendationCommandOutput,
  type RightsizingRecommendation,
} from '@aws-sdk/client-cost-explorer';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AwsRightsizingSource,
  MAX_RIGHTSIZING_PAGES,
  REGION_CODES,
  regionCodeOf,
} from '../../../src/adapters/aws/rightsizing-source.js';
import { isFinOpsError } from '../../../src/core/errors.js';
import { parseAmount } from '../../../src/core/money.js';
import type { ApiRequestLedger, ApiRequestRecord } from '../../../src/ports.js';

const datasetDir = new URL('../../../../shared/datasets/aws-cost-explorer-examples/', import.meta.url);
const haveDatasets = existsSync(datasetDir);
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' };
const now = new Date('2026-11-04T09:00:00Z');

class MemoryLedger implements ApiRequestLedger {
  readonly entries: ApiRequestRecord[] = [];
  async record(entry: ApiRequestRecord): Promise<void> {
    this.entries.push(entry);
  }
}

/** A MODIFY recommendation as AWS returns it (region as a name, amounts as strings); `overrides` replace whole fields. */
const modify = (instanceId: string, overrides: Partial<RightsizingRecommendation> = {}): RightsizingRecommendation => ({
  AccountId: '123456789012',
  CurrentInstance: {
    ResourceId: instanceId,
    InstanceName: 'checkout-api',
    Tags: [
      { Key: 'Team', Values: ['payments'] },
      { Key: 'Environment', Values: ['prod'] },
    ],
    ResourceDetails: { EC2ResourceDetails: { InstanceType: 'm5.2xlarge', Region: 'US East (N. Virginia)', Platform: 'Linux/UNIX' } },
    ResourceUtilization: { EC2ResourceUtilization: { MaxCpuUtilizationPercentage: '12.5', MaxMemoryUtilizationPercentage: '30', MaxStorageUtilizationPercentage: '' } },
    MonthlyCost: '280.3200000001',
    CurrencyCode: 'USD',
  },
  RightsizingType: 'MODIFY',
  ModifyRecommendationDetail: {
    TargetInstances: [
      {
        DefaultTargetInstance: false,
        EstimatedMonthlySavings: '210.24',
        EstimatedMonthlyCost: '70.08',
        CurrencyCode: 'USD',
        ResourceDetails: { EC2ResourceDetails: { InstanceType: 'm5.large' } },
      },
      {
        DefaultTargetInstance: true,
        EstimatedMonthlySavings: '140.1600000003',
        EstimatedMonthlyCost: '140.16',
        CurrencyCode: 'USD',
        ResourceDetails: { EC2ResourceDetails: { InstanceType: 'm5.xlarge' } },
      },
    ],
  },
  FindingReasonCodes: ['CPU_OVER_PROVISIONED'],
  ...overrides,
});

/** A TERMINATE recommendation (an idle instance). */
const terminate = (instanceId: string): RightsizingRecommendation => ({
  AccountId: '210987654321',
  CurrentInstance: {
    ResourceId: instanceId,
    InstanceName: '',
    Tags: [{ Key: 'Name', Values: ['old-batch'] }],
    ResourceDetails: { EC2ResourceDetails: { InstanceType: 't3.medium', Region: 'Europe (Frankfurt)' } },
    ResourceUtilization: { EC2ResourceUtilization: { MaxCpuUtilizationPercentage: '0.4' } },
    MonthlyCost: '30.368',
    CurrencyCode: 'EUR',
  },
  // Published responses spell the type 'Terminate'; the SDK's enum (from the model) says 'TERMINATE'.
  RightsizingType: 'Terminate' as 'TERMINATE',
  TerminateRecommendationDetail: { EstimatedMonthlySavings: '30.0000000007', CurrencyCode: 'EUR' },
});

const page = (
  recommendations: RightsizingRecommendation[],
  next?: string,
  attempts = 1,
  lookback: 'SEVEN_DAYS' | 'THIRTY_DAYS' | 'SIXTY_DAYS' | null = 'SEVEN_DAYS',
): GetRightsizingRecommendationCommandOutput => ({
  $metadata: { attempts },
  ...(lookback === null ? {} : { Metadata: { RecommendationId: 'r-1', LookbackPeriodInDays: lookback } }),
  Configuration: { RecommendationTarget: 'SAME_INSTANCE_FAMILY', BenefitsConsidered: true },
  RightsizingRecommendations: recommendations,
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

describe('AwsRightsizingSource with a mocked SDK client', () => {
  let mock: AwsClientStub<CostExplorerClient>;
  let ledger: MemoryLedger;
  let source: AwsRightsizingSource;
  const warnings: { obj: object; msg: string }[] = [];
  beforeAll(() => {
    mock = mockClient(CostExplorerClient);
  });
  afterAll(() => mock.restore());
  beforeEach(() => {
    mock.reset();
    warnings.length = 0;
    ledger = new MemoryLedger();
    source = new AwsRightsizingSource({
      client: new CostExplorerClient({ region: 'us-east-1', credentials }),
      ledger,
      clock: { now: () => now },
      logger: { warn: (obj, msg) => warnings.push({ obj, msg }) },
    });
  });

  it('reads every page, asking for the same family with benefits, and records each page in the ledger', async () => {
    // Prepare
    mock
      .on(GetRightsizingRecommendationCommand)
      .resolvesOnce(page([modify('i-1')], 'token-2', 1))
      .resolvesOnce(page([modify('i-2')], 'token-3', 2))
      .resolvesOnce(page([terminate('i-3')], undefined, 1));
    // Act
    const candidates = await source.getRecommendations();
    // Assess
    expect(candidates.map((c) => c.instanceId)).toEqual(['i-1', 'i-2', 'i-3']);
    const request = { Service: 'AmazonEC2', Configuration: { RecommendationTarget: 'SAME_INSTANCE_FAMILY', BenefitsConsidered: true }, PageSize: 100 };
    expect(mock.commandCalls(GetRightsizingRecommendationCommand).map((c) => c.args[0].input)).toEqual([
      request,
      { ...request, NextPageToken: 'token-2' },
      { ...request, NextPageToken: 'token-3' },
    ]);
    expect(ledger.entries).toEqual([
      { at: now, operation: 'GetRightsizingRecommendation', attempts: 1, outcome: 'ok', detail: 'RIGHTSIZING AmazonEC2 page 1' },
      { at: now, operation: 'GetRightsizingRecommendation', attempts: 2, outcome: 'ok', detail: 'RIGHTSIZING AmazonEC2 page 2' },
      { at: now, operation: 'GetRightsizingRecommendation', attempts: 1, outcome: 'ok', detail: 'RIGHTSIZING AmazonEC2 page 3' },
    ]);
    expect(warnings).toEqual([]);
  });

  it('maps a modify recommendation to its default target, with exact amounts, region code and team', async () => {
    // Prepare
    mock.on(GetRightsizingRecommendationCommand).resolves(page([modify('i-0abc')]));
    // Act
    const [candidate] = await source.getRecommendations();
    // Assess
    expect(candidate).toEqual({
      key: '123456789012:i-0abc:m5.2xlarge>m5.xlarge',
      accountId: '123456789012',
      region: 'us-east-1',
      instanceId: 'i-0abc',
      instanceName: 'checkout-api',
      team: 'payments',
      action: 'modify',
      currentType: 'm5.2xlarge',
      targetType: 'm5.xlarge',
      cpuMaxPercent: 12.5,
      memoryMaxPercent: 30,
      currentMonthlyCost: 2_803_200_000_001n,
      monthlySavings: 1_401_600_000_003n,
      currency: 'USD',
      lookbackDays: 7,
    });
  });

  it('keeps amounts exact beyond what a double holds', async () => {
    // Prepare
    const base = modify('i-1');
    const [first, second] = base.ModifyRecommendationDetail!.TargetInstances!;
    const recommendation = modify('i-1', {
      CurrentInstance: { ...base.CurrentInstance, MonthlyCost: '4567890.1234567891' },
      ModifyRecommendationDetail: { TargetInstances: [first!, { ...second!, EstimatedMonthlySavings: '1234567.8901234567' }] },
    });
    mock.on(GetRightsizingRecommendationCommand).resolves(page([recommendation]));
    // Act
    const [candidate] = await source.getRecommendations();
    // Assess (Number('4567890.1234567891') × 1e10 would be 45678901234567888)
    expect(candidate!.currentMonthlyCost).toBe(45_678_901_234_567_891n);
    expect(candidate!.monthlySavings).toBe(12_345_678_901_234_567n);
  });

  it('takes the first target when none is the default', async () => {
    // Prepare
    const [first, second] = modify('i-1').ModifyRecommendationDetail!.TargetInstances!;
    const recommendation = modify('i-1', { ModifyRecommendationDetail: { TargetInstances: [first!, { ...second!, DefaultTargetInstance: false }] } });
    mock.on(GetRightsizingRecommendationCommand).resolves(page([recommendation]));
    // Act
    const [candidate] = await source.getRecommendations();
    // Assess
    expect(candidate).toMatchObject({ targetType: 'm5.large', monthlySavings: parseAmount('210.24'), key: '123456789012:i-1:m5.2xlarge>m5.large' });
  });

  it('maps a terminate recommendation: no target, the Name tag, no team, its currency', async () => {
    // Prepare
    mock.on(GetRightsizingRecommendationCommand).resolves(page([terminate('i-idle')], undefined, 1, 'THIRTY_DAYS'));
    // Act
    const [candidate] = await source.getRecommendations();
    // Assess
    expect(candidate).toEqual({
      key: '210987654321:i-idle:t3.medium>stop',
      accountId: '210987654321',
      region: 'eu-central-1',
      instanceId: 'i-idle',
      instanceName: 'old-batch',
      team: '',
      action: 'terminate',
      currentType: 't3.medium',
      targetType: undefined,
      cpuMaxPercent: 0.4,
      memoryMaxPercent: undefined,
      currentMonthlyCost: 303_680_000_000n,
      monthlySavings: 300_000_000_007n,
      currency: 'EUR',
      lookbackDays: 30,
    });
  });

  it('reads the team from a configured tag key, ignoring case and a user: prefix', async () => {
    // Prepare
    source = new AwsRightsizingSource({ client: new CostExplorerClient({ region: 'us-east-1', credentials }), ledger, teamTag: 'cost-center' });
    const tagged = modify('i-1');
    const recommendation = modify('i-1', { CurrentInstance: { ...tagged.CurrentInstance, Tags: [{ Key: 'Team', Values: ['payments'] }, { Key: 'user:Cost-Center', Values: ['', 'cc-42'] }] } });
    mock.on(GetRightsizingRecommendationCommand).resolves(page([recommendation]));
    // Act
    const [candidate] = await source.getRecommendations();
    // Assess
    expect(candidate!.team).toBe('cc-42');
  });

  it('leaves memory undefined when AWS has no memory metric, and defaults the lookback to 14 days', async () => {
    // Prepare
    const base = modify('i-1');
    const recommendation = modify('i-1', {
      CurrentInstance: { ...base.CurrentInstance, ResourceUtilization: { EC2ResourceUtilization: { MaxCpuUtilizationPercentage: '8', MaxMemoryUtilizationPercentage: '' } } },
    });
    mock.on(GetRightsizingRecommendationCommand).resolves(page([recommendation], undefined, 1, null));
    // Act
    const [candidate] = await source.getRecommendations();
    // Assess
    expect(candidate).toMatchObject({ cpuMaxPercent: 8, lookbackDays: 14 });
    expect(candidate).toHaveProperty('memoryMaxPercent', undefined);
  });

  it('skips recommendations without an instance id or type, counting them in one warning', async () => {
    // Prepare
    const base = modify('i-ok');
    const noId = modify('ignored', { CurrentInstance: { ...base.CurrentInstance, ResourceId: '' } });
    const noType = modify('i-2', { CurrentInstance: { ...base.CurrentInstance, ResourceId: 'i-2', ResourceDetails: { EC2ResourceDetails: { Region: 'US East (Ohio)' } } } });
    mock.on(GetRightsizingRecommendationCommand).resolves(page([noId, base, noType]));
    // Act
    const candidates = await source.getRecommendations();
    // Assess
    expect(candidates.map((c) => c.instanceId)).toEqual(['i-ok']);
    expect(warnings).toEqual([{ obj: { skipped: 2, reasons: { 'no instance id': 1, 'no instance type': 1 } }, msg: 'skipped 2 unusable rightsizing recommendation(s)' }]);
  });

  it('turns throttling that outlasts the SDK retries into cost_source_throttled, and ledgers it', async () => {
    // Prepare
    const sdkError = new LimitExceededException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400, attempts: 5 } });
    mock.on(GetRightsizingRecommendationCommand).resolvesOnce(page([modify('i-1')], 'token-2')).rejectsOnce(sdkError);
    // Act
    const error = await failure(source.getRecommendations());
    // Assess
    expect(error.code).toBe('cost_source_throttled');
    expect(error.message).toBe('AWS Cost Explorer is throttling requests (LimitExceededException); the bot will retry later.');
    expect(error.cause).toBe(sdkError);
    expect(ledger.entries).toMatchObject([
      { operation: 'GetRightsizingRecommendation', outcome: 'ok', attempts: 1 },
      { operation: 'GetRightsizingRecommendation', outcome: 'throttled', attempts: 5, detail: 'RIGHTSIZING AmazonEC2 page 2' },
    ]);
  });

  it('names ce:GetRightsizingRecommendation when access is denied, without AWS message text', async () => {
    // Prepare
    const sdkError = new CostExplorerServiceException({
      name: 'AccessDeniedException',
      $fault: 'client',
      message: 'User: arn:aws:iam::123456789012:user/bot is not authorized',
      $metadata: { httpStatusCode: 400 },
    });
    mock.on(GetRightsizingRecommendationCommand).rejects(sdkError);
    // Act
    const error = await failure(source.getRecommendations());
    // Assess
    expect(error.code).toBe('cost_source_denied');
    expect(error.message).toMatch(/ce:GetRightsizingRecommendation/);
    expect(error.message).not.toMatch(/arn:aws/);
  });

  it(`stops after ${MAX_RIGHTSIZING_PAGES} pages of a service that never stops handing out tokens`, async () => {
    // Prepare
    let served = 0;
    mock.on(GetRightsizingRecommendationCommand).callsFake(() => {
      served += 1;
      return page([modify(`i-${served}`)], `token-${served + 1}`);
    });
    // Act
    const error = await failure(source.getRecommendations());
    // Assess
    expect(error.code).toBe('cost_source_unavailable');
    expect(error.message).toMatch(/after 50 pages/);
    expect(mock.commandCalls(GetRightsizingRecommendationCommand)).toHaveLength(MAX_RIGHTSIZING_PAGES);
    expect(ledger.entries).toHaveLength(MAX_RIGHTSIZING_PAGES);
  });

  it.skipIf(!haveDatasets)('knows every lookback period of the AWS API model (skipped when ../shared/datasets is absent)', async () => {
    // Prepare
    const model = JSON.parse(readFileSync(new URL('smithy-model/cost-explorer-2017-10-25.json', datasetDir), 'utf8')) as {
      shapes: Record<string, { members?: Record<string, unknown> }>;
    };
    const periods = Object.keys(model.shapes['com.amazonaws.costexplorer#LookbackPeriodInDays']?.members ?? {});
    const days: Record<string, number> = { SEVEN: 7, FOURTEEN: 14, THIRTY: 30, SIXTY: 60, NINETY: 90 };
    let served = 0;
    mock.on(GetRightsizingRecommendationCommand).callsFake(() => ({ ...page([modify('i-1')]), Metadata: { LookbackPeriodInDays: periods[served++] as 'SEVEN_DAYS' } }));
    // Act
    const found: number[] = [];
    for (const _period of periods) found.push((await source.getRecommendations())[0]!.lookbackDays);
    // Assess
    expect(periods.length).toBeGreaterThan(0);
    expect(found).toEqual(periods.map((period) => days[period.replace('_DAYS', '')]));
  });

  it('refuses a page token it has already followed, without paying for it again', async () => {
    // Prepare
    mock
      .on(GetRightsizingRecommendationCommand)
      .resolvesOnce(page([modify('i-1')], 'token-2'))
      .resolvesOnce(page([modify('i-2')], 'token-2'));
    // Act
    const error = await failure(source.getRecommendations());
    // Assess
    expect(error.message).toMatch(/same rightsizing page token twice/);
    expect(mock.commandCalls(GetRightsizingRecommendationCommand)).toHaveLength(2);
  });
});

describe('regionCodeOf', () => {
  it.each([
    ['US East (N. Virginia)', 'us-east-1'],
    ['EU (Ireland)', 'eu-west-1'],
    ['Europe (Stockholm)', 'eu-north-1'],
    ['South America (São Paulo)', 'sa-east-1'],
    ['asia pacific (tokyo)', 'ap-northeast-1'],
    ['us-west-2', 'us-west-2'],
    ['Moon Base (Tranquility)', 'Moon Base (Tranquility)'],
  ])('maps %s to %s', (name, code) => {
    // Act + Assess
    expect(regionCodeOf(name)).toBe(code);
  });

  it('has one well-formed code per table entry', () => {
    // Assess
    for (const code of Object.values(REGION_CODES)) expect(code).toMatch(/^[a-z]{2}(-[a-z]+)+-\d$/);
  });
});

// AWS publishes no example GetRightsizingRecommendation response (see the dataset's README), so
// the closest real-world check is that every field the fixtures use exists in AWS's API model.
describe.skipIf(!haveDatasets)('the fixtures against the AWS API model (skipped when ../shared/datasets is absent)', () => {
  it('use only fields of the GetRightsizingRecommendation shapes', () => {
    // Prepare
    const model = JSON.parse(readFileSync(new URL('smithy-model/cost-explorer-2017-10-25.json', datasetDir), 'utf8')) as {
      shapes: Record<string, { members?: Record<string, unknown> }>;
    };
    const members = (shape: string) => Object.keys(model.shapes[`com.amazonaws.costexplorer#${shape}`]?.members ?? {});
    const sample = modify('i-1');
    const target = sample.ModifyRecommendationDetail!.TargetInstances![1]!;
    // Act
    const used = {
      GetRightsizingRecommendationRequest: ['Service', 'Configuration', 'PageSize', 'NextPageToken'],
      GetRightsizingRecommendationResponse: Object.keys(page([], 'token')).filter((k) => k !== '$metadata'),
      RightsizingRecommendationMetadata: ['LookbackPeriodInDays'],
      RightsizingRecommendation: [...Object.keys(sample), ...Object.keys(terminate('i-2'))],
      CurrentInstance: [...Object.keys(sample.CurrentInstance!), ...Object.keys(terminate('i-2').CurrentInstance!)],
      EC2ResourceDetails: Object.keys(sample.CurrentInstance!.ResourceDetails!.EC2ResourceDetails!),
      EC2ResourceUtilization: Object.keys(sample.CurrentInstance!.ResourceUtilization!.EC2ResourceUtilization!),
      TargetInstance: Object.keys(target),
      TerminateRecommendationDetail: Object.keys(terminate('i-2').TerminateRecommendationDetail!),
      TagValues: ['Key', 'Values'],
    };
    // Assess
    for (const [shape, fields] of Object.entries(used)) {
      expect(members(shape), shape).toEqual(expect.arrayContaining(fields));
    }
  });

});
