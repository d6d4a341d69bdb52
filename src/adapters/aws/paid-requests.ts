/**
 * Paid Cost Explorer requests (USD 0.01 each, every page and every API of the service):
 * sent, written to the paid-request ledger, and explained when they fail, the same way by
 * every adapter that calls Cost Explorer.
 */
import type { ApiRequestLedger, ApiRequestRecord, Clock } from '../../ports.js';
import { attemptsOf, type CostExplorerOperation, errorName, mapCostExplorerError } from './cost-explorer-errors.js';

/** Where warnings go (a pino logger fits). */
export interface WarnLogger {
  warn(obj: object, msg: string): void;
}

/** Where a paid Cost Explorer request is accounted for: the ledger, the time, and the log. */
export interface PaidRequestContext {
  readonly ledger: ApiRequestLedger;
  readonly clock: Clock;
  readonly logger: WarnLogger | undefined;
}

/**
 * Sends one paid Cost Explorer request, writes it to the ledger (attempts from the SDK's
 * `$metadata`, outcome ok / throttled / error) and turns a failure into a coded FinOpsError.
 * Shared so every Cost Explorer adapter bills and explains requests the same way.
 */
export async function sendPaidRequest<T extends { $metadata: { attempts?: number } }>(
  context: PaidRequestContext,
  operation: CostExplorerOperation,
  detail: string,
  call: () => Promise<T>,
): Promise<T> {
  let output: T;
  try {
    output = await call();
  } catch (error) {
    const mapped = mapCostExplorerError(error, operation);
    const outcome = mapped.code === 'cost_source_throttled' ? 'throttled' : 'error';
    await recordPaidRequest(context, { at: context.clock.now(), operation, attempts: attemptsOf(error), outcome, detail });
    context.logger?.warn({ operation, detail, code: mapped.code, error: errorName(error) }, 'Cost Explorer request failed');
    throw mapped;
  }
  const attempts = output.$metadata?.attempts ?? 1;
  await recordPaidRequest(context, { at: context.clock.now(), operation, attempts, outcome: 'ok', detail });
  return output;
}

/** Writes a ledger entry; a ledger failure must not turn a paid, successful answer into an error, so it is logged. */
export async function recordPaidRequest(context: PaidRequestContext, entry: ApiRequestRecord): Promise<void> {
  try {
    await context.ledger.record(entry);
  } catch (error) {
    context.logger?.warn({ operation: entry.operation, error: errorName(error) }, 'could not record a Cost Explorer request');
  }
}
