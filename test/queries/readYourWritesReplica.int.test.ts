import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'smol-toml';
import { resolveConfig } from '../../src/config/load.js';
import { migrate } from '../../src/db/migrate.js';
import { createPools, type Pools } from '../../src/db/pools.js';
import { createEventStore } from '../../src/eventstore/index.js';
import { createApp } from '../../src/app/createApp.js';
import type { AppDeps } from '../../src/deps.js';
import type { App } from '../../src/http/openapi.js';
import { createLogger } from '../../src/logger.js';
import { readModelDefinition } from '../../src/projections/readModel/index.js';
import { createProjectionRuntime, type ProjectionRuntime } from '../../src/projections/runtime.js';
import { VERSION } from '../../src/version.js';
import { postgresBinDir, startStreamingPair, type StreamingPair } from '../support/replica.js';
import { sendJson } from '../support/testApp.js';
import { silentLogger } from '../projections/helpers.js';

// Reads go to a real streaming replica: the wait must watch the checkpoint as the replica has replayed it.
const hasBinaries = postgresBinDir() !== undefined;
let pair: StreamingPair;
let pools: Pools;
let runtime: ProjectionRuntime;
let app: App;

beforeAll(async () => {
  if (!hasBinaries) return;
  pair = await startStreamingPair();
  const config = resolveConfig(stringify({ log_level: 'silent', database: { url: pair.primaryUrl, read_url: pair.replicaUrl, min_connections: 0 } }), {})._unsafeUnwrap();
  pools = createPools(pair.primaryUrl, pair.replicaUrl, config.database);
  await migrate(pools.write);
  runtime = createProjectionRuntime({ pool: pools.write, url: pair.primaryUrl, logger: silentLogger, batchSize: 100, pollIntervalMs: 500 }, [readModelDefinition]);
  await runtime.start();
  const deps: AppDeps = {
    config,
    pools,
    store: createEventStore(pools.write),
    logger: createLogger('silent'),
    clock: () => new Date(),
    startedAt: new Date(),
    version: VERSION,
    progress: runtime.bus,
    projections: runtime,
  };
  app = createApp(deps);
  await pair.waitForReplay();
}, 120_000);
afterAll(async () => {
  if (!hasBinaries) return;
  await runtime?.stop();
  await pools?.close();
  await pair?.stop();
});

async function create(label: string) {
  const res = await sendJson(app, 'POST', '/api/v1/conversations', { label, messages: [{ role: 'user', content: `text of ${label}` }] });
  expect(res.status).toBe(201);
  return res.body as { id: string; position: string };
}

describe.skipIf(!hasBinaries)('read-your-writes on a streaming replica', () => {
  it('a read with min_position sees its write through the replica, 100 times out of 100', async () => {
    expect(pools.separateRead).toBe(true);
    for (let i = 0; i < 100; i++) {
      const { id, position } = await create(`replica ${i}`);
      const res = await sendJson(app, 'GET', `/api/v1/conversations/${id}?include=messages&min_position=${position}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.messages[0].content).toBe(`text of replica ${i}`);
    }
  });

  it('waits on the replica, not the primary: with replay paused it times out (503), and answers once replay resumes', async () => {
    const replica = new pg.Client({ connectionString: pair.replicaUrl });
    await replica.connect();
    try {
      await replica.query('select pg_wal_replay_pause()');
      const { id, position } = await create('while paused');
      const paused = await sendJson(app, 'GET', `/api/v1/conversations/${id}?min_position=${position}&wait_ms=400`);
      expect(paused.status).toBe(503);
      expect(paused.headers.get('retry-after')).toBe('1');
      const pending = sendJson(app, 'GET', `/api/v1/conversations/${id}?min_position=${position}&wait_ms=5000`);
      await replica.query('select pg_wal_replay_resume()');
      const resumed = await pending;
      expect(resumed.status).toBe(200);
      expect(resumed.body.label).toBe('while paused');
    } finally {
      await replica.query('select pg_wal_replay_resume()').catch(() => {});
      await replica.end();
    }
  });
});
