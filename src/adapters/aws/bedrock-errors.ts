/**
 * How Amazon Bedrock failures become coded errors with a sentence for the user. The SDK
 * error stays as `cause` for the logs; AWS's own message text is never shown (it can carry
 * ARNs and account ids), and neither are credentials or the request.
 */
import { FinOpsError, isFinOpsError } from '../../core/errors.js';

interface SdkErrorLike {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
}

const THROTTLED = new Set(['ThrottlingException', 'TooManyRequestsException', 'ServiceQuotaExceededException']);
const UNAVAILABLE = new Set([
  'ServiceUnavailableException',
  'InternalServerException',
  'ModelTimeoutException',
  'ModelNotReadyException',
  'ModelStreamErrorException',
  'ModelErrorException',
]);
const CREDENTIALS = new Set(['CredentialsProviderError', 'TokenProviderError']);
const BAD_CREDENTIALS = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignatureException',
  'InvalidClientTokenId',
  'ExpiredTokenException',
  'MissingAuthenticationTokenException',
]);

/** Where a denied request sends the operator. */
function deniedHint(modelId: string): string {
  return (
    `Check BEDROCK_MODEL_ID (now "${modelId}"), that access to the model is enabled in this account and region, ` +
    `and that the bot's IAM identity may call bedrock:InvokeModel and bedrock:InvokeModelWithResponseStream on it.`
  );
}

/**
 * Turns a Bedrock failure into a coded error: `model_throttled`, `model_unavailable`
 * (5xx, model timeouts, network errors, timeouts, cancellation) or `model_denied`
 * (access, validation, unknown model, credentials). Called after the SDK's own retries;
 * `aborted` says the caller's signal fired, whatever the error looks like.
 */
export function mapBedrockError(error: unknown, modelId: string, options: { aborted?: boolean } = {}): FinOpsError {
  if (isFinOpsError(error)) return error;
  const cancelled = () =>
    new FinOpsError('model_unavailable', `The request to Amazon Bedrock (model ${modelId}) was cancelled or timed out.`, { cause: error });
  // A stream cut by the caller's signal just ends (or fails) without saying why.
  if (options.aborted === true) return cancelled();
  const sdk = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorLike;
  const name = sdk.name ?? '';
  const status = sdk.$metadata?.httpStatusCode;
  const cause = { cause: error };
  const denied = (reason: string) => new FinOpsError('model_denied', `${reason} ${deniedHint(modelId)}`, cause);
  const unavailable = () =>
    new FinOpsError('model_unavailable', `Amazon Bedrock could not answer with model ${modelId} right now (${name || `HTTP ${status}`}); try again in a moment.`, cause);

  if (THROTTLED.has(name)) return throttled(cause);
  if (UNAVAILABLE.has(name)) return unavailable();
  if (CREDENTIALS.has(name)) {
    return new FinOpsError(
      'model_denied',
      `No AWS credentials were found for Amazon Bedrock (model ${modelId}): configure the standard AWS credential chain ` +
        '(environment variables, shared profile, or an instance/task role).',
      cause,
    );
  }
  if (name === 'AccessDeniedException') return denied(`Amazon Bedrock denied access to model ${modelId} (AccessDeniedException).`);
  if (name === 'ResourceNotFoundException') return denied(`Amazon Bedrock does not know model ${modelId} in this region (ResourceNotFoundException).`);
  if (name === 'ValidationException') {
    return denied(
      `Amazon Bedrock rejected the request to model ${modelId} (ValidationException): the model may not support the Converse API ` +
        'with tools, or may need an inference profile id (us.…, eu.…, global.…) instead of its foundation model id.',
    );
  }
  if (BAD_CREDENTIALS.has(name)) return denied(`AWS did not accept the bot's credentials for model ${modelId} (${name}): they are invalid or expired.`);
  if (name === 'AbortError') return cancelled();
  if (status === 429 || sdk.$retryable?.throttling === true) return throttled(cause);
  if (status !== undefined && status >= 500) return unavailable();
  if (status !== undefined && status >= 400) return denied(`Amazon Bedrock refused the request to model ${modelId} (${name || 'unknown error'}, HTTP ${status}).`);
  if (status === undefined && /region is missing/i.test(sdk.message ?? '')) {
    return new FinOpsError('model_denied', `No AWS region is configured for Amazon Bedrock (model ${modelId}): set AWS_REGION.`, cause);
  }
  if (status === undefined) {
    // No HTTP answer: connection refused or reset, DNS, a timeout (TimeoutError), a stream cut short.
    return new FinOpsError(
      'model_unavailable',
      `Amazon Bedrock could not be reached, or did not answer in time, for model ${modelId} (network error or timeout); try again in a moment.`,
      cause,
    );
  }
  return unavailable();
}

function throttled(cause: { cause: unknown }): FinOpsError {
  return new FinOpsError('model_throttled', 'Amazon Bedrock is throttling requests right now.', cause);
}
