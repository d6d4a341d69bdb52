/**
 * The ledger of the bot's own LLM spend in the `ai_usage` table: one row per AI answer.
 * Per-user rate limits count rows by requester across all instances; the spend report sums
 * them by local day and model. Costs are integer nano-dollars and stay exact end to end:
 * bigint in the table, summed as numeric and read back as text into a JS bigint.
 */
import { and, count, eq, gte, sql } from 'drizzle-orm';
import type { DateRange } from '../../core/period.js';
import type { AiUsageDay, AiUsageLedger, AiUsageRecord } from '../../ports.js';
import { type Db, selectRows } from './database.js';
import { aiUsage } from './schema.js';

/** The AI usage ledger over one database. */
export class PgAiUsageLedger implements AiUsageLedger {
  constructor(private readonly db: Db) {}

  async record(entry: AiUsageRecord): Promise<void> {
    await this.db.insert(aiUsage).values({
      at: entry.at,
      model: entry.model,
      requester: entry.requester,
      inputTokens: entry.usage.input,
      outputTokens: entry.usage.output,
      cacheReadTokens: entry.usage.cacheRead,
      cacheWriteTokens: entry.usage.cacheWrite,
      costNanoUsd: entry.costNanoUsd ?? null,
      toolCalls: entry.toolCalls,
      outcome: entry.outcome,
    });
  }

  async countSince(requester: string, since: Date): Promise<number> {
    const [row] = await this.db
      .select({ answers: count() })
      .from(aiUsage)
      // Answers that called the model: built-in explanations cost nothing and do not count.
      .where(and(eq(aiUsage.requester, requester), gte(aiUsage.at, since), sql`${aiUsage.inputTokens} + ${aiUsage.outputTokens} + ${aiUsage.cacheReadTokens} + ${aiUsage.cacheWriteTokens} > 0`));
    return row?.answers ?? 0;
  }

  async dailyUsage(range: DateRange, timeZone: string): Promise<AiUsageDay[]> {
    // The range's bounds become instants in SQL (midnight local time in the zone), so the
    // filter is a plain range on `at` and the index on it serves; the day of each row is
    // its local date. Days and sums come back as text: the two drivers parse dates and
    // bigints differently, text they both leave alone.
    const rows = await selectRows<RawDay>(
      this.db,
      sql`select day::text as day, model, count(*)::text as answers,
            sum(input_tokens)::text as input, sum(output_tokens)::text as output,
            sum(cache_read_tokens)::text as cache_read, sum(cache_write_tokens)::text as cache_write,
            coalesce(sum(cost_nano_usd), 0)::text as cost_nano_usd,
            count(*) filter (where cost_nano_usd is null)::text as unpriced
          from (
            select (at at time zone ${timeZone})::date as day, model, input_tokens, output_tokens,
              cache_read_tokens, cache_write_tokens, cost_nano_usd
            from ai_usage
            where at >= (${range.start}::date)::timestamp at time zone ${timeZone}
              and at < (${range.end}::date)::timestamp at time zone ${timeZone}
          ) as local
          group by day, model
          order by day, model`,
    );
    return rows.map((row) => ({
      day: row.day,
      model: row.model,
      answers: Number(row.answers),
      usage: { input: Number(row.input), output: Number(row.output), cacheRead: Number(row.cache_read), cacheWrite: Number(row.cache_write) },
      costNanoUsd: BigInt(row.cost_nano_usd),
      unpriced: Number(row.unpriced),
    }));
  }
}

/** One (day, model) row of `dailyUsage`'s query, every value as text. */
interface RawDay {
  day: string;
  model: string;
  answers: string;
  input: string;
  output: string;
  cache_read: string;
  cache_write: string;
  cost_nano_usd: string;
  unpriced: string;
}
