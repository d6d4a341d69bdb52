/**
 * The AWS Cost Explorer cost source: daily two-way grouped costs and forecasts, read with
 * the official SDK. Every request sent is written to the paid-request ledger (Cost Explorer
 * charges USD 0.01 per request, each page included), and SDK failures become coded
 * {@link FinOpsError}s with a sentence an operator can act on.
 */
import {
  CostExplorerClient,
  GetCostAndUsageCommand,
  GetCostForecastCommand,
  GetDimensionValuesCommand,
  type CostExplorerClientConfig,
  type ForecastResult,
  type GetCostAndUsageCommandOutput,
  type Group,
  type Metric,
  type MetricValue,
} from '@aws-sdk/client-cost-explorer';
import { COST_METRICS, type CostMetric } from '../../core/cost-model.js';
import { parseAmount, sumAmounts, type Amount } from '../../core/money.js';
import type { DateRange } from '../../core/period.js';
import type { CostExplorerOperation } from './cost-explorer-errors.js';
import { sendPaidRequest, type WarnLogger } from './paid-requests.js';
import type {
  ApiRequestLedger,
  Clock,
  CostGrouping,
  CostSource,
  DailyCostRequest,
  DailyCostRow,
  SourceForecast,
} from '../../ports.js';

/** Attempts per request (first try included) unless configured otherwise. */
export const DEFAULT_MAX_ATTEMPTS = 5;

/** Cost Explorer's forecast metric names for our cost metrics. */
export const FORECAST_METRIC: Readonly<Record<CostMetric, Metric>> = {
  UnblendedCost: 'UNBLENDED_COST',
  AmortizedCost: 'AMORTIZED_COST',
  NetUnblendedCost: 'NET_UNBLENDED_COST',
};

export type { WarnLogger } from './paid-requests.js';

/** What {@link CostExplorerSource} needs; only the ledger is required. */
export interface CostExplorerSourceOptions {
  /** A ready client (tests, custom config); otherwise {@link createCostExplorerClient} builds one. */
  client?: CostExplorerClient;
  ledger: ApiRequestLedger;
  clock?: Clock;
  /** Attempts per request when the client is built here (default 5). */
  maxAttempts?: number;
  logger?: WarnLogger;
}

/**
 * Builds the Cost Explorer client with the bot's defaults: region us-east-1 (Cost
 * Explorer's only endpoint region), standard retries (which back off on
 * LimitExceededException) and bounded timeouts. The endpoint is left to the SDK, so
 * AWS_ENDPOINT_URL_COST_EXPLORER / AWS_ENDPOINT_URL and the credential chain still apply;
 * anything in `overrides` wins.
 */
export function createCostExplorerClient(overrides: CostExplorerClientConfig = {}): CostExplorerClient {
  return new CostExplorerClient({
    region: 'us-east-1',
    maxAttempts: DEFAULT_MAX_ATTEMPTS,
    retryMode: 'standard',
    requestHandler: { requestTimeout: 30_000, connectionTimeout: 5_000 },
    ...overrides,
  });
}

type Operation = CostExplorerOperation;

/** Reads costs from AWS Cost Explorer; see the module comment. */
export class CostExplorerSource implements CostSource {
  readonly kind = 'aws' as const;
  private readonly client: CostExplorerClient;
  private readonly ledger: ApiRequestLedger;
  private readonly clock: Clock;
  private readonly logger: WarnLogger | undefined;
  private readonly unprefixedTagKeys = new Set<string>();

  constructor(options: CostExplorerSourceOptions) {
    this.client =
      options.client ?? createCostExplorerClient({ maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS });
    this.ledger = options.ledger;
    this.clock = options.clock ?? { now: () => new Date() };
    this.logger = options.logger;
  }

  /** Every page of a DAILY report grouped by the two groupings, with all three metrics. */
  async getDailyCosts({ range, groupBy }: DailyCostRequest): Promise<DailyCostRow[]> {
    const rows: DailyCostRow[] = [];
    const groupingText = groupBy.map((g) => `${g.type}:${g.key}`).join('+');
    let token: string | undefined;
    let page = 0;
    do {
      page += 1;
      const command = new GetCostAndUsageCommand({
        TimePeriod: { Start: range.start, End: range.end },
        Granularity: 'DAILY',
        Metrics: [...COST_METRICS],
        GroupBy: groupBy.map((g) => ({ Type: g.type, Key: g.key })),
        ...(token === undefined ? {} : { NextPageToken: token }),
      });
      const detail = `DAILY ${range.start}..${range.end} ${groupingText} page ${page}`;
      const output: GetCostAndUsageCommandOutput = await this.send('GetCostAndUsage', detail, () =>
        this.client.send(command),
      );
      rows.push(...this.toRows(output, groupBy));
      token = output.NextPageToken || undefined;
    } while (token !== undefined);
    return rows;
  }

  /** Cost Explorer's forecast over `range` with an 80 % prediction interval. */
  async getForecast(range: DateRange, metric: CostMetric): Promise<SourceForecast> {
    const forecastMetric = FORECAST_METRIC[metric];
    const command = new GetCostForecastCommand({
      TimePeriod: { Start: range.start, End: range.end },
      Metric: forecastMetric,
      Granularity: 'MONTHLY',
      PredictionIntervalLevel: 80,
    });
    const detail = `MONTHLY ${range.start}..${range.end} ${forecastMetric}`;
    const output = await this.send('GetCostForecast', detail, () => this.client.send(command));
    const results = output.ForecastResultsByTime ?? [];
    const mean =
      output.Total?.Amount !== undefined
        ? parseAmount(output.Total.Amount)
        : sumAmounts(results.map((r) => amountOf(r.MeanValue) ?? 0n));
    // Each month of the range has its own interval; the range's bounds are their sums.
    const bound = (pick: (r: ForecastResult) => string | undefined): Amount =>
      results.length === 0 ? mean : sumAmounts(results.map((r) => amountOf(pick(r)) ?? amountOf(r.MeanValue) ?? 0n));
    return {
      range,
      metric,
      currency: output.Total?.Unit || 'USD',
      mean,
      low: bound((r) => r.PredictionIntervalLowerBound),
      high: bound((r) => r.PredictionIntervalUpperBound),
    };
  }

  /** Linked account names (the `description` attribute of LINKED_ACCOUNT values), every page. */
  async getAccountNames(range: DateRange): Promise<ReadonlyMap<string, string>> {
    const names = new Map<string, string>();
    let token: string | undefined;
    let page = 0;
    do {
      page += 1;
      const command = new GetDimensionValuesCommand({
        TimePeriod: { Start: range.start, End: range.end },
        Dimension: 'LINKED_ACCOUNT',
        Context: 'COST_AND_USAGE',
        ...(token === undefined ? {} : { NextPageToken: token }),
      });
      const detail = `LINKED_ACCOUNT ${range.start}..${range.end} page ${page}`;
      const output = await this.send('GetDimensionValues', detail, () => this.client.send(command));
      for (const value of output.DimensionValues ?? []) {
        const name = value.Attributes?.description;
        if (value.Value && name) names.set(value.Value, name);
      }
      token = output.NextPageToken || undefined;
    } while (token !== undefined);
    return names;
  }

  /** Sends one request, records it in the ledger, and maps a failure to a FinOpsError. */
  private send<T extends { $metadata: { attempts?: number } }>(operation: Operation, detail: string, call: () => Promise<T>): Promise<T> {
    return sendPaidRequest({ ledger: this.ledger, clock: this.clock, logger: this.logger }, operation, detail, call);
  }

  private toRows(output: GetCostAndUsageCommandOutput, groupBy: readonly [CostGrouping, CostGrouping]): DailyCostRow[] {
    const rows: DailyCostRow[] = [];
    for (const result of output.ResultsByTime ?? []) {
      const date = result.TimePeriod?.Start;
      if (!date) continue;
      for (const group of result.Groups ?? []) {
        const row = this.toRow(date, result.Estimated ?? false, group, groupBy);
        if (row) rows.push(row);
      }
    }
    return rows;
  }

  private toRow(
    date: string,
    estimated: boolean,
    group: Group,
    groupBy: readonly [CostGrouping, CostGrouping],
  ): DailyCostRow | undefined {
    const metrics = group.Metrics ?? {};
    const costs = Object.fromEntries(COST_METRICS.map((m) => [m, amountOf(metrics[m]?.Amount) ?? 0n])) as Record<
      CostMetric,
      Amount
    >;
    if (COST_METRICS.every((m) => costs[m] === 0n)) return undefined;
    const keys = group.Keys ?? [];
    const key = (index: 0 | 1): string => this.groupValue(keys[index] ?? '', groupBy[index]);
    return { date, keys: [key(0), key(1)], currency: currencyOf(metrics), costs, estimated };
  }

  /** A tag group key arrives as "Key$value" ("Key$" when untagged); a dimension value as is. */
  private groupValue(raw: string, grouping: CostGrouping): string {
    if (grouping.type !== 'TAG') return raw;
    const prefix = `${grouping.key}$`;
    if (raw.startsWith(prefix)) return raw.slice(prefix.length);
    if (!this.unprefixedTagKeys.has(grouping.key)) {
      this.unprefixedTagKeys.add(grouping.key); // once per tag key, not once per row
      this.logger?.warn({ tagKey: grouping.key }, 'Cost Explorer returned a tag group key without its "Key$" prefix');
    }
    return raw;
  }
}

function amountOf(text: string | undefined): Amount | undefined {
  return text === undefined || text === '' ? undefined : parseAmount(text);
}

function currencyOf(metrics: Record<string, MetricValue>): string {
  for (const metric of COST_METRICS) {
    const unit = metrics[metric]?.Unit;
    if (unit) return unit;
  }
  return 'USD';
}
