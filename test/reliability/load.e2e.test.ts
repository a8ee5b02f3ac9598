import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBenchService, type BenchService } from '../../bench/service.js';
import { percentile } from '../../bench/stats.js';
import { startTestChroma, type TestChroma } from '../support/chroma.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeOllama, type FakeOllama } from '../support/ollamaServer.js';
import { expectAllAcknowledged } from './support.js';

// 50 concurrent clients of mixed traffic (creates, appends, label changes, lists, gets, full-text
// and hybrid search, context assembly) against one service process. SEKHA_LOAD_SECONDS sets the
// length: 15 s in npm test, 60 s in `npm run test:soak`.
const SECONDS = Number(process.env.SEKHA_LOAD_SECONDS ?? 15);
const CLIENTS = 50;

let db: TestDatabase;
let chroma: TestChroma;
let ollama: FakeOllama;
let dataDir: string;
let service: BenchService;

beforeAll(async () => {
  [db, chroma, ollama] = await Promise.all([createTestDatabase(), startTestChroma(), startFakeOllama()]);
  dataDir = await mkdtemp(join(tmpdir(), 'sekha-load-'));
  service = await startBenchService({
    DATABASE_URL: db.url,
    CHROMA_URL: chroma.url,
    OLLAMA_URL: ollama.url,
    DATA_DIR: dataDir,
    SEKHA_API__RATE_LIMIT_REQUESTS: '10000000',
    SEKHA_API__RATE_LIMIT_BURST: '10000000',
    SEKHA_DATABASE__MAX_CONNECTIONS: '20',
  });
}, 180_000);
afterAll(async () => {
  await service?.stop();
  await ollama?.close();
  await chroma?.stop();
  await db?.drop();
  await rm(dataDir, { recursive: true, force: true });
});

describe(`load: ${CLIENTS} clients, ${SECONDS} s of mixed traffic`, () => {
  it('no 5xx; afterwards logged messages = read model = vectors, every acknowledged write once', async () => {
    const latencies = new Map<string, number[]>();
    const statuses: Record<string, number> = {};
    const acknowledged: string[] = [];
    const deadline = Date.now() + SECONDS * 1000;
    const call = async (kind: string, method: string, path: string, body?: unknown) => {
      const started = performance.now();
      const res = await fetch(`${service.url}${path}`, {
        method,
        // Many clients share one address (one actor): they do not wait for each other's writes.
        headers: { 'x-sekha-consistency': 'eventual', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const parsed = (await res.json().catch(() => undefined)) as any;
      const ms = performance.now() - started;
      (latencies.get(kind) ?? latencies.set(kind, []).get(kind)!).push(ms);
      statuses[`${kind} ${res.status}`] = (statuses[`${kind} ${res.status}`] ?? 0) + 1;
      return { status: res.status, body: parsed };
    };
    const client = async (n: number) => {
      const topic = `topic${n % 7}`;
      while (Date.now() < deadline) {
        const first = `${topic} opening ${randomUUID()}`;
        const created = await call('create', 'POST', '/api/v1/conversations', { label: `load-${n}`, folder: `/load/${n % 5}`, messages: [{ role: 'user', content: first }] });
        if (created.status !== 201) continue;
        acknowledged.push(first);
        const id = created.body.id as string;
        const reply = `${topic} reply ${randomUUID()}`;
        if ((await call('append', 'POST', `/api/v1/conversations/${id}/messages`, { messages: [{ role: 'assistant', content: reply }] })).status === 201) acknowledged.push(reply);
        await call('label', 'PUT', `/api/v1/conversations/${id}/label`, { label: `load-${n}-relabelled` });
        await call('list', 'GET', `/api/v1/conversations?folder_prefix=/load/${n % 5}&page_size=20`);
        await call('get', 'GET', `/api/v1/conversations/${id}?include=messages&min_position=${created.body.position}&wait_ms=10000`);
        await call('fts', 'POST', '/api/v1/search/fts', { query: `${topic} reply`, limit: 10 });
        await call('query', 'POST', '/api/v1/query', { query: `${topic} opening`, limit: 10 });
        await call('context', 'POST', '/api/v1/context/assemble', { query: `${topic} opening`, context_budget: 2000 });
      }
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: CLIENTS }, (_, n) => client(n)));
    const elapsed = (Date.now() - started) / 1000;

    const all = [...latencies.values()].flat();
    const byKind = Object.fromEntries([...latencies].map(([k, v]) => [k, { n: v.length, p50: Math.round(percentile(v, 50)), p99: Math.round(percentile(v, 99)) }]));
    const fivexx = Object.entries(statuses).filter(([k]) => Number(k.split(' ')[1]) >= 500);
    const found = await expectAllAcknowledged(db.pool, chroma.url, acknowledged, 300_000);
    console.log(
      `load: ${all.length} requests in ${elapsed.toFixed(1)} s (${Math.round(all.length / elapsed)} req/s), p50 ${percentile(all, 50).toFixed(0)} ms, p99 ${percentile(all, 99).toFixed(0)} ms, 5xx ${fivexx.length}\n` +
        `  by kind ${JSON.stringify(byKind)}\n  statuses ${JSON.stringify(statuses)}\n  stores ${JSON.stringify(found)}`,
    );
    expect(fivexx).toEqual([]);
    expect(Object.keys(statuses).filter((k) => !/ 20[01]$/.test(k))).toEqual([]);
    expect(found.ackInLog).toBe(acknowledged.length);
    expect(found.ackProjected).toBe(acknowledged.length);
    expect(found.ackTwice).toBe(0);
    expect(found.logged).toBe(acknowledged.length);
  }, (SECONDS + 420) * 1000);
});
