/**
 * How Cost Explorer failures become coded errors with a sentence for the operator. The SDK
 * error stays as `cause` for the logs; AWS's own message text is never shown, since it can
 * carry ARNs.
 */
import { FinOpsError } from '../../core/errors.js';

/** Cost Explorer operations the bot calls (each request costs USD 0.01). */
export type CostExplorerOperation = 'GetCostAndUsage' | 'GetCostForecast' | 'GetDimensionValues';

interface SdkErrorLike {
  name?: string;
  code?: string;
  $metadata?: { attempts?: number; httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
}

/** The SDK error's name, for logs. */
export function errorName(error: unknown): string {
  return (error as SdkErrorLike | undefined)?.name ?? typeof error;
}

/** Attempts behind a failure; none when credentials were missing (nothing was sent, nothing billed). */
export function attemptsOf(error: unknown): number {
  const sdk = error as SdkErrorLike | undefined;
  return sdk?.$metadata?.attempts ?? (CREDENTIALS.has(sdk?.name ?? '') ? 0 : 1);
}

const THROTTLING = new Set(['LimitExceededException', 'ThrottlingException', 'TooManyRequestsException']);
const DENIED = new Set(['AccessDeniedException', 'UnrecognizedClientException', 'InvalidClientTokenId', 'ExpiredTokenException']);
const CREDENTIALS = new Set(['CredentialsProviderError', 'TokenProviderError']);
const NETWORK = new Set(['TimeoutError', 'RequestTimeout', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Turns an SDK failure into a coded error with a sentence for the operator; the SDK error
 * stays as `cause` for the logs. Called after the SDK's own retries are exhausted.
 */
export function mapCostExplorerError(error: unknown, operation: CostExplorerOperation): FinOpsError {
  const sdk = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorLike;
  const name = sdk.name ?? '';
  const cause = { cause: error };
  if (THROTTLING.has(name) || sdk.$retryable?.throttling === true || sdk.$metadata?.httpStatusCode === 429) {
    return new FinOpsError(
      'cost_source_throttled',
      'AWS Cost Explorer is throttling requests (LimitExceededException); the bot will retry later.',
      cause,
    );
  }
  if (CREDENTIALS.has(name)) {
    return new FinOpsError(
      'cost_source_denied',
      'No AWS credentials were found for Cost Explorer: configure the standard AWS credential chain ' +
        '(environment variables, shared profile, or an instance/task role).',
      cause,
    );
  }
  if (DENIED.has(name)) {
    return new FinOpsError(
      'cost_source_denied',
      `AWS denied the Cost Explorer request (${name}): the bot's credentials need the IAM permission ` +
        `ce:${operation}, or they are invalid or expired.`,
      cause,
    );
  }
  if (name === 'DataUnavailableException') {
    return new FinOpsError(
      'cost_source_unavailable',
      operation === 'GetCostForecast'
        ? 'AWS Cost Explorer has too little cost history to forecast this period yet.'
        : 'AWS Cost Explorer has no data for this period yet (it can take up to 24 hours after Cost Explorer is enabled).',
      cause,
    );
  }
  if (sdk.$metadata?.httpStatusCode === undefined || NETWORK.has(name) || NETWORK.has(sdk.code ?? '')) {
    return new FinOpsError(
      'cost_source_unavailable',
      'AWS Cost Explorer could not be reached (network error or timeout); the bot will try again later.',
      cause,
    );
  }
  return new FinOpsError(
    'cost_source_unavailable',
    `AWS Cost Explorer could not answer the request (${name || 'unknown error'}, HTTP ${sdk.$metadata.httpStatusCode}).`,
    cause,
  );
}
