/**
 * How Cost Explorer failures become coded errors with a sentence for the operator. The SDK
 * error stays as `cause` for the logs; AWS's own message text is never shown, since it can
 * carry ARNs.
 */
import { FinOpsError } from '../../core/errors.js';
import { CREDENTIALS, mapAwsError, type SdkErrorLike } from './aws-errors.js';

/** Cost Explorer operations the bot calls (each request costs USD 0.01). */
export type CostExplorerOperation = 'GetCostAndUsage' | 'GetCostForecast' | 'GetDimensionValues' | 'GetAnomalies' | 'ProvideAnomalyFeedback' | 'GetRightsizingRecommendation';

/** The SDK error's name, for logs. */
export function errorName(error: unknown): string {
  return (error as SdkErrorLike | undefined)?.name ?? typeof error;
}

/** Attempts behind a failure; none when credentials were missing (nothing was sent, nothing billed). */
export function attemptsOf(error: unknown): number {
  const sdk = error as SdkErrorLike | undefined;
  return sdk?.$metadata?.attempts ?? (CREDENTIALS.has(sdk?.name ?? '') ? 0 : 1);
}

/**
 * Turns an SDK failure into a coded error with a sentence for the operator; the SDK error
 * stays as `cause` for the logs. Called after the SDK's own retries are exhausted.
 */
export function mapCostExplorerError(error: unknown, operation: CostExplorerOperation): FinOpsError {
  const wording = { fullName: 'AWS Cost Explorer', shortName: 'Cost Explorer', throttleName: 'LimitExceededException', permission: `ce:${operation}` };
  return mapAwsError(error, wording, (name, cause) =>
    name === 'DataUnavailableException'
      ? new FinOpsError(
          'cost_source_unavailable',
          operation === 'GetCostForecast'
            ? 'AWS Cost Explorer has too little cost history to forecast this period yet.'
            : 'AWS Cost Explorer has no data for this period yet (it can take up to 24 hours after Cost Explorer is enabled).',
          cause,
        )
      : undefined,
  );
}
