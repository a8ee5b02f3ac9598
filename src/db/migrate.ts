import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type pg from 'pg';

/** The folder of numbered plain SQL migrations shipped with the service. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

// One fixed advisory-lock key: every instance migrating the same database waits on it.
const MIGRATION_LOCK_KEY = 7_431_001;

export interface MigrationReport {
  applied: string[];
  skipped: string[];
}

/** Lists `NNN_name.sql` files in order. */
export async function listMigrations(dir = MIGRATIONS_DIR): Promise<string[]> {
  const files = await readdir(dir);
  return files.filter((f) => /^\d+_.+\.sql$/.test(f)).sort();
}

/**
 * Applies every migration not yet recorded, each in its own transaction, under an advisory lock
 * so that concurrent starts apply each file exactly once.
 */
export async function migrate(pool: pg.Pool, dir = MIGRATIONS_DIR): Promise<MigrationReport> {
  const client = await pool.connect();
  const report: MigrationReport = { applied: [], skipped: [] };
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(`create table if not exists schema_migrations (
      name text primary key,
      applied_at timestamptz not null default now()
    )`);
    const done = new Set((await client.query<{ name: string }>('select name from schema_migrations')).rows.map((r) => r.name));
    for (const file of await listMigrations(dir)) {
      if (done.has(file)) {
        report.skipped.push(file);
        continue;
      }
      const sql = await readFile(join(dir, file), 'utf8');
      await client.query('begin');
      try {
        await client.query(sql);
        await client.query('insert into schema_migrations (name) values ($1)', [file]);
        await client.query('commit');
      } catch (e) {
        await client.query('rollback');
        throw new Error(`migration ${file} failed: ${(e as Error).message}`);
      }
      report.applied.push(file);
    }
  } finally {
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => {});
    client.release();
  }
  return report;
}
