import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AccessDeniedException,
  BudgetsClient,
  DescribeBudgetsCommand,
  NotFoundException,
  ThrottlingException,
  type Budget,
  type DescribeBudgetsCommandOutput,
} from '@aws-sdk/client-budgets';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AwsBudgets,
  BUDGETS_PAGE_SIZE,
  createBudgetsClient,
  MAX_BUDGET_PAGES,
} from '../../../src/adapters/aws/budgets-source.js';
import { isFinOpsError } from '../../../src/core/errors.js';
import { parseAmount } from '../../../src/core/money.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' };
const accountId = '123456789012';

/** A COST budget as DescribeBudgets returns it; `overrides` replace whole fields. */
const budget = (name: string, overrides: Partial<Budget> = {}): Budget => ({
  BudgetName: name,
  BudgetType: 'COST',
  TimeUnit: 'MONTHLY',
  BudgetLimit: { Amount: '1000.0', Unit: 'USD' },
  CalculatedSpend: {
    ActualSpend: { Amount: '250.5', Unit: 'USD' },
    ForecastedSpend: { Amount: '990.25', Unit: 'USD' },
  },
  CostFilters: {},
  ...overrides,
});

const page = (budgets: Budget[], next?: string): DescribeBudgetsCommandOutput => ({
  $metadata: { attempts: 1 },
  Budgets: budgets,
  ...(next === undefined ? {} : { NextToken: next }),
});

async function failure(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isFinOpsError(error)) throw new Error(`expected a FinOpsError, got ${String(error)}`);
  return error;
}

describe('AwsBudgets with a mocked SDK client', () => {
  let mock: AwsClientStub<BudgetsClient>;
  let source: AwsBudgets;
  const warnings: string[] = [];
  const client = () => new BudgetsClient({ region: 'us-east-1', credentials });
  beforeAll(() => {
    mock = mockClient(BudgetsClient);
  });
  afterAll(() => mock.restore());
  beforeEach(() => {
    mock.reset();
    warnings.length = 0;
    source = new AwsBudgets({ client: client(), accountId, logger: { warn: (_obj, msg) => warnings.push(msg) } });
  });

  it('reads every page, asking for 100 budgets a page with their filter expressions', async () => {
    mock
      .on(DescribeBudgetsCommand, { NextToken: undefined })
      .resolves(page([budget('payments-monthly')], 'token-2'))
      .on(DescribeBudgetsCommand, { NextToken: 'token-2' })
      .resolves(page([budget('search-monthly')]));

    const budgets = await source.describeBudgets();

    expect(budgets.map((b) => b.name)).toEqual(['payments-monthly', 'search-monthly']);
    const inputs = mock.commandCalls(DescribeBudgetsCommand).map((call) => call.args[0].input);
    expect(inputs).toEqual([
      { AccountId: accountId, MaxResults: BUDGETS_PAGE_SIZE, ShowFilterExpression: true },
      { AccountId: accountId, MaxResults: BUDGETS_PAGE_SIZE, ShowFilterExpression: true, NextToken: 'token-2' },
    ]);
  });

  it('keeps only COST budgets', async () => {
    mock.on(DescribeBudgetsCommand).resolves(
      page([
        budget('cost'),
        budget('usage', { BudgetType: 'USAGE', BudgetLimit: { Amount: '100', Unit: 'GB' } }),
        budget('ri', { BudgetType: 'RI_UTILIZATION', BudgetLimit: { Amount: '100', Unit: 'PERCENTAGE' } }),
        budget('sp', { BudgetType: 'SAVINGS_PLANS_COVERAGE', BudgetLimit: undefined }),
      ]),
    );

    const budgets = await source.describeBudgets();

    expect(budgets.map((b) => b.name)).toEqual(['cost']);
    expect(warnings).toEqual([]);
  });

  it('maps amounts exactly, with the limit unit as currency and the time unit', async () => {
    mock.on(DescribeBudgetsCommand).resolves(
      page([
        budget('exact', {
          TimeUnit: 'QUARTERLY',
          BudgetLimit: { Amount: '12345.6789012345', Unit: 'EUR' },
          CalculatedSpend: {
            ActualSpend: { Amount: '0.1', Unit: 'EUR' },
            ForecastedSpend: { Amount: '9007199254740993.0000000001', Unit: 'EUR' },
          },
        }),
        budget('new', { CalculatedSpend: { ActualSpend: { Amount: '0', Unit: 'USD' } } }),
      ]),
    );

    const [exact, fresh] = await source.describeBudgets();

    expect(exact).toEqual({
      name: 'exact',
      limit: parseAmount('12345.6789012345'),
      currency: 'EUR',
      actual: parseAmount('0.1'),
      forecast: parseAmount('9007199254740993.0000000001'),
      timeUnit: 'QUARTERLY',
      team: undefined,
    });
    expect(exact!.limit).toBe(123_456_789_012_345n);
    expect(exact!.forecast).toBe(90_071_992_547_409_930_000_000_001n);
    expect(fresh).toMatchObject({ actual: 0n, forecast: undefined, currency: 'USD' });
  });

  it('takes the team from a legacy TagKeyValue cost filter', async () => {
    mock.on(DescribeBudgetsCommand).resolves(
      page([
        budget('payments', { CostFilters: { TagKeyValue: ['user:Team$payments'], Service: ['Amazon Elastic Compute Cloud - Compute'] } }),
        budget('other-tag', { CostFilters: { TagKeyValue: ['user:Environment$prod'] } }),
        budget('no-filters', { CostFilters: undefined }),
      ]),
    );

    const budgets = await source.describeBudgets();

    expect(budgets.map((b) => [b.name, b.team])).toEqual([
      ['payments', 'payments'],
      ['other-tag', undefined],
      ['no-filters', undefined],
    ]);
  });

  it('takes the team from a FilterExpression, alone or inside an And', async () => {
    mock.on(DescribeBudgetsCommand).resolves(
      page([
        budget('leaf', { FilterExpression: { Tags: { Key: 'Team', Values: ['payments'] } } }),
        budget('and', {
          FilterExpression: {
            And: [
              { Dimensions: { Key: 'SERVICE', Values: ['Amazon Simple Storage Service'] } },
              { Tags: { Key: 'Team', Values: ['search'], MatchOptions: ['EQUALS'] } },
            ],
          },
        }),
        budget('or', {
          FilterExpression: {
            Or: [{ Tags: { Key: 'Team', Values: ['payments'] } }, { Dimensions: { Key: 'SERVICE', Values: ['AWS Lambda'] } }],
          },
        }),
        budget('not', { FilterExpression: { Not: { Tags: { Key: 'Team', Values: ['payments'] } } } }),
        budget('prefix-match', { FilterExpression: { Tags: { Key: 'Team', Values: ['pay'], MatchOptions: ['STARTS_WITH'] } } }),
        // Both forms agreeing (AWS can return the legacy filters next to the expression).
        budget('both', {
          CostFilters: { TagKeyValue: ['user:Team$data'] },
          FilterExpression: { Tags: { Key: 'Team', Values: ['data'] } },
        }),
      ]),
    );

    const budgets = await source.describeBudgets();

    expect(budgets.map((b) => [b.name, b.team])).toEqual([
      ['leaf', 'payments'],
      ['and', 'search'],
      ['or', undefined],
      ['not', undefined],
      ['prefix-match', undefined],
      ['both', 'data'],
    ]);
  });

  it('gives no team when the filters name two values', async () => {
    mock.on(DescribeBudgetsCommand).resolves(
      page([
        budget('legacy', { CostFilters: { TagKeyValue: ['user:Team$payments', 'user:Team$search'] } }),
        budget('expression', { FilterExpression: { Tags: { Key: 'Team', Values: ['payments', 'search'] } } }),
        budget('disagreeing', {
          CostFilters: { TagKeyValue: ['user:Team$payments'] },
          FilterExpression: { Tags: { Key: 'Team', Values: ['search'] } },
        }),
      ]),
    );

    const budgets = await source.describeBudgets();

    expect(budgets.map((b) => b.team)).toEqual([undefined, undefined, undefined]);
  });

  it('looks for the configured team tag, case-sensitively', async () => {
    mock.on(DescribeBudgetsCommand).resolves(
      page([
        budget('owner', { CostFilters: { TagKeyValue: ['user:Team$payments', 'user:CostCenter$cc-42'] } }),
        budget('owner-expression', { FilterExpression: { Tags: { Key: 'user:CostCenter', Values: ['cc-7'] } } }),
        budget('wrong-case', { CostFilters: { TagKeyValue: ['user:costcenter$cc-1'] } }),
      ]),
    );
    const byCostCenter = new AwsBudgets({ client: client(), accountId, teamTag: 'CostCenter' });

    const budgets = await byCostCenter.describeBudgets();

    expect(budgets.map((b) => b.team)).toEqual(['cc-42', 'cc-7', undefined]);
  });

  it('turns AccessDeniedException into cost_source_denied naming budgets:ViewBudget', async () => {
    mock
      .on(DescribeBudgetsCommand)
      .rejects(new AccessDeniedException({ message: 'User: arn:aws:iam::123456789012:user/bot is not authorized', $metadata: { httpStatusCode: 400 } }));

    const error = await failure(source.describeBudgets());

    expect(error.code).toBe('cost_source_denied');
    expect(error.message).toContain('budgets:ViewBudget');
    expect(error.message).not.toContain('arn:aws');
    expect(error.cause).toBeInstanceOf(AccessDeniedException);
    expect(warnings).toEqual(['AWS Budgets request failed']);
  });

  it('turns ThrottlingException into cost_source_throttled', async () => {
    mock.on(DescribeBudgetsCommand).rejects(new ThrottlingException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } }));

    const error = await failure(source.describeBudgets());

    expect(error.code).toBe('cost_source_throttled');
    expect(error.message).toMatch(/^AWS Budgets is throttling/);
  });

  it('reads an account without budgets (NotFoundException) as none', async () => {
    mock.on(DescribeBudgetsCommand).rejects(new NotFoundException({ message: 'no budgets', $metadata: { httpStatusCode: 400 } }));

    expect(await source.describeBudgets()).toEqual([]);
  });

  it('refuses a page token it has already followed', async () => {
    mock
      .on(DescribeBudgetsCommand, { NextToken: undefined })
      .resolves(page([budget('a')], 'same'))
      .on(DescribeBudgetsCommand, { NextToken: 'same' })
      .resolves(page([budget('b')], 'same'));

    const error = await failure(source.describeBudgets());

    expect(error.code).toBe('cost_source_unavailable');
    expect(error.message).toContain('same page token twice');
    expect(mock.commandCalls(DescribeBudgetsCommand)).toHaveLength(2);
  });

  it(`stops after ${MAX_BUDGET_PAGES} pages`, async () => {
    let next = 0;
    mock.on(DescribeBudgetsCommand).callsFake(() => page([budget(`b${next}`)], `token-${++next}`));

    const error = await failure(source.describeBudgets());

    expect(error.code).toBe('cost_source_unavailable');
    expect(error.message).toContain(`after ${MAX_BUDGET_PAGES} pages`);
    expect(mock.commandCalls(DescribeBudgetsCommand)).toHaveLength(MAX_BUDGET_PAGES);
  });

  it('skips a cost budget whose limit is unreadable, with a warning, and keeps the others', async () => {
    mock.on(DescribeBudgetsCommand).resolves(
      page([budget('odd', { BudgetLimit: { Amount: 'lots', Unit: 'USD' } }), budget('fine')]),
    );

    const budgets = await source.describeBudgets();

    expect(budgets.map((b) => b.name)).toEqual(['fine']);
    expect(warnings).toEqual(['skipped an AWS cost budget whose limit is not a decimal amount']);
  });

  it('looks the account id up once, and again after a failed lookup', async () => {
    mock.on(DescribeBudgetsCommand).resolves(page([budget('a')]));
    let lookups = 0;
    const lookUp = async () => {
      lookups += 1;
      if (lookups === 1) throw new Error('metadata endpoint down');
      return accountId;
    };
    const lazy = new AwsBudgets({ client: client(), accountId: lookUp });

    expect((await failure(lazy.describeBudgets())).code).toBe('cost_source_unavailable');
    await lazy.describeBudgets();
    await lazy.describeBudgets();

    expect(lookups).toBe(2);
    expect(mock.commandCalls(DescribeBudgetsCommand).map((call) => call.args[0].input.AccountId)).toEqual([accountId, accountId]);
  });

  it('refuses an account id that is not 12 digits', () => {
    let thrown: unknown;
    try {
      new AwsBudgets({ client: client(), accountId: 'arn:aws:iam::123456789012:root' });
    } catch (error) {
      thrown = error;
    }
    expect(isFinOpsError(thrown, 'config_invalid')).toBe(true);
  });
});

describe('AwsBudgets with the real SDK client against a local endpoint', () => {
  let server: Server;
  let url: string;
  const targets: string[] = [];
  const bodies: unknown[] = [];
  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        targets.push(String(req.headers['x-amz-target']));
        const input = JSON.parse(body) as { NextToken?: string };
        bodies.push(input);
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(
          JSON.stringify(
            input.NextToken === undefined
              ? {
                  Budgets: [
                    {
                      BudgetName: 'payments',
                      BudgetType: 'COST',
                      TimeUnit: 'MONTHLY',
                      BudgetLimit: { Amount: '1500.0', Unit: 'USD' },
                      CalculatedSpend: { ActualSpend: { Amount: '812.3456789012', Unit: 'USD' } },
                      FilterExpression: { Tags: { Key: 'Team', Values: ['payments'] } },
                    },
                  ],
                  NextToken: 'p2',
                }
              : {
                  Budgets: [
                    {
                      BudgetName: 'search',
                      BudgetType: 'COST',
                      TimeUnit: 'MONTHLY',
                      BudgetLimit: { Amount: '200', Unit: 'USD' },
                      CostFilters: { TagKeyValue: ['user:Team$search'] },
                    },
                  ],
                },
          ),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  afterEach(() => {
    targets.length = 0;
    bodies.length = 0;
  });

  it('honours AWS_ENDPOINT_URL_BUDGETS when no endpoint is configured', async () => {
    const saved = process.env.AWS_ENDPOINT_URL_BUDGETS;
    const savedIgnore = process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS;
    process.env.AWS_ENDPOINT_URL_BUDGETS = url;
    delete process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS;
    try {
      const source = new AwsBudgets({ client: createBudgetsClient({ credentials, maxAttempts: 1 }), accountId });
      const budgets = await source.describeBudgets();

      expect(budgets).toEqual([
        {
          name: 'payments',
          limit: parseAmount('1500'),
          currency: 'USD',
          actual: parseAmount('812.3456789012'),
          forecast: undefined,
          timeUnit: 'MONTHLY',
          team: 'payments',
        },
        { name: 'search', limit: parseAmount('200'), currency: 'USD', actual: undefined, forecast: undefined, timeUnit: 'MONTHLY', team: 'search' },
      ]);
      expect(targets).toEqual(['AWSBudgetServiceGateway.DescribeBudgets', 'AWSBudgetServiceGateway.DescribeBudgets']);
      expect(bodies[1]).toEqual({ AccountId: accountId, MaxResults: 100, NextToken: 'p2', ShowFilterExpression: true });
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_BUDGETS;
      else process.env.AWS_ENDPOINT_URL_BUDGETS = saved;
      if (savedIgnore !== undefined) process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS = savedIgnore;
    }
  });

  it('builds its client in us-east-1 with standard retries', async () => {
    const client = createBudgetsClient({ credentials });
    expect(await client.config.region()).toBe('us-east-1');
    expect(await client.config.maxAttempts()).toBe(5);
    expect(client.config.retryMode).toBe('standard');
  });
});
