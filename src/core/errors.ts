/**
 * Coded errors: one class, a string code per failure, and data for the sentence the user
 * sees. Adapters turn SDK and driver exceptions into these (keeping the original in
 * `cause`); one place in the app turns them into words.
 */

/** Every failure the bot knows how to explain. */
export type ErrorCode =
  | 'config_invalid'
  | 'command_unknown'
  | 'command_invalid'
  | 'cost_source_throttled'
  | 'cost_source_denied'
  | 'cost_source_unavailable'
  | 'database_unavailable'
  | 'no_data'
  | 'model_throttled'
  | 'model_unavailable'
  | 'model_denied';

/** An error with a code and a message written for the person who will read it. */
export class FinOpsError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'FinOpsError';
  }
}

/** True when `error` is a {@link FinOpsError} (optionally with the given code). */
export function isFinOpsError(error: unknown, code?: ErrorCode): error is FinOpsError {
  return error instanceof FinOpsError && (code === undefined || error.code === code);
}

/**
 * A chat platform refused a delivery. `permanent` failures (bot removed, channel archived)
 * need a person; the others (rate limits, outages) are worth retrying.
 */
export class DeliveryError extends Error {
  constructor(
    readonly code: string,
    readonly permanent: boolean,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DeliveryError';
  }
}
