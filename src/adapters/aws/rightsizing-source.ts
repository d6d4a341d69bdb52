/**
 * Cost Explorer's EC2 rightsizing recommendations as a {@link RightsizingSource}: every page
 * of GetRightsizingRecommendation (same instance family, Savings Plans and RI benefits
 * considered), each turned into a {@link RightsizingCandidate}. Every page is a paid Cost
 * Explorer request (USD 0.01), so each one is sent through the shared paid-request sender,
 * which writes it to the ledger and turns SDK failures into coded {@link FinOpsError}s
 * (naming `ce:GetRightsizingRecommendation` when access is denied).
 *
 * What the API model does not say, and this module copes with:
 * - `EC2ResourceDetails.Region` carries the region's *name* ("US East (N. Virginia)"), not its
 *   code; names are mapped to codes with {@link regionCodeOf}, unknown text is kept as is.
 * - `RightsizingType` is `MODIFY` | `TERMINATE` in the model, `Modify` | `Terminate` in
 *   published responses; both are accepted.
 * - `LookbackPeriodInDays` sits in the response's `Metadata`, and its enum has no 14 days
 *   (AWS's default for rightsizing), so 14 is also the fallback.
 * - Amounts and utilisation percentages are decimal strings; amounts are parsed exactly.
 */
import {
  CostExplorerClient,
  GetRightsizingRecommendationCommand,
  type GetRightsizingRecommendationCommandOutput,
  type RightsizingRecommendation,
  type TagValues,
} from '@aws-sdk/client-cost-explorer';
import { FinOpsError } from '../../core/errors.js';
import { parseAmount, type Amount } from '../../core/money.js';
import { createCostExplorerClient, DEFAULT_MAX_ATTEMPTS } from './cost-explorer-source.js';
import { DEFAULT_TEAM_TAG } from './budgets-source.js';
import { type PaidRequestContext, sendPaidRequest, type WarnLogger } from './paid-requests.js';
import { readAllPages } from './all-pages.js';
import type { ApiRequestLedger, Clock, RightsizingCandidate, RightsizingSource } from '../../ports.js';

/** Recommendations asked for per page: fewer pages, fewer paid requests. */
export const RIGHTSIZING_PAGE_SIZE = 100;

/**
 * Most GetRightsizingRecommendation pages read for one sync (5,000 instances at
 * {@link RIGHTSIZING_PAGE_SIZE}). Each page costs money, so a service that kept handing out
 * tokens must not run up a bill.
 */
export const MAX_RIGHTSIZING_PAGES = 50;

/** Days of utilisation AWS bases rightsizing on by default, used when a response names none. */
export const DEFAULT_LOOKBACK_DAYS = 14;

const LOOKBACK_DAYS: Readonly<Record<string, number>> = { SEVEN_DAYS: 7, FOURTEEN_DAYS: 14, THIRTY_DAYS: 30, SIXTY_DAYS: 60 };

/**
 * Commercial AWS regions by the names billing uses for them (the AWS Pricing "location"
 * names, which Cost Explorer reports in rightsizing), so EC2 can be called in the right region.
 */
export const REGION_CODES: Readonly<Record<string, string>> = {
  'US East (N. Virginia)': 'us-east-1', 'US East (Ohio)': 'us-east-2', 'US West (N. California)': 'us-west-1', 'US West (Oregon)': 'us-west-2',
  'Africa (Cape Town)': 'af-south-1',
  'Asia Pacific (Hong Kong)': 'ap-east-1', 'Asia Pacific (Taipei)': 'ap-east-2',
  'Asia Pacific (Mumbai)': 'ap-south-1', 'Asia Pacific (Hyderabad)': 'ap-south-2',
  'Asia Pacific (Tokyo)': 'ap-northeast-1', 'Asia Pacific (Seoul)': 'ap-northeast-2', 'Asia Pacific (Osaka)': 'ap-northeast-3', 'Asia Pacific (Osaka-Local)': 'ap-northeast-3',
  'Asia Pacific (Singapore)': 'ap-southeast-1', 'Asia Pacific (Sydney)': 'ap-southeast-2', 'Asia Pacific (Jakarta)': 'ap-southeast-3',
  'Asia Pacific (Melbourne)': 'ap-southeast-4', 'Asia Pacific (Malaysia)': 'ap-southeast-5', 'Asia Pacific (New Zealand)': 'ap-southeast-6', 'Asia Pacific (Thailand)': 'ap-southeast-7',
  'Canada (Central)': 'ca-central-1', 'Canada West (Calgary)': 'ca-west-1',
  'EU (Frankfurt)': 'eu-central-1', 'EU (Zurich)': 'eu-central-2',
  'EU (Ireland)': 'eu-west-1', 'EU (London)': 'eu-west-2', 'EU (Paris)': 'eu-west-3',
  'EU (Milan)': 'eu-south-1', 'EU (Spain)': 'eu-south-2', 'EU (Stockholm)': 'eu-north-1',
  'Israel (Tel Aviv)': 'il-central-1',
  'Mexico (Central)': 'mx-central-1',
  'Middle East (Bahrain)': 'me-south-1', 'Middle East (UAE)': 'me-central-1',
  'South America (Sao Paulo)': 'sa-east-1',
};

/** Lookup keys: lower case, accents dropped, "Europe (…)" as "EU (…)" (the console's spelling). */
const normalise = (name: string): string =>
  name.normalize('NFD').replace(/\p{Diacritic}/gu, '').trim().toLowerCase().replace(/^europe \(/, 'eu (').replace(/\s+/g, ' ');
const BY_NAME = new Map(Object.entries(REGION_CODES).map(([name, code]) => [normalise(name), code]));
const REGION_CODE = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/**
 * The region code for a region name Cost Explorer reports ("US East (N. Virginia)" →
 * "us-east-1"); a code is returned as it is, and unknown text is kept unchanged.
 */
export function regionCodeOf(name: string): string {
  const text = name.trim();
  if (REGION_CODE.test(text)) return text;
  return BY_NAME.get(normalise(text)) ?? text;
}

/** What {@link AwsRightsizingSource} needs; only the ledger is required (as for the other Cost Explorer adapters). */
export interface AwsRightsizingSourceOptions {
  /** A ready client (tests, custom config); otherwise {@link createCostExplorerClient} builds one. */
  client?: CostExplorerClient;
  ledger: ApiRequestLedger;
  clock?: Clock;
  /** The tag key naming an instance's team (default `Team`; matched ignoring case, with or without `user:`). */
  teamTag?: string;
  /** Attempts per request when the client is built here (default 5). */
  maxAttempts?: number;
  logger?: WarnLogger;
}

/** Reads Cost Explorer's EC2 rightsizing recommendations; see the module comment. */
export class AwsRightsizingSource implements RightsizingSource {
  private readonly client: CostExplorerClient;
  private readonly context: PaidRequestContext;
  private readonly teamTag: string;

  constructor(options: AwsRightsizingSourceOptions) {
    this.client =
      options.client ?? createCostExplorerClient({ maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS });
    this.context = {
      ledger: options.ledger,
      clock: options.clock ?? { now: () => new Date() },
      logger: options.logger,
    };
    this.teamTag = options.teamTag ?? DEFAULT_TEAM_TAG;
  }

  /** Every page of recommendations, each page paid for and ledgered; unusable ones are skipped with one warning. */
  async getRecommendations(): Promise<RightsizingCandidate[]> {
    const candidates: RightsizingCandidate[] = [];
    const skipped = new Map<string, number>();
    const wording = { service: 'AWS Cost Explorer', items: 'rightsizing recommendations', token: 'rightsizing page token', maxPages: MAX_RIGHTSIZING_PAGES };
    for (const output of await readAllPages(wording, (token, page) => this.getPage(token, page), (output) => output.NextPageToken)) {
      const lookbackDays = LOOKBACK_DAYS[output.Metadata?.LookbackPeriodInDays ?? ''] ?? DEFAULT_LOOKBACK_DAYS;
      for (const item of output.RightsizingRecommendations ?? []) {
        const result = toCandidate(item, this.teamTag, lookbackDays);
        if (typeof result === 'string') skipped.set(result, (skipped.get(result) ?? 0) + 1);
        else candidates.push(result);
      }
    }
    if (skipped.size > 0) {
      const count = [...skipped.values()].reduce((a, b) => a + b, 0);
      this.context.logger?.warn({ skipped: count, reasons: Object.fromEntries(skipped) }, `skipped ${count} unusable rightsizing recommendation(s)`);
    }
    return candidates;
  }

  private getPage(token: string | undefined, page: number): Promise<GetRightsizingRecommendationCommandOutput> {
    const command = new GetRightsizingRecommendationCommand({
      Service: 'AmazonEC2',
      Configuration: { RecommendationTarget: 'SAME_INSTANCE_FAMILY', BenefitsConsidered: true },
      PageSize: RIGHTSIZING_PAGE_SIZE,
      ...(token === undefined ? {} : { NextPageToken: token }),
    });
    return sendPaidRequest(this.context, 'GetRightsizingRecommendation', `RIGHTSIZING AmazonEC2 page ${page}`, () =>
      this.client.send(command),
    );
  }
}

/** One recommendation in our terms, or why it was skipped. */
function toCandidate(item: RightsizingRecommendation, teamTag: string, lookbackDays: number): RightsizingCandidate | string {
  const current = item.CurrentInstance;
  const details = current?.ResourceDetails?.EC2ResourceDetails;
  const instanceId = current?.ResourceId?.trim();
  const currentType = details?.InstanceType?.trim();
  if (!instanceId) return 'no instance id';
  if (!currentType) return 'no instance type';
  const kind = item.RightsizingType?.toUpperCase();
  let action: RightsizingCandidate['action'];
  let targetType: string | undefined;
  let savingsText: string | undefined;
  let detailCurrency: string | undefined;
  if (kind === 'MODIFY') {
    const targets = item.ModifyRecommendationDetail?.TargetInstances ?? [];
    const target = targets.find((t) => t.DefaultTargetInstance === true) ?? targets[0];
    targetType = target?.ResourceDetails?.EC2ResourceDetails?.InstanceType?.trim();
    if (!targetType) return 'no target instance type';
    action = 'modify';
    savingsText = target?.EstimatedMonthlySavings;
    detailCurrency = target?.CurrencyCode;
  } else if (kind === 'TERMINATE') {
    action = 'terminate';
    savingsText = item.TerminateRecommendationDetail?.EstimatedMonthlySavings;
    detailCurrency = item.TerminateRecommendationDetail?.CurrencyCode;
  } else {
    return 'unknown rightsizing type';
  }
  const monthlySavings = amountOf(savingsText);
  const currentMonthlyCost = amountOf(current?.MonthlyCost);
  if (monthlySavings === undefined) return 'no estimated saving';
  if (currentMonthlyCost === undefined) return 'no monthly cost';
  const accountId = item.AccountId?.trim() ?? '';
  const utilisation = current?.ResourceUtilization?.EC2ResourceUtilization;
  return {
    key: `${accountId}:${instanceId}:${currentType}>${targetType ?? 'stop'}`,
    accountId,
    region: regionCodeOf(details?.Region ?? ''),
    instanceId,
    instanceName: current?.InstanceName?.trim() || tagValue(current?.Tags, 'Name') || undefined,
    team: tagValue(current?.Tags, teamTag) ?? '',
    action,
    currentType,
    targetType,
    cpuMaxPercent: percentOf(utilisation?.MaxCpuUtilizationPercentage),
    memoryMaxPercent: percentOf(utilisation?.MaxMemoryUtilizationPercentage),
    currentMonthlyCost,
    monthlySavings,
    currency: current?.CurrencyCode?.trim() || detailCurrency?.trim() || 'USD',
    lookbackDays,
  };
}

/** The first value of tag `key` (ignoring case and a `user:` prefix); undefined when absent or empty. */
function tagValue(tags: readonly TagValues[] | undefined, key: string): string | undefined {
  const wanted = key.toLowerCase();
  const tag = tags?.find((t) => t.Key !== undefined && t.Key.toLowerCase().replace(/^user:/, '') === wanted);
  return tag?.Values?.find((value) => value.trim() !== '')?.trim();
}

/** An exact amount from AWS's decimal text; undefined when absent or not a number. */
function amountOf(text: string | undefined): Amount | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  try {
    return parseAmount(text);
  } catch {
    return undefined;
  }
}

/** A percentage from AWS's text ("12.5"); undefined when absent, empty or not a number. */
function percentOf(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}
