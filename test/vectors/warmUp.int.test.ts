import { Writable } from 'node:stream';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'smol-toml';
import { until } from '../support/until.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig, type ResolvedConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/logger.js';
import { startService } from '../../src/app/server.js';
import { freePort } from '../../src/util/freePort.js';
import { startTestChroma, type TestChroma } from '../support/chroma.js';
import { startFakeOllama, type FakeOllama } from '../support/ollamaServer.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let chroma: TestChroma;
let ollama: FakeOllama;
let db: TestDatabase;
let dataDir: string;

beforeAll(async () => {
  [chroma, ollama, db] = await Promise.all([startTestChroma(), startFakeOllama(), createTestDatabase()]);
  dataDir = await mkdtemp(join(tmpdir(), 'sekha-warm-up-'));
});
afterAll(async () => {
  await ollama?.close();
  await chroma?.stop();
  await db?.drop();
  await rm(dataDir, { recursive: true, force: true });
});

async function config(): Promise<ResolvedConfig> {
  const toml = stringify({
    log_level: 'info',
    data_dir: dataDir,
    server: { host: '127.0.0.1', port: await freePort() },
    database: { url: db.url, min_connections: 0 },
    chroma: { url: chroma.url },
    embedding: { provider: 'ollama', ollama_url: ollama.url, model: 'nomic-embed-text' },
    api: { rate_limit_requests: 100_000, rate_limit_burst: 1000 },
  });
  return resolveConfig(toml, {})._unsafeUnwrap();
}

/** A logger whose JSON lines the test can read. */
function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger('info', stream), lines };
}

const ready = async (url: string) => {
  const res = await fetch(`${url}/ready`);
  return { status: res.status, body: (await res.json()) as { status: string; checks: Record<string, string> } };
};

describe('vector warm-up at start', () => {
  it('/ready is 503 until the embedder and the live collection have answered once, then 200', async () => {
    // A first life: a live collection with a vector in it.
    const first = await startService(await config(), createLogger('silent'));
    let collection: string;
    try {
      const created = await fetch(`${first.url}/api/v1/conversations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ label: 'warm', messages: [{ role: 'user', content: 'sourdough starter feeding schedule' }] }),
      });
      expect(created.status).toBe(201);
      collection = await until(async () => {
        const { rows } = await db.pool.query<{ collection: string; processed: number }>(`select collection, processed from vector_collections where dropped_at is null`);
        return rows[0] && rows[0].processed > 0 ? rows[0].collection : undefined;
      }, 30_000, 'the vector in Chroma');
      await until(async () => (await ready(first.url)).status === 200, 30_000, 'ready');
    } finally {
      await first.stop();
    }

    // Restart with the embedder hanging: the warm-up cannot finish, so the service is not ready.
    ollama.stall(true);
    const { logger, lines } = capturedLogger();
    const second = await startService(await config(), logger);
    try {
      await until(() => ollama.requests.some((r) => JSON.stringify(r.input).includes('warm-up')), 30_000, 'the warm-up embed request');
      const waiting = await ready(second.url);
      expect(waiting.status).toBe(503);
      expect(waiting.body.status).toBe('not_ready');
      expect(waiting.body.checks).toMatchObject({ database: 'ok', chroma: 'ok', warm_up: 'warming up' });
      expect(lines.some((l) => l.msg === 'vector warm-up done')).toBe(false);

      ollama.stall(false);
      const after = await until(async () => {
        const r = await ready(second.url);
        return r.status === 200 ? r : undefined;
      }, 30_000, 'ready after the warm-up');
      expect(after.body).toMatchObject({ status: 'ready', checks: { warm_up: 'ok' } });
      // Ready only after the embed and the query on the live collection both answered.
      const done = lines.findIndex((l) => l.msg === 'vector warm-up done');
      expect(done).toBeGreaterThanOrEqual(0);
      expect(lines.slice(0, done).some((l) => l.msg === 'embedder warmed up' && l.model === 'nomic-embed-text')).toBe(true);
      expect(lines.slice(0, done).some((l) => l.msg === 'vector collection warmed up' && l.collection === collection)).toBe(true);
    } finally {
      ollama.stall(false);
      await second.stop();
    }
  });
});
