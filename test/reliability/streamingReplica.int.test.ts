import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { stringify } from 'smol-toml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/logger.js';
import { startService, type RunningService } from '../../src/app/server.js';
import { freePort } from '../../src/util/freePort.js';
import { until } from '../projections/helpers.js';
import { startTestChroma, type TestChroma } from '../support/chroma.js';
import { startFakeOllama, type FakeOllama } from '../support/ollamaServer.js';
import { postgresBinDir, startStreamingPair, type StreamingPair } from '../support/replica.js';

// The whole service with DATABASE_URL = a primary and READ_DATABASE_URL = its streaming replica
// (both made here with initdb + pg_basebackup -R): reads really come from the replica, writes go on
// when it is stopped, and queries then answer 503 + Retry-After until it is back.
const hasBinaries = postgresBinDir() !== undefined;
let pair: StreamingPair;
let chroma: TestChroma;
let ollama: FakeOllama;
let dataDir: string;
let service: RunningService;

beforeAll(async () => {
  if (!hasBinaries) return;
  [pair, chroma, ollama] = await Promise.all([startStreamingPair(), startTestChroma(), startFakeOllama()]);
  dataDir = await mkdtemp(join(tmpdir(), 'sekha-replica-service-'));
  const toml = stringify({
    log_level: 'silent',
    data_dir: dataDir,
    server: { host: '127.0.0.1', port: await freePort() },
    database: { url: pair.primaryUrl, read_url: pair.replicaUrl, min_connections: 0, connect_timeout: 2 },
    chroma: { url: chroma.url },
    embedding: { ollama_url: ollama.url },
    api: { rate_limit_requests: 100_000, rate_limit_burst: 100_000 },
  });
  service = await startService(resolveConfig(toml, {})._unsafeUnwrap(), createLogger('silent'));
}, 180_000);
afterAll(async () => {
  if (!hasBinaries) return;
  await service?.stop();
  await ollama?.close();
  await chroma?.stop();
  await pair?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const call = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${service.url}${path}`, {
    method,
    // Reads that must show the replica's lag opt out of waiting for this client's own writes; min_position still waits.
    headers: { 'x-sekha-consistency': 'eventual', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json().catch(() => undefined)) as any };
};
const create = async (label: string) => {
  const res = await call('POST', '/api/v1/conversations', { label, messages: [{ role: 'user', content: `words about ${label}` }] });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; position: string };
};
const listed = async (label: string) => (await call('GET', `/api/v1/conversations?label=${encodeURIComponent(label)}`)).body?.results?.length ?? -1;

describe.skipIf(!hasBinaries)('the service on a primary and a streaming replica', () => {
  it('reads go to the replica: its pool is in recovery', async () => {
    expect(service.deps.pools.separateRead).toBe(true);
    const { rows } = await service.deps.pools.read.query<{ r: boolean }>('select pg_is_in_recovery() as r');
    expect(rows[0]!.r).toBe(true);
  });

  it('read-your-writes with min_position through HTTP, 30 of 30, for a get, a list and a full-text search', async () => {
    for (let i = 0; i < 30; i++) {
      const { id, position } = await create(`ryw-${i}`);
      const got = await call('GET', `/api/v1/conversations/${id}?include=messages&min_position=${position}`);
      expect(got.status).toBe(200);
      expect(got.body.messages[0].content).toBe(`words about ryw-${i}`);
      const list = await call('GET', `/api/v1/conversations?label=ryw-${i}&min_position=${position}`);
      expect(list.body.results.map((r: { id: string }) => r.id)).toEqual([id]);
      const fts = await call('POST', `/api/v1/search/fts?min_position=${position}`, { query: `ryw-${i}`, limit: 5 });
      expect(fts.status).toBe(200);
    }
  });

  it('with replay paused on the replica, list and search do not see a new write; after resume they do', async () => {
    const replica = new pg.Client({ connectionString: pair.replicaUrl });
    await replica.connect();
    try {
      await replica.query('select pg_wal_replay_pause()');
      const { position } = await create('behind-the-replica');
      // The primary has it (and its projection): only a read from the replica can miss it.
      await until(async () => {
        const c = new pg.Client({ connectionString: pair.primaryUrl });
        await c.connect();
        try {
          return (await c.query(`select 1 from conversations where label = 'behind-the-replica'`)).rowCount === 1;
        } finally {
          await c.end();
        }
      }, 15_000, 'the primary to project the write');
      expect(await listed('behind-the-replica')).toBe(0);
      const fts = await call('POST', '/api/v1/search/fts', { query: 'behind', limit: 5 });
      expect(fts.status).toBe(200);
      expect(fts.body.results).toHaveLength(0);
      const paused = await call('GET', `/api/v1/conversations?label=behind-the-replica&min_position=${position}&wait_ms=300`);
      expect(paused.status).toBe(503);
      expect(paused.headers.get('retry-after')).toBe('1');
      await replica.query('select pg_wal_replay_resume()');
      await until(async () => (await listed('behind-the-replica')) === 1, 15_000, 'the replica to replay the write');
      expect((await call('POST', '/api/v1/search/fts', { query: 'behind', limit: 5 })).body.results).toHaveLength(1);
    } finally {
      await replica.query('select pg_wal_replay_resume()').catch(() => {});
      await replica.end();
    }
  });

  it('with the replica stopped, writes still succeed and queries answer 503 + Retry-After; after it is back, all is served', async () => {
    await pair.stopReplica();
    try {
      const written: string[] = [];
      for (let i = 0; i < 10; i++) written.push((await create(`replica-down-${i}`)).id);
      const list = await call('GET', '/api/v1/conversations?label=replica-down-0');
      expect(list.status).toBe(503);
      expect(list.headers.get('retry-after')).toBeTruthy();
      const get = await call('GET', `/api/v1/conversations/${written[0]}`);
      expect(get.status).toBe(503);
      const fts = await call('POST', '/api/v1/search/fts', { query: 'replica-down', limit: 5 });
      expect(fts.status).toBe(503);
    } finally {
      await pair.startReplica();
    }
    await until(async () => (await call('GET', '/api/v1/conversations/count?label_contains=replica-down')).body?.count === 10, 30_000, 'the replica to serve the writes made while it was down');
  });
});
