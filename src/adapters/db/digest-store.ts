/**
 * Digest subscriptions and the delivery ledger in PostgreSQL. Every step that decides who
 * posts what is one atomic statement — an insert that finds its key taken, or an update of
 * a row picked with `FOR UPDATE SKIP LOCKED` — so any number of instances can run the
 * same schedule, through RDS Proxy, without session locks.
 */
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type {
  Cadence,
  ClaimedDelivery,
  DeliveryRecord,
  DigestDeliveryStore,
  NewSubscription,
  Platform,
  Subscription,
  SubscriptionStore,
} from '../../ports.js';
import { type Db, selectRows } from './database.js';
import { digestDeliveries, digestSubscriptions } from './schema.js';

/** Attempts before a delivery is given up (a crash loop, or a platform that keeps failing). */
const MAX_ATTEMPTS = 4;
/** A delivery is only worth making for a day after it was planned. */
const PLANNED_WITHIN = '1 day';
/** How long after a retryable failure the delivery is tried again. */
const RETRY_AFTER = '10 minutes';

type SubscriptionRow = typeof digestSubscriptions.$inferSelect;
type DeliveryRow = typeof digestDeliveries.$inferSelect;

/** Subscriptions and digest deliveries over one database. */
export class PgDigestStore implements SubscriptionStore, DigestDeliveryStore {
  constructor(private readonly db: Db) {}

  async subscribe(input: NewSubscription): Promise<{ created: boolean; subscription: Subscription }> {
    const inserted = await this.db
      .insert(digestSubscriptions)
      .values({ ...input, team: input.team ?? null })
      .onConflictDoNothing()
      .returning();
    if (inserted[0]) return { created: true, subscription: toSubscription(inserted[0]) };
    const [existing] = await this.db.select().from(digestSubscriptions).where(targetIs(input));
    return { created: false, subscription: toSubscription(existing!) };
  }

  async changeTimeZone(id: number, timeZone: string): Promise<void> {
    await this.db.update(digestSubscriptions).set({ timeZone }).where(eq(digestSubscriptions.id, id));
  }

  async unsubscribe(target: Pick<Subscription, 'platform' | 'conversationId' | 'cadence' | 'team'>): Promise<boolean> {
    const removed = await this.db.delete(digestSubscriptions).where(targetIs(target)).returning({ id: digestSubscriptions.id });
    return removed.length > 0;
  }

  async conversationsFor(team: string): Promise<{ platform: Platform; conversationId: string }[]> {
    const rows = await this.db
      .selectDistinct({ platform: digestSubscriptions.platform, conversationId: digestSubscriptions.conversationId })
      .from(digestSubscriptions)
      .where(eq(digestSubscriptions.team, team))
      .orderBy(asc(digestSubscriptions.platform), asc(digestSubscriptions.conversationId));
    return rows.map((row) => ({ platform: row.platform as Platform, conversationId: row.conversationId }));
  }

  async listFor(platform: Platform, conversationId: string): Promise<{ subscription: Subscription; lastDelivery: DeliveryRecord | undefined }[]> {
    const subscriptions = await this.db
      .select()
      .from(digestSubscriptions)
      .where(and(eq(digestSubscriptions.platform, platform), eq(digestSubscriptions.conversationId, conversationId)))
      .orderBy(asc(digestSubscriptions.cadence), asc(digestSubscriptions.team));
    if (subscriptions.length === 0) return [];
    const latest = await selectRows<RawDelivery>(
      this.db,
      sql`select distinct on (subscription_id) * from digest_deliveries
          where subscription_id in (${sql.join(
            subscriptions.map((row) => sql`${row.id}`),
            sql`, `,
          )})
          order by subscription_id, created_at desc`,
    );
    const byId = new Map(latest.map((row) => [Number(row.subscription_id), fromRaw(row)]));
    return subscriptions.map((row) => ({ subscription: toSubscription(row), lastDelivery: byId.get(row.id) }));
  }

  async schedules(): Promise<{ cadence: Cadence; timeZone: string }[]> {
    const rows = await this.db
      .selectDistinct({ cadence: digestSubscriptions.cadence, timeZone: digestSubscriptions.timeZone })
      .from(digestSubscriptions)
      .orderBy(asc(digestSubscriptions.cadence), asc(digestSubscriptions.timeZone));
    return rows.map((row) => ({ cadence: row.cadence as Cadence, timeZone: row.timeZone }));
  }

  async plan(cadence: Cadence, timeZone: string, periodKey: string, onlyTeam?: string): Promise<number> {
    const teamFilter = onlyTeam === undefined ? sql`` : sql` and team = ${onlyTeam}`;
    const insert = () =>
      selectRows<{ subscription_id: number }>(
        this.db,
        sql`insert into digest_deliveries (subscription_id, period_key, status)
            select id, ${periodKey}, 'pending' from digest_subscriptions where cadence = ${cadence} and time_zone = ${timeZone}${teamFilter}
            on conflict do nothing
            returning subscription_id`,
      );
    try {
      return (await insert()).length;
    } catch (error) {
      // An unsubscribe committed while the rows were inserted: plan the others again.
      if (postgresCode(error) !== '23503') throw error;
      return (await insert()).length;
    }
  }

  async claimNext(holder: string, leaseMs: number, platforms: readonly Platform[]): Promise<ClaimedDelivery | undefined> {
    if (platforms.length === 0) return undefined;
    for (;;) {
      const [row] = await selectRows<RawDelivery>(
        this.db,
        sql`update digest_deliveries set status = 'claimed', claimed_by = ${holder}, attempts = attempts + 1,
              lease_until = now() + ${interval(leaseMs)}::interval
            where (subscription_id, period_key) = (
              select d.subscription_id, d.period_key from digest_deliveries d
              join digest_subscriptions s on s.id = d.subscription_id
              where d.created_at > now() - ${PLANNED_WITHIN}::interval and d.attempts < ${MAX_ATTEMPTS}
                and s.platform in (${sql.join(
                  platforms.map((platform) => sql`${platform}`),
                  sql`, `,
                )})
                and d.status in ('pending', 'claimed', 'message_posted', 'failed')
                and (d.lease_until is null or d.lease_until < now())
              order by d.created_at, d.subscription_id
              limit 1
              for update of d skip locked)
            returning *`,
      );
      if (!row) return undefined;
      const delivery = fromRaw(row);
      const [subscription] = await this.db.select().from(digestSubscriptions).where(eq(digestSubscriptions.id, delivery.subscriptionId));
      // Unsubscribed meanwhile (the cascade removes the delivery with it): take the next one.
      if (subscription) return { delivery, subscription: toSubscription(subscription) };
    }
  }

  async recordMessage(delivery: DeliveryRecord, holder: string, messageId: string, leaseMs: number): Promise<boolean> {
    const rows = await this.db
      .update(digestDeliveries)
      .set({ status: 'message_posted', messageId, leaseUntil: sql`now() + ${interval(leaseMs)}::interval` })
      .where(heldBy(delivery, holder))
      .returning({ id: digestDeliveries.subscriptionId });
    return rows.length === 1;
  }

  async recordPosted(delivery: DeliveryRecord, holder: string, chartId: string | undefined): Promise<boolean> {
    const rows = await this.db
      .update(digestDeliveries)
      .set({ status: 'posted', chartId: chartId ?? null, postedAt: sql`now()`, leaseUntil: null, error: null })
      .where(heldBy(delivery, holder))
      .returning({ id: digestDeliveries.subscriptionId });
    if (rows.length === 0) return false;
    await this.db.update(digestSubscriptions).set({ problem: null, problemAt: null }).where(eq(digestSubscriptions.id, delivery.subscriptionId));
    return true;
  }

  async recordFailure(delivery: DeliveryRecord, holder: string, failure: { error: string; permanent: boolean; messageId?: string | undefined }): Promise<boolean> {
    const rows = await this.db
      .update(digestDeliveries)
      .set({
        status: failure.permanent ? 'gave_up' : 'failed',
        error: failure.error,
        leaseUntil: sql`now() + ${RETRY_AFTER}::interval`,
        ...(failure.messageId ? { messageId: failure.messageId } : {}),
      })
      .where(heldBy(delivery, holder))
      .returning({ id: digestDeliveries.subscriptionId });
    if (rows.length === 0) return false;
    if (failure.permanent) await this.markProblem([delivery.subscriptionId], failure.error);
    return true;
  }

  async postpone(delivery: DeliveryRecord, holder: string, reason: string, afterMs: number): Promise<boolean> {
    const rows = await this.db
      .update(digestDeliveries)
      .set({ status: 'pending', error: reason, attempts: sql`greatest(${digestDeliveries.attempts} - 1, 0)`, leaseUntil: sql`now() + ${interval(afterMs)}::interval` })
      .where(heldBy(delivery, holder))
      .returning({ id: digestDeliveries.subscriptionId });
    return rows.length === 1;
  }

  async giveUpStale(): Promise<number> {
    const rows = await selectRows<{ subscription_id: number; error: string | null }>(
      this.db,
      sql`update digest_deliveries set status = 'gave_up', lease_until = null
          where status in ('pending', 'claimed', 'message_posted', 'failed')
            and (lease_until is null or lease_until < now())
            and (attempts >= ${MAX_ATTEMPTS} or created_at <= now() - ${PLANNED_WITHIN}::interval)
          returning subscription_id, error`,
    );
    for (const row of rows) await this.markProblem([Number(row.subscription_id)], `not delivered in time${row.error ? ` (last: ${row.error})` : ''}`);
    return rows.length;
  }

  private async markProblem(subscriptionIds: readonly number[], problem: string): Promise<void> {
    for (const id of subscriptionIds) await this.db.update(digestSubscriptions).set({ problem, problemAt: sql`now()` }).where(eq(digestSubscriptions.id, id));
  }
}

/** The delivery, still held by `holder` under a lease that has not run out. */
function heldBy(delivery: DeliveryRecord, holder: string) {
  return and(keyIs(delivery), eq(digestDeliveries.claimedBy, holder), sql`${digestDeliveries.leaseUntil} > now()`);
}

function interval(ms: number): string {
  return `${Math.ceil(ms / 1000)} seconds`;
}

function postgresCode(error: unknown): string | undefined {
  const candidate = (error as { code?: unknown; cause?: { code?: unknown } } | undefined) ?? {};
  const code = typeof candidate.code === 'string' ? candidate.code : candidate.cause?.code;
  return typeof code === 'string' ? code : undefined;
}

function targetIs(target: Pick<Subscription, 'platform' | 'conversationId' | 'cadence' | 'team'>) {
  return and(
    eq(digestSubscriptions.platform, target.platform),
    eq(digestSubscriptions.conversationId, target.conversationId),
    eq(digestSubscriptions.cadence, target.cadence),
    target.team === undefined ? isNull(digestSubscriptions.team) : eq(digestSubscriptions.team, target.team),
  );
}

function keyIs(delivery: DeliveryRecord) {
  return and(eq(digestDeliveries.subscriptionId, delivery.subscriptionId), eq(digestDeliveries.periodKey, delivery.periodKey));
}

function toSubscription(row: SubscriptionRow): Subscription {
  return {
    id: row.id,
    platform: row.platform as Platform,
    conversationId: row.conversationId,
    cadence: row.cadence as Cadence,
    team: row.team ?? undefined,
    timeZone: row.timeZone,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    problem: row.problem ?? undefined,
    problemAt: row.problemAt ?? undefined,
  };
}

/** A delivery row as raw SQL returns it (snake_case, timestamps maybe as strings). */
interface RawDelivery {
  subscription_id: number | string;
  period_key: string;
  status: DeliveryRow['status'];
  attempts: number | string;
  message_id: string | null;
  error: string | null;
  posted_at: Date | string | null;
}

function fromRaw(row: RawDelivery): DeliveryRecord {
  return {
    subscriptionId: Number(row.subscription_id),
    periodKey: row.period_key,
    status: row.status as DeliveryRecord['status'],
    attempts: Number(row.attempts),
    messageId: row.message_id ?? undefined,
    error: row.error ?? undefined,
    postedAt: row.posted_at === null ? undefined : new Date(row.posted_at),
  };
}
