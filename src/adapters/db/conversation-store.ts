/**
 * The memory of AI conversations in the `ai_conversation_turns` table. Every instance reads
 * and writes the same rows, so a follow-up in a thread is answered with its history
 * whichever instance receives it. Turns older than 30 days are pruned now and then.
 */
import { desc, eq, lt, sql } from 'drizzle-orm';
import type { ConversationStore, ConversationTurn } from '../../ports.js';
import type { Db } from './database.js';
import { HourlyPruner } from './pruning.js';
import { aiConversationTurns } from './schema.js';

const KEEP_MS = 30 * 24 * 60 * 60 * 1000;

/** Conversation turns in PostgreSQL (or PGlite). */
export class PgConversationStore implements ConversationStore {
  private readonly pruner: HourlyPruner;

  constructor(
    private readonly db: Db,
    onPruneError: (error: unknown) => void = () => undefined,
  ) {
    this.pruner = new HourlyPruner(KEEP_MS, (before) => this.forgetBefore(before), onPruneError);
  }

  async recent(key: string, limit: number): Promise<ConversationTurn[]> {
    if (limit <= 0) return [];
    const rows = await this.db
      .select({ role: aiConversationTurns.role, text: aiConversationTurns.text, at: aiConversationTurns.at })
      .from(aiConversationTurns)
      .where(eq(aiConversationTurns.conversationKey, key))
      .orderBy(desc(aiConversationTurns.id))
      .limit(Math.floor(limit));
    return rows.reverse().map((row) => ({ role: row.role as ConversationTurn['role'], text: row.text, at: row.at }));
  }

  async append(key: string, turns: readonly ConversationTurn[]): Promise<void> {
    if (turns.length > 0) {
      // Concurrent inserts draw identity numbers turn by turn, so two appends to one
      // conversation could interleave: a transaction-scoped lock on the key keeps each batch
      // together (transaction locks, unlike session ones, are fine through RDS Proxy).
      await this.db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`);
        await tx.insert(aiConversationTurns).values(turns.map((turn) => ({ conversationKey: key, role: turn.role, text: turn.text, at: turn.at })));
      });
    }
    this.pruner.prune();
  }

  /** Deletes turns made before `before`; returns how many. */
  async forgetBefore(before: Date): Promise<number> {
    const rows = await this.db.delete(aiConversationTurns).where(lt(aiConversationTurns.at, before)).returning({ id: aiConversationTurns.id });
    return rows.length;
  }
}
