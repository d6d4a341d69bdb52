/**
 * The {@link BudgetStore} in PostgreSQL: the teams' budgets in `budgets`, and the ledger of
 * threshold alerts in `budget_alerts`. A claim is one insert that either adds the alert's key
 * or finds it there, atomic across instances (a claim left 15 minutes without a message, by
 * an instance that died before posting, may be taken over); a release deletes the key again
 * only while no message was recorded for it, so an alert that did go out is never claimed a
 * second time.
 */
import { and, asc, eq, isNull, sql, type SQL } from 'drizzle-orm';
import { amountToDecimalString, parseAmount } from '../../core/money.js';
import type { Budget, BudgetAlertKey, BudgetStore } from '../../ports.js';
import { guardConnection as guard } from './connection-guard.js';
import type { Db } from './database.js';
import { budgetAlerts, budgets } from './schema.js';

type BudgetRow = typeof budgets.$inferSelect;
type BudgetInsert = typeof budgets.$inferInsert;

/** How long a claim may stay without a posted message before another instance takes it over. */
const STALE_CLAIM_MINUTES = 15;

/** The budget store over one database. */
export class PgBudgetStore implements BudgetStore {
  constructor(private readonly db: Db) {}

  async list(): Promise<Budget[]> {
    const rows = await guard(() => this.db.select().from(budgets).orderBy(asc(budgets.team)));
    return rows.map(toBudget);
  }

  async get(team: string): Promise<Budget | undefined> {
    const [row] = await guard(() => this.db.select().from(budgets).where(eq(budgets.team, team)));
    return row && toBudget(row);
  }

  async set(budget: Budget): Promise<Budget | undefined> {
    const row = toRow(budget);
    // The old row is read locked, in the transaction that replaces it, so two people setting
    // the same team's budget at once each get back the one their change replaced.
    return guard(() =>
      this.db.transaction(async (tx) => {
        for (;;) {
          const [old] = await tx.select().from(budgets).where(eq(budgets.team, budget.team)).for('update');
          if (old) {
            await tx.update(budgets).set(row).where(eq(budgets.team, budget.team));
            return toBudget(old);
          }
          const inserted = await tx.insert(budgets).values(row).onConflictDoNothing().returning({ team: budgets.team });
          if (inserted.length === 1) return undefined;
          // Another instance added this team's budget meanwhile (committed now, so the next
          // statement sees it): replace that one.
        }
      }),
    );
  }

  async remove(team: string): Promise<boolean> {
    const rows = await guard(() => this.db.delete(budgets).where(eq(budgets.team, team)).returning({ team: budgets.team }));
    return rows.length === 1;
  }

  async claimAlert(key: BudgetAlertKey, at: Date): Promise<boolean> {
    const rows = await guard(() =>
      this.db
        .insert(budgetAlerts)
        .values({ team: key.team, month: key.month, kind: key.kind, threshold: key.threshold, claimedAt: at })
        // A claim whose instance died before posting (no message after 15 minutes) may be taken over.
        .onConflictDoUpdate({
          target: [budgetAlerts.team, budgetAlerts.month, budgetAlerts.kind, budgetAlerts.threshold],
          set: { claimedAt: at },
          setWhere: sql`${budgetAlerts.messageId} is null and ${budgetAlerts.claimedAt} < ${at.toISOString()}::timestamptz - interval '${sql.raw(String(STALE_CLAIM_MINUTES))} minutes'`,
        })
        .returning({ team: budgetAlerts.team }),
    );
    return rows.length === 1;
  }

  async recordAlertMessage(key: BudgetAlertKey, conversationId: string, messageId: string): Promise<void> {
    await guard(() => this.db.update(budgetAlerts).set({ conversationId, messageId }).where(alertIs(key)));
  }

  async releaseAlert(key: BudgetAlertKey): Promise<void> {
    // A recorded message means the alert went out: keep the claim, so it is not sent twice.
    await guard(() => this.db.delete(budgetAlerts).where(and(alertIs(key), isNull(budgetAlerts.messageId))));
  }
}

/** The row of one threshold alert. */
function alertIs(key: BudgetAlertKey): SQL | undefined {
  return and(
    eq(budgetAlerts.team, key.team),
    eq(budgetAlerts.month, key.month),
    eq(budgetAlerts.kind, key.kind),
    eq(budgetAlerts.threshold, key.threshold),
  );
}

function toRow(budget: Budget): BudgetInsert {
  return {
    team: budget.team,
    amount: amountToDecimalString(budget.amount),
    currency: budget.currency,
    setBy: budget.setBy,
    setAt: budget.setAt,
  };
}

function toBudget(row: BudgetRow): Budget {
  return { team: row.team, amount: parseAmount(row.amount), currency: row.currency, setBy: row.setBy, setAt: row.setAt };
}
