/**
 * The {@link DeliveryLedger} in PostgreSQL: a claim is one insert that either adds the key
 * or finds it there, atomic across instances. Keys older than a day are pruned now and
 * then; Slack gives up retrying after a few minutes.
 */
import { eq, lt } from 'drizzle-orm';
import type { DeliveryLedger } from '../../ports.js';
import type { Db } from './database.js';
import { HourlyPruner } from './pruning.js';
import { inboundDeliveries } from './schema.js';

const KEEP_MS = 24 * 60 * 60 * 1000;

/** Claims inbound deliveries in the `inbound_deliveries` table. */
export class PgDeliveryLedger implements DeliveryLedger {
  private readonly pruner: HourlyPruner;

  constructor(
    private readonly db: Db,
    onPruneError: (error: unknown) => void = () => undefined,
  ) {
    this.pruner = new HourlyPruner(KEEP_MS, (before) => this.forgetBefore(before), onPruneError);
  }

  async claim(key: string): Promise<boolean> {
    const rows = await this.db.insert(inboundDeliveries).values({ key }).onConflictDoNothing().returning({ key: inboundDeliveries.key });
    this.pruner.prune();
    return rows.length === 1;
  }

  async release(key: string): Promise<void> {
    await this.db.delete(inboundDeliveries).where(eq(inboundDeliveries.key, key));
  }

  /** Deletes claims received before `before`; returns how many. */
  async forgetBefore(before: Date): Promise<number> {
    const rows = await this.db.delete(inboundDeliveries).where(lt(inboundDeliveries.receivedAt, before)).returning({ key: inboundDeliveries.key });
    return rows.length;
  }
}
