import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listMigrations, migrate, MIGRATIONS_DIR } from '../../src/db/migrate.js';
import { startEmbeddedPostgres } from '../../src/db/embeddedPostgres.js';

/** A database of a test file's own, migrated, dropped by `drop()`. */
export interface TestDatabase {
  name: string;
  url: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

/** The server URL given by the global setup, with another database name. */
export function databaseUrl(name: string): string {
  const url = new URL(inject('databaseUrl'));
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl('postgres') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A test database at `url`: its pool (migrated unless told otherwise); `drop` ends the pool, then runs `remove`. */
async function openTestDatabase(name: string, url: string, options: { migrate?: boolean; poolSize?: number }, remove: () => Promise<void>): Promise<TestDatabase> {
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 20 });
  pool.on('error', () => {});
  if (options.migrate !== false) await migrate(pool);
  return {
    name,
    url,
    pool,
    async drop() {
      await pool.end().catch(() => {});
      await remove();
    },
  };
}

/** Creates a fresh database (migrated unless told otherwise) for one test file. */
export async function createTestDatabase(options: { migrate?: boolean; poolSize?: number } = {}): Promise<TestDatabase> {
  const name = `sekha_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`create database ${name}`));
  return openTestDatabase(name, databaseUrl(name), options, () => admin((c) => c.query(`drop database if exists ${name} with (force)`)).then(() => {}));
}

/**
 * A migrated database on a PostgreSQL server of its own, stopped (and its files removed) by `drop()`.
 * For tests whose outcome depends on the cluster's oldest running transaction (gap-safe log reads
 * wait for every older transaction of the cluster): on the shared server, another file's long
 * transaction could hold their reads back for as long as it runs.
 */
export async function createIsolatedTestDatabase(): Promise<TestDatabase> {
  const dir = await mkdtemp(join(tmpdir(), 'sekha-isolated-pg-'));
  const server = await startEmbeddedPostgres({ dataDir: join(dir, 'pg') });
  return openTestDatabase(new URL(server.url).pathname.slice(1), server.url, {}, async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });
}

/**
 * Migrates a database as far as the migrations before `file` (a database as an older version left
 * it), for testing what `file` does to existing data; answers `file` and the ones after it.
 */
export async function migrateBefore(pool: pg.Pool, file: string): Promise<string[]> {
  const files = await listMigrations();
  const dir = await mkdtemp(join(tmpdir(), 'sekha-migrations-'));
  try {
    for (const earlier of files.filter((f) => f < file)) await copyFile(join(MIGRATIONS_DIR, earlier), join(dir, earlier));
    await migrate(pool, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return files.filter((f) => f >= file);
}
