import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'smol-toml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig, type ResolvedConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/logger.js';
import { startService } from '../../src/app/server.js';
import { freePort } from '../../src/util/freePort.js';
import { startTestChroma, type TestChroma } from '../support/chroma.js';
import { startFakeOllama } from '../support/ollamaServer.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let chroma: TestChroma;
let dataDir: string;
const dbs: TestDatabase[] = [];

beforeAll(async () => {
  chroma = await startTestChroma();
  dataDir = await mkdtemp(join(tmpdir(), 'sekha-shutdown-'));
});
afterAll(async () => {
  for (const db of dbs) await db.drop();
  await chroma?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

async function serviceConfig(server: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<{ config: ResolvedConfig; db: TestDatabase }> {
  const db = await createTestDatabase();
  dbs.push(db);
  const toml = stringify({
    log_level: 'silent',
    data_dir: dataDir,
    server: { host: '127.0.0.1', port: await freePort(), ...server },
    database: { url: db.url, min_connections: 0 },
    chroma: { url: chroma.url },
    ...extra,
  });
  return { config: resolveConfig(toml, {})._unsafeUnwrap(), db };
}

describe('graceful shutdown', () => {
  it('loses no acknowledged write: in-flight requests finish, then pools close', async () => {
    const { config, db } = await serviceConfig({ shutdown_grace_ms: 10_000 }, { api: { rate_limit_requests: 100_000, rate_limit_burst: 1000 } });
    const service = await startService(config, createLogger('silent'));
    const N = 120;
    let firstAnswer!: () => void;
    const answered = new Promise<void>((r) => (firstAnswer = r));
    let stopStartedAt = Infinity;
    const writes = Array.from({ length: N }, async (_, i) => {
      try {
        const res = await fetch(`${service.url}/api/v1/conversations`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ label: `shutdown ${i}`, messages: [{ role: 'user', content: `write ${i}` }] }),
        });
        const at = Date.now();
        firstAnswer();
        return { status: res.status, body: (await res.json()) as { id?: string }, afterStop: at >= stopStartedAt };
      } catch {
        // Refused or cut after the server stopped accepting: not acknowledged.
        return { status: 0, body: {}, afterStop: true };
      }
    });
    await answered;
    stopStartedAt = Date.now();
    await service.stop();
    const stoppedIn = Date.now() - stopStartedAt;
    const results = await Promise.all(writes);

    const acknowledged = results.filter((r) => r.status === 201).map((r) => r.body.id!);
    expect(acknowledged.length).toBeGreaterThan(0);
    // Every request was either acknowledged or refused at the door (never half-done).
    expect(results.filter((r) => r.status !== 201 && r.status !== 0)).toEqual([]);
    // Nothing failed on the server side while it stopped.
    expect(results.filter((r) => r.status >= 500)).toEqual([]);
    // Requests in flight when stop began were answered, not dropped.
    expect(results.some((r) => r.status === 201 && r.afterStop)).toBe(true);
    expect(stoppedIn).toBeLessThan(10_000 + 5_000);
    const { rows } = await db.pool.query<{ stream_id: string }>('select distinct stream_id from events');
    const stored = new Set(rows.map((r) => r.stream_id));
    const lost = acknowledged.filter((id) => !stored.has(`conversation-${id}`));
    expect(lost).toEqual([]);
    // And the port no longer accepts connections.
    await expect(fetch(`${service.url}/health`)).rejects.toThrow();
  });
});

describe('shutdown with a hung embedder', () => {
  it('stops within the grace period even while the vector projector waits on the embedder', async () => {
    const ollama = await startFakeOllama();
    try {
      const { config } = await serviceConfig({ shutdown_grace_ms: 1500 }, { embedding: { provider: 'ollama', ollama_url: ollama.url } });
      const service = await startService(config, createLogger('silent'));
      ollama.stall(true);
      const res = await fetch(`${service.url}/api/v1/conversations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ label: 'stall', messages: [{ role: 'user', content: 'embed me while the embedder hangs' }] }),
      });
      expect(res.status).toBe(201);
      const deadline = Date.now() + 30_000;
      while (!ollama.requests.some((r) => JSON.stringify(r.input).includes('embed me')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(ollama.requests.some((r) => JSON.stringify(r.input).includes('embed me'))).toBe(true);
      const started = Date.now();
      await service.stop();
      // Grace (1.5 s), at least 2 s for the projectors, and the rest of the shutdown.
      expect(Date.now() - started).toBeLessThan(8000);
    } finally {
      await ollama.close();
    }
  });
});

describe('process roles and bind policy', () => {
  it('--role projector serves only /health, /ready and /metrics', async () => {
    const { config } = await serviceConfig({ role: 'projector' });
    const service = await startService(config, createLogger('silent'));
    try {
      expect((await fetch(`${service.url}/health`)).status).toBe(200);
      expect((await fetch(`${service.url}/metrics`)).status).toBe(200);
      const ready = await fetch(`${service.url}/ready`);
      expect(((await ready.json()) as { checks: Record<string, string> }).checks).toHaveProperty('projectors');
      expect((await fetch(`${service.url}/api/v1/conversations`)).status).toBe(404);
    } finally {
      await service.stop();
    }
  });

  it('--role api serves the API with auth: no key configured means loopback only', async () => {
    const { config } = await serviceConfig({ role: 'api' });
    const service = await startService(config, createLogger('silent'));
    try {
      expect(service.loopbackOnly).toBe(true);
      expect((await fetch(`${service.url}/api/v1/conversations`)).status).toBe(200);
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      expect(metrics).toContain('route="/api/v1/conversations"');
    } finally {
      await service.stop();
    }
  });

  it('refuses a non-loopback bind without API keys, before starting anything', async () => {
    const { config } = await serviceConfig({ host: '0.0.0.0' });
    await expect(startService(config, createLogger('silent'))).rejects.toThrow(
      /^refusing to start: server\.host = "0\.0\.0\.0" is reachable from other machines and no API key is configured/,
    );
  });

  it('binds to a non-loopback address when keys exist, and then demands one', async () => {
    const key = 'z'.repeat(40);
    const { config } = await serviceConfig({ host: '0.0.0.0', role: 'api' }, { api: { keys: [{ name: 'ops', key, scopes: ['read'] }] } });
    const service = await startService(config, createLogger('silent'));
    try {
      const base = `http://127.0.0.1:${service.port}`;
      expect((await fetch(`${base}/api/v1/conversations`)).status).toBe(401);
      expect((await fetch(`${base}/api/v1/conversations`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
    } finally {
      await service.stop();
    }
  });
});
