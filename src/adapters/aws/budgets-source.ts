/**
 * AWS Budgets as an {@link AwsBudgetsSource}: every COST budget of one account (every page of
 * DescribeBudgets), with its limit, this period's actual and forecast spend, and the team it
 * is filtered on. Amounts arrive as decimal strings and are parsed exactly; SDK failures
 * become the same coded {@link FinOpsError}s as the Cost Explorer source's, naming the IAM
 * action `budgets:ViewBudget` when access is denied.
 *
 * DescribeBudgets needs the account id. It must be given (as a string, or as a function
 * resolved once, on the first read): looking it up with STS GetCallerIdentity would take the
 * `@aws-sdk/client-sts` package, which the bot does not depend on.
 *
 * Requests are not written to the paid-request ledger: DescribeBudgets is free, and every
 * row of that ledger is counted (and priced at USD 0.01) as a Cost Explorer request by
 * `status`. The shared `sendPaidRequest` helper would also explain failures as Cost
 * Explorer's (`ce:` permissions), so it is not reused here.
 */
import {
  BudgetsClient,
  DescribeBudgetsCommand,
  type Budget as SdkBudget,
  type BudgetsClientConfig,
  type DescribeBudgetsCommandOutput,
  type Expression,
  type Spend,
} from '@aws-sdk/client-budgets';
import { FinOpsError } from '../../core/errors.js';
import { parseAmount, type Amount } from '../../core/money.js';
import { mapBudgetsError } from './budgets-errors.js';
import { readAllPages } from './all-pages.js';
import { errorName } from './cost-explorer-errors.js';
import { DEFAULT_MAX_ATTEMPTS, type WarnLogger } from './cost-explorer-source.js';
import type { AwsBudget, AwsBudgetsSource } from '../../ports.js';

/** Budgets asked for per DescribeBudgets page (the API's maximum). */
export const BUDGETS_PAGE_SIZE = 100;

/** Most DescribeBudgets pages read for one call (5,000 budgets): a service that kept handing out tokens must not loop forever. */
export const MAX_BUDGET_PAGES = 50;

/** The cost-allocation tag whose value names a budget's team, unless configured otherwise. */
export const DEFAULT_TEAM_TAG = 'Team';

/** What {@link AwsBudgets} needs; only the account id is required. */
export interface AwsBudgetsOptions {
  /** A ready client (tests, custom config); otherwise {@link createBudgetsClient} builds one. */
  client?: BudgetsClient;
  /** The 12-digit id of the account whose budgets are read, or a function giving it (called once, on the first read). */
  accountId: string | (() => Promise<string>);
  /** The tag key a budget's team filter is on (default `Team`), as in `user:Team$payments`. */
  teamTag?: string;
  /** Attempts per request when the client is built here (default 5). */
  maxAttempts?: number;
  logger?: WarnLogger;
}

/**
 * Builds the AWS Budgets client with the bot's defaults: region us-east-1 (where the
 * Budgets endpoint of the aws partition lives), standard retries (which back off on
 * ThrottlingException) and bounded timeouts. The endpoint is left to the SDK, so
 * AWS_ENDPOINT_URL_BUDGETS / AWS_ENDPOINT_URL and the credential chain still apply;
 * anything in `overrides` wins.
 */
export function createBudgetsClient(overrides: BudgetsClientConfig = {}): BudgetsClient {
  return new BudgetsClient({
    region: 'us-east-1',
    maxAttempts: DEFAULT_MAX_ATTEMPTS,
    retryMode: 'standard',
    requestHandler: { requestTimeout: 30_000, connectionTimeout: 5_000 },
    ...overrides,
  });
}

const ACCOUNT_ID = /^\d{12}$/;

/** Reads the account's cost budgets from AWS Budgets; see the module comment. */
export class AwsBudgets implements AwsBudgetsSource {
  private readonly client: BudgetsClient;
  private readonly teamTag: string;
  private readonly logger: WarnLogger | undefined;
  private readonly accountIdSource: () => Promise<string>;
  private accountIdPromise: Promise<string> | undefined;

  constructor(options: AwsBudgetsOptions) {
    this.client =
      options.client ?? createBudgetsClient({ maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS });
    this.teamTag = stripUserPrefix(options.teamTag ?? DEFAULT_TEAM_TAG);
    this.logger = options.logger;
    const given = options.accountId;
    if (typeof given === 'string') {
      checkAccountId(given);
      this.accountIdSource = () => Promise.resolve(given);
    } else {
      this.accountIdSource = given;
    }
  }

  /** Every COST budget of the account, all pages; budgets of other types are left out. */
  async describeBudgets(): Promise<AwsBudget[]> {
    const accountId = await this.accountId();
    const wording = { service: 'AWS Budgets', items: 'budgets', maxPages: MAX_BUDGET_PAGES };
    const pages = await readAllPages(wording, (token, page) => this.getPage(accountId, token, page), (output) => output?.NextToken);
    // No page at all (the account has no budgets to describe): none.
    if (pages.some((output) => output === undefined)) return [];
    return pages.flatMap((output) => (output!.Budgets ?? []).map((item) => this.toAwsBudget(item)).filter((budget): budget is AwsBudget => budget !== undefined));
  }

  /** The account id, resolved once; a failed lookup is not remembered, so the next read tries again. */
  private accountId(): Promise<string> {
    this.accountIdPromise ??= this.lookUpAccountId().catch((error: unknown) => {
      this.accountIdPromise = undefined;
      throw error;
    });
    return this.accountIdPromise;
  }

  private async lookUpAccountId(): Promise<string> {
    let accountId: string;
    try {
      accountId = await this.accountIdSource();
    } catch (error) {
      if (error instanceof FinOpsError) throw error;
      throw new FinOpsError(
        'cost_source_unavailable',
        'The bot could not find out which AWS account to read budgets for; it will try again later.',
        { cause: error },
      );
    }
    checkAccountId(accountId);
    return accountId;
  }

  /** One page; undefined when AWS says the account has no budgets at all (NotFoundException on the first page). */
  private async getPage(
    accountId: string,
    token: string | undefined,
    page: number,
  ): Promise<DescribeBudgetsCommandOutput | undefined> {
    const command = new DescribeBudgetsCommand({
      AccountId: accountId,
      MaxResults: BUDGETS_PAGE_SIZE,
      ShowFilterExpression: true,
      ...(token === undefined ? {} : { NextToken: token }),
    });
    try {
      return await this.client.send(command);
    } catch (error) {
      if (page === 1 && errorName(error) === 'NotFoundException') return undefined;
      const mapped = mapBudgetsError(error);
      this.logger?.warn({ operation: 'DescribeBudgets', page, code: mapped.code, error: errorName(error) }, 'AWS Budgets request failed');
      throw mapped;
    }
  }

  /** A COST budget in our terms; undefined for other budget types and for budgets that cannot be read. */
  private toAwsBudget(item: SdkBudget): AwsBudget | undefined {
    if (item.BudgetType !== 'COST') return undefined;
    const name = item.BudgetName;
    const limitText = item.BudgetLimit?.Amount;
    if (!name || limitText === undefined || limitText === '') {
      this.logger?.warn({ budget: name }, 'skipped an AWS cost budget without a name or a limit');
      return undefined;
    }
    let limit: Amount;
    try {
      limit = parseAmount(limitText);
    } catch {
      this.logger?.warn({ budget: name }, 'skipped an AWS cost budget whose limit is not a decimal amount');
      return undefined;
    }
    const currency = item.BudgetLimit?.Unit || 'USD';
    return {
      name,
      limit,
      currency,
      actual: this.spendOf(item.CalculatedSpend?.ActualSpend, currency, name, 'actual'),
      forecast: this.spendOf(item.CalculatedSpend?.ForecastedSpend, currency, name, 'forecast'),
      timeUnit: item.TimeUnit ?? '',
      team: teamOf(item, this.teamTag),
    };
  }

  /** A spend figure in the limit's currency; undefined when absent, unreadable, or in another currency. */
  private spendOf(spend: Spend | undefined, currency: string, budget: string, kind: 'actual' | 'forecast'): Amount | undefined {
    if (spend?.Amount === undefined || spend.Amount === '') return undefined;
    if (spend.Unit && spend.Unit !== currency) {
      this.logger?.warn({ budget, kind, unit: spend.Unit, currency }, 'ignored an AWS budget spend in another currency than its limit');
      return undefined;
    }
    try {
      return parseAmount(spend.Amount);
    } catch {
      this.logger?.warn({ budget, kind }, 'ignored an AWS budget spend that is not a decimal amount');
      return undefined;
    }
  }
}

function checkAccountId(accountId: string): void {
  if (!ACCOUNT_ID.test(accountId)) {
    throw new FinOpsError(
      'config_invalid',
      'AWS Budgets needs the 12-digit id of the AWS account whose budgets the bot reads; the one given is not.',
    );
  }
}

const USER_PREFIX = 'user:';

function stripUserPrefix(key: string): string {
  return key.startsWith(USER_PREFIX) ? key.slice(USER_PREFIX.length) : key;
}

/**
 * The team a budget is filtered on: the one value of its filters on the team tag, from the
 * legacy CostFilters (`TagKeyValue: ['user:Team$payments']`) and from the FilterExpression
 * (`Tags: { Key: 'Team', Values: ['payments'] }`, alone or inside an And). None when the
 * filters name no value or several. Tag keys are matched case-sensitively, as AWS does. A
 * filter on the tag's absence (`user:Team$`, or MatchOptions ABSENT) gives '' (untagged spend).
 */
function teamOf(item: SdkBudget, teamTag: string): string | undefined {
  const values = new Set<string>();
  for (const entry of item.CostFilters?.TagKeyValue ?? []) {
    const value = tagValueOf(entry, teamTag);
    if (value !== undefined) values.add(value);
  }
  if (item.FilterExpression) collectTeamValues(item.FilterExpression, teamTag, values);
  if (values.size !== 1) return undefined;
  return [...values][0];
}

/** The value of a `user:Key$value` (or `Key$value`) cost filter entry when Key is the team tag. */
function tagValueOf(entry: string, teamTag: string): string | undefined {
  const separator = entry.indexOf('$');
  if (separator < 0) return undefined;
  return stripUserPrefix(entry.slice(0, separator)) === teamTag ? entry.slice(separator + 1) : undefined;
}

/** Match options under which a tag filter's values are the team (exact matches, whatever the case rule). */
const EXACT_MATCH = new Set(['EQUALS', 'CASE_SENSITIVE', 'CASE_INSENSITIVE']);

/**
 * Adds the team tag values an expression requires: those of a Tags leaf on the team tag,
 * directly or through And. Or and Not do not pin spend to one team, so they are not followed.
 */
function collectTeamValues(expression: Expression, teamTag: string, into: Set<string>): void {
  const tags = expression.Tags;
  if (tags?.Key !== undefined && stripUserPrefix(tags.Key) === teamTag) {
    const options = tags.MatchOptions ?? [];
    if (options.includes('ABSENT')) into.add('');
    else if (options.every((option) => EXACT_MATCH.has(option))) for (const value of tags.Values ?? []) into.add(value);
  }
  for (const child of expression.And ?? []) collectTeamValues(child, teamTag, into);
}
