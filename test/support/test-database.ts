/**
 * A migrated, empty database for one test file: a fresh database on the PostgreSQL server
 * named by DATABASE_URL when it is set (CI), an in-memory PGlite otherwise.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { openDatabase, selectRows, type Database } from '../../src/adapters/db/database.js';

/** A test database and the function that removes it. */
export interface TestDatabase {
  readonly database: Database;
  readonly url: string | undefined;
  dispose(): Promise<void>;
}

/** Which database the suite runs against, for test names and skip reasons. */
export const testDatabaseKind = process.env.DATABASE_URL ? 'postgres' : 'pglite';

/** Opens and migrates a new empty database. */
export async function openTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    const database = await openDatabase({ kind: 'pglite', dataDir: undefined });
    await database.migrate();
    return { database, url: undefined, dispose: () => database.close() };
  }
  const scratch = await createScratchDatabase(serverUrl);
  const database = await openDatabase({ kind: 'postgres', url: scratch.url });
  await database.migrate();
  return {
    database,
    url: scratch.url,
    dispose: async () => {
      await database.close();
      await scratch.drop();
    },
  };
}

/** A new empty database on the PostgreSQL server at `serverUrl`, and the function that drops it. */
export async function createScratchDatabase(serverUrl: string, prefix = 'finops_test'): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  await withAdmin(serverUrl, (client) => client.query(`create database ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => withAdmin(serverUrl, (client) => client.query(`drop database if exists ${name} with (force)`)).then(() => undefined) };
}

/**
 * A place for a bot process's state, as its environment says it: a fresh migrated database
 * (DATABASE_URL, when the suite runs on PostgreSQL) or an empty data folder for PGlite.
 */
export async function openBotState(prefix = 'finops-bot-'): Promise<{ env: Record<string, string>; dispose(): Promise<void> }> {
  if (testDatabaseKind === 'postgres') {
    const test = await openTestDatabase();
    await test.database.close();
    return { env: { DATABASE_URL: test.url! }, dispose: () => test.dispose().catch(() => undefined) };
  }
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { env: { FINOPS_DATA_DIR: dir }, dispose: async () => rmSync(dir, { recursive: true, force: true }) };
}

async function withAdmin<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Empties every table the migrations created, so each test starts from nothing. */
export async function emptyAllTables(database: Database): Promise<void> {
  const tables = await selectRows<{ name: string }>(
    database.db,
    sql`select quote_ident(table_name) as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`,
  );
  await database.db.execute(sql.raw(`truncate ${tables.map((table) => table.name).join(', ')}`));
}
