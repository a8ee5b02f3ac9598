import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/db/embeddedPostgres.js';
import { migrate } from '../../src/db/migrate.js';
import { createEventStore, type Position } from '../../src/eventstore/index.js';
import { readModelDefinition } from '../../src/projections/readModel/index.js';
import { createProjectionRuntime, type ProjectionRuntime } from '../../src/projections/runtime.js';
import { freePort } from '../../src/util/freePort.js';
import { caughtUp, silentLogger, startConversation, until } from './helpers.js';

let dir: string;
let port: number;
let postgres: EmbeddedPostgresHandle | undefined;
let pool: pg.Pool;
let runtime: ProjectionRuntime | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sekha-listen-'));
  port = await freePort();
  postgres = await startEmbeddedPostgres({ dataDir: join(dir, 'pg'), port });
  pool = new pg.Pool({ connectionString: postgres.url, max: 10 });
  pool.on('error', () => {});
  await migrate(pool);
});
afterAll(async () => {
  await runtime?.stop();
  await pool?.end().catch(() => {});
  await postgres?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('LISTEN reconnect', () => {
  it('after a Postgres restart the listener reconnects and the projection resumes without losing events', async () => {
    // A poll slower than the test: progress after the restart can only come from a re-established LISTEN.
    let notified = 0;
    runtime = createProjectionRuntime(
      { pool, url: postgres!.url, logger: silentLogger, batchSize: 50, pollIntervalMs: 120_000, leaseCheckMs: 300 },
      [readModelDefinition],
    );
    await runtime.start();
    runtime.bus.on('progress', () => notified++);
    const store = createEventStore(pool);
    let last: Position = (await startConversation(store, { messages: ['before restart'] })).position;
    await caughtUp(pool, last);
    await until(() => runtime!.status()[0]?.status === 'idle', 5000, 'idle before restart');

    await postgres!.stop();
    postgres = await startEmbeddedPostgres({ dataDir: join(dir, 'pg'), port });
    // Writes succeed again once the pool has new connections.
    last = await until(async () => (await startConversation(store, { messages: ['right after restart'] })).position, 20_000, 'a write after restart');
    await caughtUp(pool, last, 'read-model', 20_000);
    // Once the listener is back and the runner idle, new events must arrive by NOTIFY (the poll is 2 minutes).
    await until(async () => {
      const { rows } = await pool.query(`select 1 from pg_stat_activity where application_name = 'sekha-listen' and query ilike 'LISTEN%'`);
      return rows.length > 0 && runtime!.status()[0]?.status === 'idle';
    }, 20_000, 'listener reconnected');
    for (let i = 0; i < 20; i++) last = (await startConversation(store, { messages: [`after ${i}`] })).position;
    await caughtUp(pool, last, 'read-model', 10_000);

    const { rows } = await pool.query(`select (select count(*) from conversations)::int as c, (select count(*) from messages)::int as m,
                                              (select count(*) from events where type = 'ConversationStarted')::int as e`);
    expect(rows[0]).toEqual({ c: 22, m: 22, e: 22 });
    expect(notified).toBeGreaterThan(1);
  });
});
