/**
 * A local stand-in for the AWS Cost Explorer endpoint, so the real SDK client (with its
 * signing, JSON protocol, error parsing and retries) can be exercised without AWS: point
 * the client's endpoint (or AWS_ENDPOINT_URL_COST_EXPLORER) at `url`.
 *
 * It speaks the awsJson1_1 protocol for GetCostAndUsage, GetCostForecast, GetDimensionValues,
 * GetAnomalies (always none: the demo has no anomaly monitor) and GetRightsizingRecommendation
 * (always none: the figures have no instances behind them), serving the
 * figures of any {@link CostSource} re-encoded the way Cost Explorer writes them: tag keys
 * as "Key$value", amounts as strings with ten decimals, `Total: {}` with GroupBy, and
 * NextPageToken paging. Used by tests and by the benchmark (so no vitest here).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { COST_METRICS, type CostMetric } from '../../src/core/cost-model.js';
import { amountToDecimalString, type Amount } from '../../src/core/money.js';
import { addDays, eachDay, rangeLength, startOfNextMonth, minDate, type DateRange } from '../../src/core/period.js';
import type { CostGrouping, CostSource, DailyCostRow } from '../../src/ports.js';

/** Requests received per operation, throttled ones included. */
export interface FakeCostExplorerRequests {
  GetCostAndUsage: number;
  GetCostForecast: number;
  GetDimensionValues: number;
  GetAnomalies: number;
  GetRightsizingRecommendation: number;
}

/** A running fake endpoint. */
export interface FakeCostExplorer {
  /** Base URL, e.g. "http://127.0.0.1:49152". */
  readonly url: string;
  /** Live counters, updated as requests arrive. */
  readonly requests: FakeCostExplorerRequests;
  /** Answer the next `n` requests with LimitExceededException (`Infinity`: always). */
  throttleNext(n: number): void;
  close(): Promise<void>;
}

/** How the fake endpoint is set up. */
export interface FakeCostExplorerOptions {
  /** Where the figures come from (the demo source, or a small in-test one). */
  source: CostSource;
  /** Groups per GetCostAndUsage page (default 500). */
  pageSize?: number;
}

const FORECAST_METRICS: Readonly<Record<string, CostMetric>> = {
  UNBLENDED_COST: 'UnblendedCost',
  AMORTIZED_COST: 'AmortizedCost',
  NET_UNBLENDED_COST: 'NetUnblendedCost',
};

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** Starts the fake endpoint on 127.0.0.1 with an OS-chosen port. */
export async function startFakeCostExplorer(options: FakeCostExplorerOptions): Promise<FakeCostExplorer> {
  const pageSize = Math.max(1, options.pageSize ?? 500);
  const requests: FakeCostExplorerRequests = { GetCostAndUsage: 0, GetCostForecast: 0, GetDimensionValues: 0, GetAnomalies: 0, GetRightsizingRecommendation: 0 };
  let throttleRemaining = 0;
  let requestCounter = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = `fake-${++requestCounter}`;
    try {
      const body = await readBody(req);
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.startsWith('AWSInsightsIndexService.') ? target.slice(24) : '';
      if (req.method !== 'POST' || !(operation === 'GetCostAndUsage' || operation === 'GetCostForecast' || operation === 'GetDimensionValues' || operation === 'GetAnomalies' || operation === 'GetRightsizingRecommendation')) {
        throw new ApiError(400, 'UnknownOperationException', `Unknown operation ${target}`);
      }
      requests[operation] += 1;
      if (throttleRemaining > 0) {
        throttleRemaining -= 1;
        throw new ApiError(400, 'LimitExceededException', 'Rate exceeded');
      }
      const input = parseJson(body);
      const output =
        operation === 'GetCostAndUsage'
          ? await costAndUsage(options.source, input, pageSize)
          : operation === 'GetCostForecast'
            ? await costForecast(options.source, input)
            : operation === 'GetAnomalies'
              ? // No anomaly monitor behind the demo figures: AWS found nothing (our detector still scans).
                { Anomalies: [] }
              : operation === 'GetRightsizingRecommendation'
                ? { RightsizingRecommendations: [], Metadata: { LookbackPeriodInDays: 'SEVEN_DAYS' } }
                : await dimensionValues(options.source, input);
      reply(res, 200, output, requestId);
    } catch (error) {
      const api =
        error instanceof ApiError ? error : new ApiError(500, 'InternalServerException', 'The fake source failed');
      reply(res, api.status, { __type: api.type, message: api.message }, requestId, api.type);
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    throttleNext(n: number) {
      throttleRemaining = n;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // The SDK keeps connections alive; drop them so close() does not wait for idle timeouts.
        server.closeAllConnections();
      }),
  };
}

// Cost Explorer body shapes, as far as the fake reads them.
interface Body {
  TimePeriod?: { Start?: string; End?: string };
  Granularity?: string;
  Metrics?: string[];
  Metric?: string;
  GroupBy?: { Type?: string; Key?: string }[];
  NextPageToken?: string;
  PredictionIntervalLevel?: number;
}

async function costAndUsage(source: CostSource, input: Body, pageSize: number): Promise<object> {
  const range = rangeOf(input);
  if (input.Granularity !== 'DAILY') throw validation('The fake supports Granularity DAILY only');
  const groupBy = (input.GroupBy ?? []).map(
    (g): CostGrouping => ({ type: g.Type === 'TAG' ? 'TAG' : 'DIMENSION', key: g.Key ?? '' }),
  );
  if (groupBy.length !== 2 || groupBy.some((g) => g.key === '')) throw validation('The fake needs exactly two GroupBy');
  const grouping = groupBy as [CostGrouping, CostGrouping];
  const metrics = (input.Metrics ?? []).filter((m): m is CostMetric => (COST_METRICS as readonly string[]).includes(m));
  if (metrics.length === 0) throw validation('Metrics must name at least one cost metric');

  const rows = [...(await source.getDailyCosts({ range, groupBy: grouping }))].sort((a, b) =>
    a.date < b.date ? -1 : a.date > b.date ? 1 : 0,
  );
  const offset = input.NextPageToken === undefined ? 0 : decodeToken(input.NextPageToken, rows.length);
  const page = rows.slice(offset, offset + pageSize);
  const next = offset + pageSize < rows.length ? encodeToken(offset + pageSize) : undefined;

  const estimatedDays = new Set(rows.filter((r) => r.estimated).map((r) => r.date));
  const daysWithRows = new Set(rows.map((r) => r.date));
  const pageDays = new Set(page.map((r) => r.date));
  const resultsByTime = eachDay(range)
    // Days with groups appear on the pages holding them; empty days once, on the first page.
    .filter((day) => pageDays.has(day) || (offset === 0 && !daysWithRows.has(day)))
    .map((day) => ({
      TimePeriod: { Start: day, End: addDays(day, 1) },
      Total: {},
      Groups: page.filter((r) => r.date === day).map((r) => encodeGroup(r, grouping, metrics)),
      Estimated: estimatedDays.has(day),
    }));
  return {
    GroupDefinitions: grouping.map((g) => ({ Type: g.type, Key: g.key })),
    ResultsByTime: resultsByTime,
    DimensionValueAttributes: [],
    ...(next === undefined ? {} : { NextPageToken: next }),
  };
}

function encodeGroup(row: DailyCostRow, groupBy: readonly [CostGrouping, CostGrouping], metrics: CostMetric[]): object {
  const key = (index: 0 | 1) => (groupBy[index].type === 'TAG' ? `${groupBy[index].key}$${row.keys[index]}` : row.keys[index]);
  return {
    Keys: [key(0), key(1)],
    Metrics: Object.fromEntries(
      metrics.map((m) => [m, { Amount: amountToDecimalString(row.costs[m]), Unit: row.currency }]),
    ),
  };
}

async function costForecast(source: CostSource, input: Body): Promise<object> {
  const range = rangeOf(input);
  const metric = FORECAST_METRICS[input.Metric ?? ''];
  if (!metric) throw validation(`Unknown forecast metric ${String(input.Metric)}`);
  if (input.Granularity !== 'MONTHLY' && input.Granularity !== 'DAILY') throw validation('Bad Granularity');
  const forecast = await source.getForecast(range, metric);
  const withInterval = input.PredictionIntervalLevel !== undefined;
  // One result per calendar month of the range, each an exact share by days; the shares add
  // up to the source's figures, as Cost Explorer's monthly results add up to its Total.
  const months: DateRange[] = [];
  for (let start = range.start; start < range.end; start = startOfNextMonth(start)) {
    months.push({ start, end: minDate(startOfNextMonth(start), range.end) });
  }
  const total = BigInt(rangeLength(range));
  const share = (amount: Amount, index: number): Amount => {
    const before = months.slice(0, index).reduce((n, m) => n + BigInt(rangeLength(m)), 0n);
    const upTo = before + BigInt(rangeLength(months[index]!));
    return (amount * upTo) / total - (amount * before) / total;
  };
  return {
    Total: { Amount: amountToDecimalString(forecast.mean), Unit: forecast.currency },
    ForecastResultsByTime: months.map((month, index) => ({
      TimePeriod: { Start: month.start, End: month.end },
      MeanValue: amountToDecimalString(share(forecast.mean, index)),
      ...(withInterval
        ? {
            PredictionIntervalLowerBound: amountToDecimalString(share(forecast.low, index)),
            PredictionIntervalUpperBound: amountToDecimalString(share(forecast.high, index)),
          }
        : {}),
    })),
  };
}

function rangeOf(input: Body): DateRange {
  const start = input.TimePeriod?.Start ?? '';
  const end = input.TimePeriod?.End ?? '';
  if (!/^\d{4}-\d{2}-\d{2}$/.test(start) || !/^\d{4}-\d{2}-\d{2}$/.test(end) || end <= start) {
    throw validation('TimePeriod must have Start before End (YYYY-MM-DD)');
  }
  return { start, end };
}

function encodeToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset }), 'utf8').toString('base64url');
}

function decodeToken(token: string, limit: number): number {
  try {
    const { offset } = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { offset?: unknown };
    if (typeof offset === 'number' && Number.isInteger(offset) && offset > 0 && offset < limit) return offset;
  } catch {
    // fall through
  }
  throw new ApiError(400, 'InvalidNextTokenException', 'The pagination token is invalid');
}

function validation(message: string): ApiError {
  return new ApiError(400, 'ValidationException', message);
}

function parseJson(text: string): Body {
  try {
    const value: unknown = JSON.parse(text === '' ? '{}' : text);
    if (typeof value === 'object' && value !== null) return value as Body;
  } catch {
    // fall through
  }
  throw new ApiError(400, 'SerializationException', 'Body is not a JSON object');
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: object, requestId: string, errorType?: string): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': requestId,
    ...(errorType === undefined ? {} : { 'x-amzn-errortype': errorType }),
  });
  res.end(text);
}

/** GetDimensionValues for LINKED_ACCOUNT: account ids with their names as `description`. */
async function dimensionValues(source: CostSource, input: Body & { Dimension?: string }): Promise<object> {
  if (input.Dimension !== 'LINKED_ACCOUNT') throw new ApiError(400, 'ValidationException', 'The fake serves LINKED_ACCOUNT values only');
  const start = input.TimePeriod?.Start;
  const end = input.TimePeriod?.End;
  if (!start || !end) throw new ApiError(400, 'ValidationException', 'TimePeriod is required');
  const names = await source.getAccountNames({ start, end });
  const values = [...names].map(([Value, description]) => ({ Value, Attributes: { description } }));
  return { DimensionValues: values, ReturnSize: values.length, TotalSize: values.length };
}
