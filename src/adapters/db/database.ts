/**
 * Opens the bot's database: PostgreSQL through node-postgres when a URL is configured
 * (Aurora through RDS Proxy in production, optionally with IAM auth), otherwise an embedded
 * PGlite database on disk. Both get the same drizzle migrations.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { sql, type SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import { FinOpsError } from '../../core/errors.js';
import * as schema from './schema.js';

/** The drizzle database, whichever driver is underneath. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

/** How to reach the database. */
export type DatabaseTarget =
  | { readonly kind: 'postgres'; readonly url: string; readonly iamAuth?: boolean; readonly region?: string | undefined }
  | { readonly kind: 'pglite'; readonly dataDir: string | undefined };

/** An open database with its lifecycle. */
export interface Database {
  readonly db: Db;
  readonly kind: DatabaseTarget['kind'];
  /** Applies pending migrations (safe to run from several instances at once on PostgreSQL). */
  migrate(): Promise<void>;
  /** True when a trivial query answers within `timeoutMs`. */
  ping(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Opens a database. Nothing is queried until it is used. */
export async function openDatabase(target: DatabaseTarget): Promise<Database> {
  if (target.kind === 'pglite') return openPglite(target.dataDir);
  return openPostgres(target);
}

/** Folder of the generated SQL migrations (kept under src/, found from src/ or dist/). */
export function migrationsFolder(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json not found above the database module');
    dir = parent;
  }
  return join(dir, 'src', 'adapters', 'db', 'migrations');
}

async function openPglite(dataDir: string | undefined): Promise<Database> {
  const unlock = dataDir ? lockDataDir(dataDir) : () => undefined;
  // An embedded database for one process: a small buffer pool keeps the WASM heap (and so
  // the process's memory) small; the first open also runs initdb, which peaks higher once.
  const options = { postgresqlconf: 'shared_buffers = 16MB' };
  const client = dataDir ? new PGlite(dataDir, options) : new PGlite(options);
  const db = drizzlePglite({ client, schema }) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    migrate: async () => {
      await migratePglite(drizzlePglite({ client, schema }), { migrationsFolder: migrationsFolder() });
    },
    ping: async (timeoutMs = 2_000) => pingWith(db, timeoutMs),
    close: async () => {
      if (!client.closed) await client.close();
      unlock();
    },
  };
}

/**
 * PGlite is a single-process database: a second process on the same folder would read
 * half-written data. A lock file holding the owner's pid keeps it out, with a sentence;
 * a lock left by a process that no longer runs is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const lockFile = join(dataDir, 'finops-bot.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      heldLocks.add(lockFile);
      return () => {
        heldLocks.delete(lockFile);
        rmSync(lockFile, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(lockFile, 'utf8').trim());
      // Our own pid counts only if this process really holds it: in a container the bot is
      // always pid 1, so a lock left by a crash before a restart carries our pid too.
      const held = owner === process.pid ? heldLocks.has(lockFile) : Number.isInteger(owner) && owner > 0 && isRunning(owner);
      if (held) {
        throw new FinOpsError(
          'database_unavailable',
          `Another finops-bot (process ${owner}) is using the embedded database in ${dataDir}. ` +
            'Stop it first, or give this one its own FINOPS_DATA_DIR or a DATABASE_URL.',
        );
      }
      rmSync(lockFile, { force: true });
    }
  }
  throw new Error(`could not lock ${lockFile}`);
}

/** Lock files this process holds. */
const heldLocks = new Set<string>();

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function openPostgres(target: Extract<DatabaseTarget, { kind: 'postgres' }>): Promise<Database> {
  const poolConfig: pg.PoolConfig = {
    connectionString: target.url,
    max: 5,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    statement_timeout: 15_000,
    query_timeout: 20_000,
  };
  if (target.iamAuth) {
    const { Signer } = await import('@aws-sdk/rds-signer');
    const url = new URL(target.url);
    const signer = new Signer({
      hostname: url.hostname,
      port: Number(url.port || 5432),
      username: decodeURIComponent(url.username),
      ...(target.region ? { region: target.region } : {}),
    });
    // A fresh token for every new connection: tokens live 15 minutes, connections longer.
    poolConfig.password = () => signer.getAuthToken();
    poolConfig.ssl = poolConfig.ssl ?? { rejectUnauthorized: true };
  }
  const pool = new pg.Pool(poolConfig);
  // A connection that drops (an Aurora failover, an RDS Proxy reset) must not crash the
  // process. The pool listens on idle clients only; a client checked out for a transaction
  // needs its own listener. The query in flight still fails, and its caller says so.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  let ended = false;
  const db = drizzlePg({ client: pool, schema }) as unknown as Db;
  return {
    db,
    kind: 'postgres',
    migrate: async () => {
      const client = await pool.connect().catch((error: unknown) => {
        throw isConnectionError(error) ? databaseUnavailable(error) : error;
      });
      try {
        // Serialise migrations across instances starting together.
        await client.query('select pg_advisory_lock(7283401)');
        try {
          await migratePg(drizzlePg({ client, schema }), { migrationsFolder: migrationsFolder() });
        } finally {
          await client.query('select pg_advisory_unlock(7283401)');
        }
      } finally {
        client.release();
      }
    },
    ping: async (timeoutMs = 2_000) => pingWith(db, timeoutMs),
    close: async () => {
      if (ended) return;
      ended = true;
      await pool.end();
    },
  };
}

async function pingWith(db: Db, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([db.execute(sql`select 1`).then(() => true, () => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The coded error for a database that cannot be reached, keeping the driver's error as cause. */
export function databaseUnavailable(cause: unknown): FinOpsError {
  return new FinOpsError(
    'database_unavailable',
    'The cost database is not reachable right now, so I cannot answer; please try again in a minute.',
    { cause },
  );
}

/** True for errors that mean "cannot reach the database" rather than "bad query". */
export function isConnectionError(error: unknown): boolean {
  // drizzle wraps the driver's error ("Failed query: …") and keeps it as `cause`.
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    if (isDirectConnectionError(current)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

function isDirectConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && (/^(ECONN|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EPIPE)/.test(code) || code.startsWith('08') || code === '57P01' || code === '57P03')) {
    return true;
  }
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Cannot use a pool after calling end|not queryable|PGlite is closed/i.test(message);
}

/** Rows of a raw SQL query; both drivers return `{ rows }`. */
export async function selectRows<T>(db: Db, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}
