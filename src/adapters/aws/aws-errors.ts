/**
 * How AWS SDK failures become coded errors with a sentence for the operator, for every AWS
 * service the bot calls: throttling, missing or refused credentials, the network, and
 * anything else. The SDK error stays as `cause` for the logs; AWS's own message text is
 * never shown, since it can carry ARNs. Each service adds its own cases in `special`.
 */
import { FinOpsError } from '../../core/errors.js';

/** The parts of an SDK error the mapping reads. */
export interface SdkErrorLike {
  name?: string;
  code?: string;
  $metadata?: { attempts?: number; httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
}

/** How a service is named in the sentences. */
export interface AwsServiceWording {
  /** "AWS Cost Explorer": the subject of a sentence. */
  readonly fullName: string;
  /** "Cost Explorer": as in "the Cost Explorer request". */
  readonly shortName: string;
  /** The error name a throttled request carries for this service. */
  readonly throttleName: string;
  /** The IAM permission the request needs, as the denied sentence names it. */
  readonly permission: string;
}

const THROTTLING = new Set(['LimitExceededException', 'ThrottlingException', 'TooManyRequestsException']);
const DENIED = new Set(['AccessDeniedException', 'UnrecognizedClientException', 'InvalidClientTokenId', 'ExpiredTokenException']);
/** Errors of the credential chain: nothing was sent. */
export const CREDENTIALS = new Set(['CredentialsProviderError', 'TokenProviderError']);
const NETWORK = new Set(['TimeoutError', 'RequestTimeout', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Turns an SDK failure into a coded error with a sentence. `special` may answer first for
 * the service's own error names (after throttling and credentials are ruled out).
 * Called after the SDK's own retries are exhausted.
 */
export function mapAwsError(error: unknown, service: AwsServiceWording, special?: (name: string, cause: { cause: unknown }) => FinOpsError | undefined): FinOpsError {
  const sdk = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorLike;
  const name = sdk.name ?? '';
  const cause = { cause: error };
  if (THROTTLING.has(name) || sdk.$retryable?.throttling === true || sdk.$metadata?.httpStatusCode === 429) {
    return new FinOpsError('cost_source_throttled', `${service.fullName} is throttling requests (${service.throttleName}); the bot will retry later.`, cause);
  }
  if (CREDENTIALS.has(name)) {
    return new FinOpsError(
      'cost_source_denied',
      `No AWS credentials were found for ${service.shortName}: configure the standard AWS credential chain ` +
        '(environment variables, shared profile, or an instance/task role).',
      cause,
    );
  }
  if (DENIED.has(name)) {
    return new FinOpsError(
      'cost_source_denied',
      `AWS denied the ${service.shortName} request (${name}): the bot's credentials need the IAM permission ${service.permission}, or they are invalid or expired.`,
      cause,
    );
  }
  const own = special?.(name, cause);
  if (own) return own;
  if (sdk.$metadata?.httpStatusCode === undefined || NETWORK.has(name) || NETWORK.has(sdk.code ?? '')) {
    return new FinOpsError('cost_source_unavailable', `${service.fullName} could not be reached (network error or timeout); the bot will try again later.`, cause);
  }
  return new FinOpsError(
    'cost_source_unavailable',
    `${service.fullName} could not answer the request (${name || 'unknown error'}, HTTP ${sdk.$metadata.httpStatusCode}).`,
    cause,
  );
}
