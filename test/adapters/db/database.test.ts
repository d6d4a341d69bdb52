import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../../src/adapters/db/database.js';
import { isFinOpsError } from '../../../src/core/errors.js';

describe('embedded database folder', () => {
  const opened: Database[] = [];
  const dirs: string[] = [];
  const folder = () => {
    const dir = mkdtempSync(join(tmpdir(), 'finops-lock-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(async () => {
    for (const database of opened.splice(0)) await database.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a second user of the same folder with a sentence, and lets it in once the first closes', async () => {
    const dir = folder();
    const first = await openDatabase({ kind: 'pglite', dataDir: dir });
    const error = await openDatabase({ kind: 'pglite', dataDir: dir }).catch((caught: unknown) => caught);
    expect(isFinOpsError(error, 'database_unavailable')).toBe(true);
    expect((error as Error).message).toBe(
      `Another finops-bot (process ${process.pid}) is using the embedded database in ${dir}. Stop it first, or give this one its own FINOPS_DATA_DIR or a DATABASE_URL.`,
    );
    await first.close();
    opened.push(await openDatabase({ kind: 'pglite', dataDir: dir }));
  });

  it('takes over a lock left by a process that has gone, including one with our own pid after a container restart', async () => {
    for (const stalePid of [2_147_483_646, process.pid]) {
      const dir = folder();
      writeFileSync(join(dir, 'finops-bot.lock'), String(stalePid));
      const database = await openDatabase({ kind: 'pglite', dataDir: dir });
      opened.push(database);
      await database.migrate();
      expect(await database.ping()).toBe(true);
    }
  });
});
