/**
 * How EC2 failures read: a sentence per error name (a missing permission names the IAM
 * action), never AWS's own message text, which can carry ARNs.
 */
import type { InstanceChange } from '../../ports.js';
import { CREDENTIALS, type SdkErrorLike } from './aws-errors.js';

/** The EC2 calls the executor makes. */
export type Ec2Operation = 'DescribeInstances' | 'StopInstances' | 'ModifyInstanceAttribute' | 'StartInstances';

/** The SDK error's name (what the sentences and logs go by). */
export function nameOf(error: unknown): string {
  return (typeof error === 'object' && error !== null ? (error as SdkErrorLike).name : undefined) ?? 'unknown error';
}

/** A sentence for an EC2 failure, from the error's name and never from AWS's message text. */
export function explain(operation: Ec2Operation, error: unknown, change: InstanceChange): string {
  const sdk = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorLike;
  const name = nameOf(error);
  if (name === 'UnauthorizedOperation' || name === 'AuthFailure') {
    return `EC2 refused ${operation} (${name}): the bot's role needs the IAM permission ec2:${operation}.`;
  }
  if (CREDENTIALS.has(name)) return `No AWS credentials were found for EC2 (${operation}): configure the standard AWS credential chain.`;
  if (name === 'InvalidInstanceID.NotFound' || name === 'InvalidInstanceID.Malformed') {
    return `EC2 has no instance ${change.instanceId} in ${change.region} (${name}).`;
  }
  if (name === 'IncorrectInstanceState') return `EC2 refused ${operation}: the instance is not in a state that allows it (${name}).`;
  if (name === 'InsufficientInstanceCapacity') return `EC2 refused ${operation}: AWS has no capacity for this instance type in its zone right now (${name}).`;
  if (name === 'RequestLimitExceeded' || sdk.$retryable?.throttling === true) return `EC2 is throttling requests (${name}); try ${operation} again later.`;
  if (sdk.$metadata?.httpStatusCode === undefined) return `EC2 could not be reached for ${operation} (${name}: network error or timeout).`;
  return `EC2 refused ${operation} (${name}).`;
}
