/**
 * Detected anomalies and their alert ledger in PostgreSQL. Every step that decides who
 * posts what is one atomic statement — an upsert, or an update of a row picked with
 * `FOR UPDATE SKIP LOCKED` — with no session state and no advisory locks, so any number of
 * instances can scan and deliver at once, through RDS Proxy.
 *
 * Alert leases: a claim sets `claimed_by` and `lease_until` and counts an attempt. A post
 * or a failure is recorded only by the holder still named in `claimed_by` (another instance
 * taking over after the lease ran out renames it, so the late one learns it lost). After a
 * passing failure the row keeps no holder but keeps `lease_until` as the earliest time of
 * the next attempt, doubling from one minute with each attempt; after `MAX_ATTEMPTS` it waits
 * for the next scan to give it another round, and after a permanent failure it is not taken
 * again.
 */
import { randomUUID } from 'node:crypto';
import { and, asc, desc, eq, gte, lt, lte, ne, sql, type SQL } from 'drizzle-orm';
import type { Severity } from '../../core/anomaly.js';
import { amountToDecimalString, parseAmount } from '../../core/money.js';
import type { DateRange, PlainDate } from '../../core/period.js';
import type {
  AlertRecord,
  AnomalyDriver,
  AnomalyRecord,
  AnomalyScope,
  AnomalyStatus,
  AnomalyStore,
  ClaimedAlert,
  DetectedAnomaly,
  DriverDimension,
  Platform,
} from '../../ports.js';
import { guardConnection as guard } from './connection-guard.js';
import type { Db } from './database.js';
import { acquireLease, releaseLease } from './job-lease.js';
import { anomalies, anomalyAlerts, type StoredDriver, type StoredScope } from './schema.js';

/** Attempts at one alert version before it is given up (a platform that keeps failing). */
const MAX_ATTEMPTS = 5;
/** The wait after the first passing failure; it doubles with each further attempt. */
const FIRST_RETRY_SECONDS = 60;
/** The cluster-wide scan lease, and how long a scan may hold it before another may take over. */
const SCAN_LEASE = 'anomaly-scan';
const SCAN_LEASE_MS = 10 * 60_000;
/** Anomalies written per statement (well under PostgreSQL's 65,535 parameters). */
const SAVE_BATCH = 500;

/** The fields an alert shows: a change of any of them grows `version`. */
const SHOWN_FIELDS = ['firstDay', 'lastDay', 'active', 'expected', 'actual', 'impact', 'severity', 'drivers', 'source', 'awsAnomalyId', 'team'] as const;
/** Detection fields a scan also rewrites, though no alert shows them. */
const UNSHOWN_FIELDS = ['scope', 'score', 'currency'] as const;

type DetectionField = (typeof SHOWN_FIELDS)[number] | (typeof UNSHOWN_FIELDS)[number];
type AnomalyRow = typeof anomalies.$inferSelect;
type AnomalyInsert = typeof anomalies.$inferInsert;
type AlertRow = typeof anomalyAlerts.$inferSelect;

/** The anomaly store over one database. */
export class PgAnomalyStore implements AnomalyStore {
  constructor(private readonly db: Db) {}

  async saveDetected(detected: readonly DetectedAnomaly[], at: Date): Promise<AnomalyRecord[]> {
    // One row per key (the last detection wins): an upsert may not touch a row twice.
    const latest = [...new Map(detected.map((anomaly) => [anomaly.key, anomaly])).values()];
    const saved = new Map<string, AnomalyRecord>();
    for (let start = 0; start < latest.length; start += SAVE_BATCH) {
      const rows = await guard(() =>
        this.db
          .insert(anomalies)
          .values(latest.slice(start, start + SAVE_BATCH).map((anomaly) => toRow(anomaly, at)))
          .onConflictDoUpdate({ target: anomalies.key, set: DETECTION_UPDATE })
          .returning(),
      );
      for (const row of rows) saved.set(row.key, toRecord(row));
    }
    const ids = [...saved.values()].map((record) => record.id);
    if (ids.length > 0) {
      // An alert that ran out of attempts (a long Slack outage) gets a new round with each
      // scan while it is behind its anomaly, so it is late rather than lost.
      await guard(() =>
        this.db.execute(sql`update ${anomalyAlerts} al set attempts = 0, lease_until = null
          from ${anomalies} an
          where al.anomaly_id = an.id and al.anomaly_id in (${sql.join(ids.map((id) => sql`${id}`), sql`, `)})
            and al.posted_version < an.version and not al.permanent_failure and al.attempts >= ${MAX_ATTEMPTS}`),
      );
    }
    return detected.map((anomaly) => saved.get(anomaly.key)!);
  }

  async listSince(since: PlainDate): Promise<AnomalyRecord[]> {
    const rows = await guard(() => this.db.select().from(anomalies).where(gte(anomalies.lastDay, since)).orderBy(asc(anomalies.firstDay), asc(anomalies.id)));
    return rows.map(toRecord);
  }

  async listOverlapping(range: DateRange, team?: string): Promise<AnomalyRecord[]> {
    const rows = await guard(() =>
      this.db
        .select()
        .from(anomalies)
        .where(and(lt(anomalies.firstDay, range.end), gte(anomalies.lastDay, range.start), team === undefined ? undefined : eq(anomalies.team, team)))
        .orderBy(desc(anomalies.impact), asc(anomalies.id)),
    );
    return rows.map(toRecord);
  }

  async get(id: number): Promise<AnomalyRecord | undefined> {
    const [row] = await guard(() => this.db.select().from(anomalies).where(eq(anomalies.id, id)));
    return row && toRecord(row);
  }

  async setStatus(
    id: number,
    change: { status: AnomalyStatus; by: string; at: Date; snoozedUntil?: Date | undefined },
  ): Promise<{ record: AnomalyRecord; changed: boolean } | undefined> {
    // The update decides alone: a repeated click (even a second snooze) matches no row.
    const [updated] = await guard(() =>
      this.db
        .update(anomalies)
        .set({
          status: change.status,
          statusBy: change.by,
          statusAt: change.at,
          snoozedUntil: change.status === 'snoozed' ? (change.snoozedUntil ?? null) : null,
          version: sql`${anomalies.version} + 1`,
          updatedAt: change.at,
        })
        .where(and(eq(anomalies.id, id), ne(anomalies.status, change.status)))
        .returning(),
    );
    if (updated) return { record: toRecord(updated), changed: true };
    const record = await this.get(id);
    return record && { record, changed: false };
  }

  async endSnoozes(now: Date): Promise<number> {
    // Nobody chose `open`: the status loses its author and dates from the snooze's end.
    const ended = await guard(() =>
      this.db
        .update(anomalies)
        .set({ status: 'open', statusBy: null, statusAt: now, snoozedUntil: null, version: sql`${anomalies.version} + 1`, updatedAt: now })
        .where(and(eq(anomalies.status, 'snoozed'), lte(anomalies.snoozedUntil, now)))
        .returning({ id: anomalies.id }),
    );
    return ended.length;
  }

  async planAlerts(anomalyId: number, targets: readonly { platform: Platform; conversationId: string }[]): Promise<void> {
    if (targets.length === 0) return;
    await guard(() =>
      this.db
        .insert(anomalyAlerts)
        .values(targets.map((target) => ({ anomalyId, platform: target.platform, conversationId: target.conversationId })))
        .onConflictDoNothing(),
    );
  }

  async claimAlert(holder: string, leaseMs: number, platforms: readonly Platform[]): Promise<ClaimedAlert | undefined> {
    if (platforms.length === 0) return undefined;
    for (;;) {
      const [row] = await guard(() =>
        this.db
          .update(anomalyAlerts)
          .set({
            claimedBy: holder,
            leaseUntil: sql`now() + make_interval(secs => ${leaseMs / 1000})`,
            attempts: sql`${anomalyAlerts.attempts} + 1`,
            updatedAt: sql`now()`,
          })
          .where(sql`(${anomalyAlerts.anomalyId}, ${anomalyAlerts.platform}, ${anomalyAlerts.conversationId}) = (${nextAlertDue(platforms)})`)
          .returning(),
      );
      if (!row) return undefined;
      const anomaly = await this.get(row.anomalyId);
      // Deleted meanwhile (its alerts go with it): take the next one.
      if (anomaly) return { alert: toAlert(row), anomaly };
    }
  }

  async recordAlertPosted(alert: AlertRecord, holder: string, messageId: string, version: number): Promise<boolean> {
    const rows = await guard(() =>
      this.db
        .update(anomalyAlerts)
        .set({
          messageId,
          postedVersion: sql`greatest(${anomalyAlerts.postedVersion}, ${version})`,
          attempts: 0,
          error: null,
          claimedBy: null,
          leaseUntil: null,
          updatedAt: sql`now()`,
        })
        .where(heldBy(alert, holder))
        .returning({ id: anomalyAlerts.anomalyId }),
    );
    return rows.length === 1;
  }

  async recordAlertFailure(alert: AlertRecord, holder: string, failure: { error: string; permanent: boolean }): Promise<boolean> {
    const retryAt = sql`now() + make_interval(secs => ${FIRST_RETRY_SECONDS} * power(2, greatest(${anomalyAlerts.attempts} - 1, 0)))`;
    const rows = await guard(() =>
      this.db
        .update(anomalyAlerts)
        .set({
          error: failure.error,
          permanentFailure: failure.permanent,
          claimedBy: null,
          leaseUntil: failure.permanent ? null : retryAt,
          updatedAt: sql`now()`,
        })
        .where(heldBy(alert, holder))
        .returning({ id: anomalyAlerts.anomalyId }),
    );
    return rows.length === 1;
  }

  async noteAlertRedrawn(anomalyId: number, target: { platform: 'slack' | 'teams'; conversationId: string }, version: number): Promise<void> {
    await guard(() =>
      this.db
        .update(anomalyAlerts)
        .set({ postedVersion: sql`least(${anomalyAlerts.postedVersion}, ${version})`, updatedAt: sql`now()` })
        .where(and(eq(anomalyAlerts.anomalyId, anomalyId), eq(anomalyAlerts.platform, target.platform), eq(anomalyAlerts.conversationId, target.conversationId))),
    );
  }

  async alertsOf(anomalyId: number): Promise<AlertRecord[]> {
    const rows = await guard(() =>
      this.db
        .select()
        .from(anomalyAlerts)
        .where(eq(anomalyAlerts.anomalyId, anomalyId))
        .orderBy(asc(anomalyAlerts.platform), asc(anomalyAlerts.conversationId)),
    );
    return rows.map(toAlert);
  }

  async withScanLock<T>(work: () => Promise<T>): Promise<T | undefined> {
    // A holder per call: a second scan in this same process must not share the lease.
    const holder = `${SCAN_LEASE}/${randomUUID()}`;
    if (!(await guard(() => acquireLease(this.db, SCAN_LEASE, holder, SCAN_LEASE_MS)))) return undefined;
    try {
      return await work();
    } finally {
      await releaseLease(this.db, SCAN_LEASE, holder).catch(() => undefined);
    }
  }
}

/**
 * The key of the alert to take next, locked, skipping those another instance is taking:
 * behind its anomaly's version, with attempts left, on one of `platforms`, neither leased
 * nor waiting for a retry. Alerts never posted go first, then older anomalies.
 */
function nextAlertDue(platforms: readonly Platform[]): SQL {
  return sql`select al.anomaly_id, al.platform, al.conversation_id from anomaly_alerts al
    join anomalies an on an.id = al.anomaly_id
    where al.posted_version < an.version and not al.permanent_failure and al.attempts < ${MAX_ATTEMPTS}
      and (al.lease_until is null or al.lease_until < now())
      and al.platform in (${sql.join(
        platforms.map((platform) => sql`${platform}`),
        sql`, `,
      )})
    order by al.posted_version > 0, al.anomaly_id, al.platform, al.conversation_id
    limit 1
    for update of al skip locked`;
}

/** The alert, still claimed by `holder` (nobody has taken it over). */
function heldBy(alert: AlertRecord, holder: string): SQL | undefined {
  return and(
    eq(anomalyAlerts.anomalyId, alert.anomalyId),
    eq(anomalyAlerts.platform, alert.platform),
    eq(anomalyAlerts.conversationId, alert.conversationId),
    eq(anomalyAlerts.claimedBy, holder),
  );
}

/** True in an upsert when any of `fields` would change. */
function differs(fields: readonly DetectionField[]): SQL {
  const list = (prefix: string) => fields.map((field) => `${prefix}.${anomalies[field].name}`).join(', ');
  return sql.raw(`(${list('anomalies')}) is distinct from (${list('excluded')})`);
}

/**
 * How a scan updates a known anomaly: every detection field as detected; `version` one up
 * only when a shown field changed, `updated_at` only when anything did; status untouched.
 */
const DETECTION_UPDATE = {
  ...Object.fromEntries([...SHOWN_FIELDS, ...UNSHOWN_FIELDS].map((field) => [field, sql.raw(`excluded.${anomalies[field].name}`)])),
  version: sql`case when ${differs(SHOWN_FIELDS)} then anomalies.version + 1 else anomalies.version end`,
  updatedAt: sql`case when ${differs([...SHOWN_FIELDS, ...UNSHOWN_FIELDS])} then excluded.updated_at else anomalies.updated_at end`,
} satisfies Partial<Record<keyof AnomalyInsert, SQL>>;

function toRow(anomaly: DetectedAnomaly, at: Date): AnomalyInsert {
  return {
    key: anomaly.key,
    scope: toStoredScope(anomaly.scope),
    team: anomaly.team ?? null,
    firstDay: anomaly.firstDay,
    lastDay: anomaly.lastDay,
    active: anomaly.active,
    expected: amountToDecimalString(anomaly.expected),
    actual: amountToDecimalString(anomaly.actual),
    impact: amountToDecimalString(anomaly.impact),
    severity: anomaly.severity,
    score: anomaly.score,
    currency: anomaly.currency,
    drivers: anomaly.drivers.map((driver) => ({ dimension: driver.dimension, key: driver.key, impact: amountToDecimalString(driver.impact) })),
    source: anomaly.source,
    awsAnomalyId: anomaly.awsAnomalyId ?? null,
    detectedAt: at,
    updatedAt: at,
  };
}

function toRecord(row: AnomalyRow): AnomalyRecord {
  return {
    id: row.id,
    key: row.key,
    scope: fromStoredScope(row.scope),
    team: row.team ?? undefined,
    firstDay: row.firstDay,
    lastDay: row.lastDay,
    active: row.active,
    expected: parseAmount(row.expected),
    actual: parseAmount(row.actual),
    impact: parseAmount(row.impact),
    severity: row.severity as Severity,
    score: row.score,
    currency: row.currency,
    drivers: row.drivers.map(fromStoredDriver),
    source: row.source as AnomalyRecord['source'],
    awsAnomalyId: row.awsAnomalyId ?? undefined,
    status: row.status as AnomalyStatus,
    statusBy: row.statusBy ?? undefined,
    statusAt: row.statusAt ?? undefined,
    snoozedUntil: row.snoozedUntil ?? undefined,
    version: row.version,
    detectedAt: row.detectedAt,
    updatedAt: row.updatedAt,
  };
}

function toAlert(row: AlertRow): AlertRecord {
  return {
    anomalyId: row.anomalyId,
    platform: row.platform as Platform,
    conversationId: row.conversationId,
    messageId: row.messageId ?? undefined,
    postedVersion: row.postedVersion,
    attempts: row.attempts,
    error: row.error ?? undefined,
  };
}

/** Only the fields of the scope's kind, so nothing else reaches the table. */
function toStoredScope(scope: AnomalyScope): StoredScope {
  switch (scope.kind) {
    case 'team':
      return { kind: scope.kind, team: scope.team };
    case 'team-service':
      return { kind: scope.kind, team: scope.team, value: scope.value };
    default:
      return { kind: scope.kind, value: scope.value };
  }
}

function fromStoredScope(stored: StoredScope): AnomalyScope {
  switch (stored.kind) {
    case 'team':
      return { kind: 'team', team: stored.team ?? '' };
    case 'team-service':
      return { kind: 'team-service', team: stored.team ?? '', value: stored.value ?? '' };
    case 'service':
    case 'account':
    case 'aws':
      return { kind: stored.kind, value: stored.value ?? '' };
    default:
      throw new Error(`unknown anomaly scope kind: ${JSON.stringify(stored.kind)}`);
  }
}

function fromStoredDriver(stored: StoredDriver): AnomalyDriver {
  return { dimension: stored.dimension as DriverDimension, key: stored.key, impact: parseAmount(stored.impact) };
}
