/**
 * How AWS Budgets failures become coded errors with a sentence for the operator, with the
 * same codes the Cost Explorer cost source uses. The SDK error stays as `cause` for the
 * logs; AWS's own message text is never shown, since it can carry ARNs.
 */
import { FinOpsError } from '../../core/errors.js';

/** The IAM action DescribeBudgets is authorised by. */
export const DESCRIBE_BUDGETS_ACTION = 'budgets:ViewBudget';

interface SdkErrorLike {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
}

const THROTTLING = new Set(['ThrottlingException', 'TooManyRequestsException', 'LimitExceededException']);
const DENIED = new Set(['AccessDeniedException', 'UnrecognizedClientException', 'InvalidClientTokenId', 'ExpiredTokenException']);
const CREDENTIALS = new Set(['CredentialsProviderError', 'TokenProviderError']);
const NETWORK = new Set(['TimeoutError', 'RequestTimeout', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN']);
const BAD_TOKEN = new Set(['InvalidNextTokenException', 'ExpiredNextTokenException']);

/**
 * Turns a DescribeBudgets failure into a coded error with a sentence for the operator.
 * Called after the SDK's own retries are exhausted.
 */
export function mapBudgetsError(error: unknown): FinOpsError {
  const sdk = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorLike;
  const name = sdk.name ?? '';
  const cause = { cause: error };
  if (THROTTLING.has(name) || sdk.$retryable?.throttling === true || sdk.$metadata?.httpStatusCode === 429) {
    return new FinOpsError(
      'cost_source_throttled',
      'AWS Budgets is throttling requests (ThrottlingException); the bot will retry later.',
      cause,
    );
  }
  if (CREDENTIALS.has(name)) {
    return new FinOpsError(
      'cost_source_denied',
      'No AWS credentials were found for AWS Budgets: configure the standard AWS credential chain ' +
        '(environment variables, shared profile, or an instance/task role).',
      cause,
    );
  }
  if (DENIED.has(name)) {
    return new FinOpsError(
      'cost_source_denied',
      `AWS denied the AWS Budgets request (${name}): the bot's credentials need the IAM permission ` +
        `${DESCRIBE_BUDGETS_ACTION} to read the account's budgets, or they are invalid or expired.`,
      cause,
    );
  }
  if (BAD_TOKEN.has(name)) {
    return new FinOpsError(
      'cost_source_unavailable',
      `AWS Budgets refused its own page token (${name}) while the bot was reading the budgets; it will read them again later.`,
      cause,
    );
  }
  if (name === 'InvalidParameterException') {
    return new FinOpsError(
      'cost_source_unavailable',
      'AWS Budgets rejected the request (InvalidParameterException): check that the account id the bot was given ' +
        'is the 12-digit id of the account whose budgets it should read.',
      cause,
    );
  }
  if (sdk.$metadata?.httpStatusCode === undefined || NETWORK.has(name) || NETWORK.has(sdk.code ?? '')) {
    return new FinOpsError(
      'cost_source_unavailable',
      'AWS Budgets could not be reached (network error or timeout); the bot will try again later.',
      cause,
    );
  }
  return new FinOpsError(
    'cost_source_unavailable',
    `AWS Budgets could not answer the request (${name || 'unknown error'}, HTTP ${sdk.$metadata.httpStatusCode}).`,
    cause,
  );
}
