import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../src/db/embeddedPostgres.js';

/** A fresh database for one benchmark run, on DATABASE_URL's server or an embedded PostgreSQL. */
export interface BenchDatabase {
  url: string;
  /** True when an embedded PostgreSQL was started for it. */
  embedded: boolean;
  /** Drops the database and stops what was started. */
  drop(): Promise<void>;
}

/**
 * `onServer`: a database on that server (a sibling of the one it names), so a baseline shares the
 * server of the service under test without its projectors seeing the baseline's events.
 */
export async function benchDatabase(prefix: string, onServer?: string): Promise<BenchDatabase> {
  const dir = await mkdtemp(join(tmpdir(), `sekha-bench-${prefix}-`));
  const existing = onServer ?? process.env.DATABASE_URL;
  const embedded = existing ? undefined : await startEmbeddedPostgres({ dataDir: join(dir, 'pg') });
  const serverUrl = new URL(existing ?? embedded!.url);
  const name = `sekha_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl.toString() });
  await admin.connect();
  await admin.query(`create database ${name}`);
  serverUrl.pathname = `/${name}`;
  return {
    url: serverUrl.toString(),
    embedded: embedded !== undefined,
    async drop() {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
      await embedded?.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
