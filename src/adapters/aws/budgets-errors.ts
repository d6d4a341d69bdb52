/**
 * How AWS Budgets failures become coded errors with a sentence for the operator, with the
 * same codes and wording the Cost Explorer cost source uses (aws-errors.ts). The SDK error stays as `cause` for the
 * logs; AWS's own message text is never shown, since it can carry ARNs.
 */
import { FinOpsError } from '../../core/errors.js';
import { mapAwsError } from './aws-errors.js';

/** The IAM action DescribeBudgets is authorised by. */
export const DESCRIBE_BUDGETS_ACTION = 'budgets:ViewBudget';

const BAD_TOKEN = new Set(['InvalidNextTokenException', 'ExpiredNextTokenException']);

/**
 * Turns a DescribeBudgets failure into a coded error with a sentence for the operator.
 * Called after the SDK's own retries are exhausted.
 */
export function mapBudgetsError(error: unknown): FinOpsError {
  const wording = {
    fullName: 'AWS Budgets',
    shortName: 'AWS Budgets',
    throttleName: 'ThrottlingException',
    permission: `${DESCRIBE_BUDGETS_ACTION} to read the account's budgets`,
  };
  return mapAwsError(error, wording, (name, cause) => {
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
    return undefined;
  });
}
