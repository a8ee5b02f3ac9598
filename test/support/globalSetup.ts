import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/db/embeddedPostgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A server URL whose `postgres` database may create and drop test databases. */
    databaseUrl: string;
  }
}

let embedded: EmbeddedPostgresHandle | undefined;
let dir: string | undefined;

/** Uses DATABASE_URL when set; otherwise starts one embedded PostgreSQL for the whole run. */
export async function setup(project: TestProject): Promise<void> {
  let url = process.env.DATABASE_URL;
  if (!url) {
    dir = await mkdtemp(join(tmpdir(), 'sekha-test-pg-'));
    embedded = await startEmbeddedPostgres({ dataDir: join(dir, 'pg') });
    url = embedded.url;
  }
  project.provide('databaseUrl', url);
}

export async function teardown(): Promise<void> {
  await embedded?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}
