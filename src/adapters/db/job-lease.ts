/**
 * Expiring leases in the `job_leases` table: the way several instances agree that exactly
 * one of them runs a job. Taking a lease is one atomic upsert, so two instances can never
 * both hold it.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from './database.js';
import { jobLeases } from './schema.js';

/**
 * Takes the lease `name` for `holder` for `ttlMs`, unless another holder has it and it has
 * not expired. Returns true when `holder` now holds it.
 */
export async function acquireLease(db: Db, name: string, holder: string, ttlMs: number): Promise<boolean> {
  const expiresAt = sql`now() + ${`${Math.ceil(ttlMs / 1000)} seconds`}::interval`;
  const rows = await db
    .insert(jobLeases)
    .values({ name, holder, expiresAt })
    .onConflictDoUpdate({
      target: jobLeases.name,
      set: { holder, expiresAt },
      setWhere: sql`${jobLeases.expiresAt} < now() or ${jobLeases.holder} = ${holder}`,
    })
    .returning({ holder: jobLeases.holder });
  return rows[0]?.holder === holder;
}

/** Gives the lease back early (only if `holder` still holds it). */
export async function releaseLease(db: Db, name: string, holder: string): Promise<void> {
  await db.delete(jobLeases).where(and(eq(jobLeases.name, name), eq(jobLeases.holder, holder)));
}
