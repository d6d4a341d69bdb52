/**
 * AWS Cost Anomaly Detection as an {@link AwsAnomalyFeed}: the anomalies AWS found (every
 * page of GetAnomalies) and the feedback people give back (ProvideAnomalyFeedback). Both
 * belong to the Cost Explorer API and are billed like it (USD 0.01 per request, each page
 * included), so every request sent is written to the paid-request ledger, and SDK failures
 * become the same coded {@link FinOpsError}s the Cost Explorer cost source raises.
 *
 * AWS reports anomaly amounts as JSON numbers (doubles), not as decimal strings like the
 * cost reports. They are turned into exact amounts through their shortest decimal text
 * (`String(value)`), which is the text AWS sent whenever it had at most 15 significant
 * digits, and never through float arithmetic.
 */
import {
  CostExplorerClient,
  GetAnomaliesCommand,
  ProvideAnomalyFeedbackCommand,
  type Anomaly,
  type GetAnomaliesCommandOutput,
  type Impact,
  type RootCause,
} from '@aws-sdk/client-cost-explorer';
import { FinOpsError } from '../../core/errors.js';
import { parseAmount, type Amount } from '../../core/money.js';
import { addDays, isPlainDate, type DateRange, type PlainDate } from '../../core/period.js';
import { createCostExplorerClient, DEFAULT_MAX_ATTEMPTS } from './cost-explorer-source.js';
import type { ApiRequestLedger, AwsAnomaly, AwsAnomalyFeed, AwsAnomalyFeedback, Clock } from '../../ports.js';
import { type PaidRequestContext, sendPaidRequest, type WarnLogger } from './paid-requests.js';
import { readAllPages } from './all-pages.js';

/** Anomalies asked for per GetAnomalies page: fewer pages, fewer paid requests. */
export const ANOMALY_PAGE_SIZE = 100;

/**
 * Most GetAnomalies pages read for one call (5,000 anomalies at {@link ANOMALY_PAGE_SIZE}).
 * Each page costs money, so a service that kept handing out tokens must not run up a bill.
 */
export const MAX_ANOMALY_PAGES = 50;

/** What {@link CostAnomalyFeed} needs; only the ledger is required (as for CostExplorerSource). */
export interface CostAnomalyFeedOptions {
  /** A ready client (tests, custom config); otherwise {@link createCostExplorerClient} builds one. */
  client?: CostExplorerClient;
  ledger: ApiRequestLedger;
  clock?: Clock;
  /** Attempts per request when the client is built here (default 5). */
  maxAttempts?: number;
  logger?: WarnLogger;
}

/** Reads AWS Cost Anomaly Detection's anomalies and sends it feedback; see the module comment. */
export class CostAnomalyFeed implements AwsAnomalyFeed {
  private readonly client: CostExplorerClient;
  private readonly context: PaidRequestContext;

  constructor(options: CostAnomalyFeedOptions) {
    this.client =
      options.client ?? createCostExplorerClient({ maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS });
    this.context = {
      ledger: options.ledger,
      clock: options.clock ?? { now: () => new Date() },
      logger: options.logger,
    };
  }

  /**
   * Every page of GetAnomalies for `range` (half-open; AWS's DateInterval is inclusive, so
   * its EndDate is the range's last day). An empty range sends nothing and costs nothing.
   */
  async getAnomalies(range: DateRange): Promise<AwsAnomaly[]> {
    if (range.end <= range.start) return [];
    const wording = { service: 'AWS Cost Anomaly Detection', items: 'anomalies', maxPages: MAX_ANOMALY_PAGES, advice: 'Ask for a shorter period.' };
    const pages = await readAllPages(wording, (token, page) => this.getPage(range, token, page), (output) => output.NextPageToken);
    return pages.flatMap((output) => this.toAnomalies(output.Anomalies ?? []));
  }

  /** Records what people decided about an AWS anomaly with AWS, which tunes its detection. */
  async provideFeedback(anomalyId: string, feedback: AwsAnomalyFeedback): Promise<void> {
    const command = new ProvideAnomalyFeedbackCommand({ AnomalyId: anomalyId, Feedback: feedback });
    await sendPaidRequest(this.context, 'ProvideAnomalyFeedback', `${anomalyId} ${feedback}`, () =>
      this.client.send(command),
    );
  }

  private getPage(range: DateRange, token: string | undefined, page: number): Promise<GetAnomaliesCommandOutput> {
    const command = new GetAnomaliesCommand({
      DateInterval: { StartDate: range.start, EndDate: addDays(range.end, -1) },
      MaxResults: ANOMALY_PAGE_SIZE,
      ...(token === undefined ? {} : { NextPageToken: token }),
    });
    const detail = `ANOMALIES ${range.start}..${range.end} page ${page}`;
    return sendPaidRequest(this.context, 'GetAnomalies', detail, () => this.client.send(command));
  }

  private toAnomalies(items: readonly Anomaly[]): AwsAnomaly[] {
    const anomalies: AwsAnomaly[] = [];
    for (const item of items) {
      const anomaly = toAwsAnomaly(item);
      if (anomaly) anomalies.push(anomaly);
      else this.context.logger?.warn({ anomalyId: item.AnomalyId }, 'skipped an AWS anomaly without an id or a start date');
    }
    return anomalies;
  }
}

/** One AWS anomaly in our terms; undefined when it has no id or no usable start date. */
function toAwsAnomaly(item: Anomaly): AwsAnomaly | undefined {
  const firstDay = dayOf(item.AnomalyStartDate);
  if (!item.AnomalyId || firstDay === undefined) return undefined;
  return {
    id: item.AnomalyId,
    firstDay,
    lastDay: dayOf(item.AnomalyEndDate),
    rootCauses: rootCausesOf(item.RootCauses ?? []),
    ...spendOf(item.Impact),
    maxScore: finite(item.AnomalyScore?.MaxScore) ?? 0,
    feedback: item.Feedback || undefined,
  };
}

/** The calendar day of an AWS date ("2026-11-03" or "2026-11-03T00:00:00Z"). */
function dayOf(text: string | undefined): PlainDate | undefined {
  const day = text?.slice(0, 10);
  return day !== undefined && isPlainDate(day) ? day : undefined;
}

/** Root causes, biggest contribution first; those without a contribution last, in AWS's order. */
function rootCausesOf(causes: readonly RootCause[]): AwsAnomaly['rootCauses'] {
  const mapped = causes.map((cause) => ({
    service: cause.Service || undefined,
    account: cause.LinkedAccount || undefined,
    region: cause.Region || undefined,
    usageType: cause.UsageType || undefined,
    contribution: amountOfDouble(cause.Impact?.Contribution),
  }));
  return mapped.sort((a, b) => compareDesc(a.contribution, b.contribution));
}

function compareDesc(a: Amount | undefined, b: Amount | undefined): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? 1 : -1;
  return a > b ? -1 : a < b ? 1 : 0;
}

/**
 * Expected, actual and impact spend. AWS's own figures win; a missing one is derived from
 * the others (impact = actual − expected), and when AWS gives only an impact (older
 * anomalies have no spend totals) it counts as all unexpected: expected 0, actual = impact.
 */
function spendOf(impact: Impact | undefined): Pick<AwsAnomaly, 'expected' | 'actual' | 'impact'> {
  const expected = amountOfDouble(impact?.TotalExpectedSpend);
  const actual = amountOfDouble(impact?.TotalActualSpend);
  const total =
    amountOfDouble(impact?.TotalImpact) ??
    (actual !== undefined && expected !== undefined ? actual - expected : undefined) ??
    amountOfDouble(impact?.MaxImpact) ??
    0n;
  if (actual !== undefined && expected !== undefined) return { expected, actual, impact: total };
  if (actual !== undefined) return { expected: actual - total, actual, impact: total };
  if (expected !== undefined) return { expected, actual: expected + total, impact: total };
  return { expected: 0n, actual: total, impact: total };
}

/**
 * An exact amount from a double the SDK parsed out of AWS's JSON: through its shortest
 * decimal text (String(1234.5678901234) is "1234.5678901234"), never through arithmetic.
 */
function amountOfDouble(value: number | undefined): Amount | undefined {
  const number = finite(value);
  return number === undefined ? undefined : parseAmount(String(number));
}

function finite(value: number | undefined): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
