/**
 * The {@link RightsizingStore} in PostgreSQL: recommendations in `rightsizing_recommendations`,
 * the append-only audit log in `rightsizing_audit` (a trigger refuses UPDATE and DELETE), the
 * teams' approvers in `rightsizing_approvers`, and one row per saved sync in `rightsizing_syncs`.
 *
 * A sync is one transaction of upserts keyed by the recommendation's key among the rows not
 * expired (a partial unique index), so two syncs racing never add a key twice. A decision is
 * taken on the row locked `FOR UPDATE` and written with its audit entries in the same
 * transaction, so two approvers clicking at once are counted one after the other. An
 * execution is claimed by one conditional UPDATE, once across instances.
 */
import { and, asc, desc, eq, inArray, isNull, lt, max, or, sql, type SQL } from 'drizzle-orm';
import { canMove, type RightsizingStatus } from '../../core/rightsizing.js';
import { amountToDecimalString } from '../../core/money.js';
import type {
  Approver,
  AuditEntry,
  NewAuditEntry,
  RightsizingCandidate,
  RightsizingRecord,
  RightsizingStore,
  TeamApprovers,
} from '../../ports.js';
import { guardConnection as guard } from './connection-guard.js';
import { fromStoredApprover, toAuditEntry, toAuditRow, toRecord, toRow, toStoredApproval, toStoredApprover, toStoredStep } from './rightsizing-rows.js';
import type { Db } from './database.js';
import {
  rightsizingApprovers,
  rightsizingAudit,
  rightsizingRecommendations as recommendations,
  rightsizingSyncs,
} from './schema.js';

/** Why a pending recommendation the source stopped reporting expired (its reason and audit note). */
export const WITHDRAWN_REASON = 'the source no longer recommends it';

/** Recommendations written per statement (well under PostgreSQL's 65,535 parameters). */
const SAVE_BATCH = 500;

/**
 * The columns a sync writes from the source: a change of any of them, on a pending
 * recommendation, is written and grows `version` (each is shown, or decides how it is approved).
 */
const FIGURES = [
  'accountId',
  'region',
  'instanceId',
  'instanceName',
  'team',
  'action',
  'currentType',
  'targetType',
  'cpuMaxPercent',
  'memoryMaxPercent',
  'currentMonthlyCost',
  'monthlySavings',
  'currency',
  'lookbackDays',
  'approvalsNeeded',
] as const;

type RecommendationInsert = typeof recommendations.$inferInsert;
type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** The rightsizing store over one database. */
export class PgRightsizingStore implements RightsizingStore {
  constructor(private readonly db: Db) {}

  async saveCandidates(
    candidates: readonly RightsizingCandidate[],
    options: { at: Date; approvalsNeeded: (candidate: RightsizingCandidate) => number },
  ): Promise<{ added: number; updated: number; withdrawn: number }> {
    // One row per key (the last report wins): an upsert may not touch a row twice. In key
    // order, so two syncs racing lock the rows in the same order and never deadlock.
    const latest = [...new Map(candidates.map((candidate) => [candidate.key, candidate])).values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const rows = latest.map((candidate) => toRow(candidate, options.approvalsNeeded(candidate), options.at));
    const keys = sql`(select jsonb_array_elements_text(${JSON.stringify(latest.map((candidate) => candidate.key))}::jsonb))`;
    return guard(() =>
      this.db.transaction(async (tx) => {
        let added = 0;
        let updated = 0;
        for (let start = 0; start < rows.length; start += SAVE_BATCH) {
          // New keys are inserted; a pending one whose figures changed is rewritten (and
          // returned); an unchanged or decided one is left to the statement below.
          const written = await tx
            .insert(recommendations)
            .values(rows.slice(start, start + SAVE_BATCH))
            .onConflictDoUpdate({
              target: recommendations.key,
              targetWhere: LIVE,
              set: FIGURES_UPDATE,
              setWhere: sql`${recommendations.status} = 'pending' and ${differs(FIGURES)}`,
            })
            .returning({ inserted: sql<boolean>`xmax = 0` });
          for (const row of written) {
            if (row.inserted) added++;
            else updated++;
          }
        }
        if (rows.length > 0) {
          await tx
            .update(recommendations)
            .set({ seenAt: options.at })
            .where(and(LIVE, sql`${recommendations.key} in ${keys}`));
        }
        // Pending advice the source no longer reports is withdrawn (an empty report withdraws all).
        const expired = await tx
          .update(recommendations)
          .set({
            status: 'expired',
            decidedBy: 'system',
            decidedAt: options.at,
            reason: WITHDRAWN_REASON,
            version: sql`${recommendations.version} + 1`,
          })
          .where(and(eq(recommendations.status, 'pending'), rows.length > 0 ? sql`${recommendations.key} not in ${keys}` : undefined))
          .returning({ id: recommendations.id, team: recommendations.team });
        await insertAudit(
          tx,
          expired.map((row) => ({
            at: options.at,
            actor: 'system',
            team: row.team,
            recommendationId: row.id,
            action: 'expire',
            before: { status: 'pending' },
            after: { status: 'expired' },
            source: undefined,
            note: WITHDRAWN_REASON,
          })),
        );
        await tx.insert(rightsizingSyncs).values({ syncedAt: options.at, added, updated, withdrawn: expired.length });
        return { added, updated, withdrawn: expired.length };
      }),
    );
  }

  async lastSyncedAt(): Promise<Date | undefined> {
    const [row] = await guard(() => this.db.select({ at: max(rightsizingSyncs.syncedAt) }).from(rightsizingSyncs));
    return row?.at ?? undefined;
  }

  async list(filter: { team?: string | undefined; statuses?: readonly RightsizingStatus[] }): Promise<RightsizingRecord[]> {
    if (filter.statuses?.length === 0) return [];
    const rows = await guard(() =>
      this.db
        .select()
        .from(recommendations)
        .where(
          and(
            filter.team === undefined ? undefined : eq(recommendations.team, filter.team),
            filter.statuses === undefined ? undefined : inArray(recommendations.status, [...filter.statuses]),
          ),
        )
        .orderBy(
          // Pending first, the biggest saving first; then the newest decision first.
          sql`${recommendations.status} <> 'pending'`,
          sql`case when ${recommendations.status} = 'pending' then ${recommendations.monthlySavings} end desc nulls last`,
          sql`coalesce(${recommendations.decidedAt}, ${recommendations.createdAt}) desc`,
          desc(recommendations.id),
        ),
    );
    return rows.map(toRecord);
  }

  async get(id: number): Promise<RightsizingRecord | undefined> {
    const [row] = await guard(() => this.db.select().from(recommendations).where(eq(recommendations.id, id)));
    return row && toRecord(row);
  }

  async transition(
    id: number,
    change: (current: RightsizingRecord) => { readonly next: RightsizingRecord; readonly audit: readonly NewAuditEntry[] } | undefined,
  ): Promise<{ record: RightsizingRecord; changed: boolean } | undefined> {
    return guard(() =>
      this.db.transaction(async (tx) => {
        const [row] = await tx.select().from(recommendations).where(eq(recommendations.id, id)).for('update');
        if (!row) return undefined;
        const current = toRecord(row);
        const result = change(current);
        if (!result) return { record: current, changed: false };
        const { next } = result;
        if (next.status !== current.status && !canMove(current.status, next.status)) {
          throw new Error(`rightsizing recommendation ${id} cannot move from ${current.status} to ${next.status}`);
        }
        const [after] = await tx
          .update(recommendations)
          .set({
            status: next.status,
            approvals: next.approvals.map(toStoredApproval),
            decidedBy: next.decidedBy ?? null,
            decidedAt: next.decidedAt ?? null,
            reason: next.reason ?? null,
            execution: next.execution.map(toStoredStep),
            appliedAt: next.appliedAt ?? null,
            realisedMonthlySavings: next.realisedMonthlySavings === undefined ? null : amountToDecimalString(next.realisedMonthlySavings),
            version: current.version + 1,
          })
          .where(eq(recommendations.id, id))
          .returning();
        await insertAudit(tx, result.audit);
        return { record: toRecord(after!), changed: true };
      }),
    );
  }

  async pendingBefore(cutoff: Date): Promise<RightsizingRecord[]> {
    const rows = await guard(() =>
      this.db
        .select()
        .from(recommendations)
        .where(and(eq(recommendations.status, 'pending'), lt(recommendations.createdAt, cutoff)))
        .orderBy(asc(recommendations.createdAt), asc(recommendations.id)),
    );
    return rows.map(toRecord);
  }

  async claimExecution(id: number, holder: string, at: Date, staleMs: number): Promise<boolean> {
    const rows = await guard(() =>
      this.db
        .update(recommendations)
        .set({ executionHolder: holder, executionClaimedAt: at })
        .where(and(eq(recommendations.id, id), eq(recommendations.status, 'approved'), unclaimedOrStale(at, staleMs)))
        .returning({ id: recommendations.id }),
    );
    return rows.length === 1;
  }

  async awaitingExecution(at: Date, staleMs: number): Promise<RightsizingRecord[]> {
    const rows = await guard(() =>
      this.db
        .select()
        .from(recommendations)
        .where(and(eq(recommendations.status, 'approved'), unclaimedOrStale(at, staleMs)))
        .orderBy(asc(recommendations.decidedAt), asc(recommendations.id)),
    );
    return rows.map(toRecord);
  }

  async realisationDue(cutoff: Date): Promise<RightsizingRecord[]> {
    const rows = await guard(() =>
      this.db
        .select()
        .from(recommendations)
        .where(and(eq(recommendations.status, 'applied'), lt(recommendations.appliedAt, cutoff), isNull(recommendations.realisedMonthlySavings)))
        .orderBy(asc(recommendations.appliedAt), asc(recommendations.id)),
    );
    return rows.map(toRecord);
  }

  async appendAudit(entries: readonly NewAuditEntry[]): Promise<void> {
    await guard(() => insertAudit(this.db, entries));
  }

  async audit(filter: { team?: string | undefined; limit: number }): Promise<AuditEntry[]> {
    const rows = await guard(() =>
      this.db
        .select()
        .from(rightsizingAudit)
        .where(filter.team === undefined ? undefined : eq(rightsizingAudit.team, filter.team))
        .orderBy(desc(rightsizingAudit.at), desc(rightsizingAudit.id))
        .limit(filter.limit),
    );
    return rows.map(toAuditEntry);
  }

  async listApprovers(): Promise<TeamApprovers[]> {
    const rows = await guard(() => this.db.select().from(rightsizingApprovers).orderBy(asc(rightsizingApprovers.team)));
    return rows.map((row) => ({ team: row.team, approvers: row.approvers.map(fromStoredApprover), setBy: row.setBy, setAt: row.setAt }));
  }

  async setApprovers(change: TeamApprovers): Promise<readonly Approver[]> {
    return (await this.editApprovers(change.team, () => change.approvers, { setBy: change.setBy, setAt: change.setAt }, { always: true })).before;
  }

  async editApprovers(
    team: string,
    edit: (current: readonly Approver[]) => readonly Approver[],
    by: { setBy: string; setAt: Date },
    options: { always?: boolean } = {},
  ): Promise<{ before: readonly Approver[]; after: readonly Approver[] }> {
    // The old row is read locked, in the transaction that replaces it, so two people changing
    // one team's approvers at once each edit (and audit) the list the other one left.
    return guard(() =>
      this.db.transaction(async (tx) => {
        for (;;) {
          const [old] = await tx.select().from(rightsizingApprovers).where(eq(rightsizingApprovers.team, team)).for('update');
          const before = old ? old.approvers.map(fromStoredApprover) : [];
          const after = [...edit(before)];
          if (!options.always && sameApprovers(before, after)) return { before, after: before };
          const approvers = after.map(toStoredApprover);
          if (old) {
            if (approvers.length === 0) await tx.delete(rightsizingApprovers).where(eq(rightsizingApprovers.team, team));
            else await tx.update(rightsizingApprovers).set({ approvers, setBy: by.setBy, setAt: by.setAt }).where(eq(rightsizingApprovers.team, team));
          } else if (approvers.length > 0) {
            const inserted = await tx.insert(rightsizingApprovers).values({ team, approvers, setBy: by.setBy, setAt: by.setAt }).onConflictDoNothing().returning({ team: rightsizingApprovers.team });
            // Another instance set this team's approvers meanwhile (committed now, so the next
            // statement sees it): edit those.
            if (inserted.length === 0) continue;
          }
          await insertAudit(tx, [
            { at: by.setAt, actor: by.setBy, team, recommendationId: undefined, action: 'approvers', before, after, source: undefined, note: undefined },
          ]);
          return { before, after };
        }
      }),
    );
  }
}

/** The same people and groups, in any order. */
function sameApprovers(a: readonly Approver[], b: readonly Approver[]): boolean {
  const keys = (list: readonly Approver[]) => list.map((person) => `${person.kind}:${person.id}`).sort().join(',');
  return keys(a) === keys(b);
}

/** Approved rows nobody holds, or whose holder has given no result for `staleMs`. */
function unclaimedOrStale(at: Date, staleMs: number): SQL | undefined {
  return or(isNull(recommendations.executionClaimedAt), lt(recommendations.executionClaimedAt, new Date(at.getTime() - staleMs)));
}

async function insertAudit(db: Db | Tx, entries: readonly NewAuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await db.insert(rightsizingAudit).values(entries.map(toAuditRow));
}

/** True in the sync's upsert when any of `fields` would change. */
function differs(fields: readonly (typeof FIGURES)[number][]): SQL {
  const list = (prefix: string) => fields.map((field) => `${prefix}.${recommendations[field].name}`).join(', ');
  return sql.raw(`(${list('rightsizing_recommendations')}) is distinct from (${list('excluded')})`);
}

/** Rows whose key is taken: a recommendation that expired or failed may come back as a new row. */
const LIVE = sql`${recommendations.status} not in ('expired', 'failed')`;

/** How a sync rewrites a pending recommendation whose figures changed. */
const FIGURES_UPDATE = {
  ...Object.fromEntries(FIGURES.map((field) => [field, sql.raw(`excluded.${recommendations[field].name}`)])),
  // Approvals given for another team's instance do not count for its new team.
  approvals: sql.raw(`case when rightsizing_recommendations.team is distinct from excluded.team then '[]'::jsonb else rightsizing_recommendations.approvals end`),
  seenAt: sql.raw('excluded.seen_at'),
  version: sql.raw('rightsizing_recommendations.version + 1'),
} satisfies Partial<Record<keyof RecommendationInsert, SQL>>;
