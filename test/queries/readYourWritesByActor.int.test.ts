import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformExtras } from '../../src/app/platform.js';
import { parsePosition } from '../../src/eventstore/index.js';
import { lexicalStatsDefinition } from '../../src/projections/lexicalStats.js';
import { readModelDefinition } from '../../src/projections/readModel/index.js';
import { createProjectionRuntime, type ProjectionRuntime } from '../../src/projections/runtime.js';
import { silentLogger } from '../projections/helpers.js';
import { createTestApp, sendJson, type TestApp } from '../support/testApp.js';

// Clients that send no position (their write methods return nothing) must still read their own writes:
// the service remembers each actor's last acknowledged write and makes that actor's reads wait for it.

const ALICE = `alice-${'a'.repeat(40)}`;
const BOB = `bob-${'b'.repeat(40)}`;
const as = (key: string) => ({ authorization: `Bearer ${key}` });
const keys = [
  { name: 'alice', key: ALICE, scopes: ['read', 'write'] as ('read' | 'write')[] },
  { name: 'bob', key: BOB, scopes: ['read', 'write'] as ('read' | 'write')[] },
];

function startRuntime(t: TestApp): ProjectionRuntime {
  const runtime = createProjectionRuntime(
    // Polling slowly, so that only the NOTIFY wakes the projector: reads straight after a write race it.
    { pool: t.deps.pools.write, url: t.db.url, logger: silentLogger, batchSize: 100, pollIntervalMs: 1000, leaseCheckMs: 500 },
    [readModelDefinition, lexicalStatsDefinition],
  );
  return runtime;
}

async function withRuntime(t: TestApp): Promise<ProjectionRuntime> {
  const runtime = startRuntime(t);
  await runtime.start();
  t.deps.progress = runtime.bus;
  t.deps.projections = runtime;
  return runtime;
}

const api = (over: object = {}) => ({ keys, rate_limit_requests: 1_000_000, rate_limit_burst: 1000, read_wait_default_ms: 5000, ...over });

describe('read-your-writes by default, per API key', () => {
  let t: TestApp;
  let runtime: ProjectionRuntime;
  beforeAll(async () => {
    // Reads wait up to 15 s: in a full npm test one of the 200 writes once took over 5 s to project.
    t = await createTestApp({ config: { api: api({ read_wait_default_ms: 15_000 }) }, extras: (deps) => platformExtras(deps) });
    runtime = await withRuntime(t);
  });
  afterAll(async () => {
    await runtime?.stop();
    await t?.close();
  });

  it('200 write-then-immediately-read pairs without any position: every read sees its own write', async () => {
    const created = await sendJson(t.app, 'POST', '/api/v1/conversations', { label: 'start', messages: [{ role: 'user', content: 'hello' }] }, as(ALICE));
    const id = created.body.id as string;
    const stale: string[] = [];
    for (let i = 0; i < 200; i++) {
      const kind = i % 3;
      if (kind === 0) {
        // Label change, then get.
        const label = `label ${i}`;
        expect((await sendJson(t.app, 'PUT', `/api/v1/conversations/${id}/label`, { label }, as(ALICE))).status).toBe(200);
        const got = await sendJson(t.app, 'GET', `/api/v1/conversations/${id}`, undefined, as(ALICE));
        if (got.status !== 200 || got.body.label !== label) stale.push(`get after relabel ${i}: ${got.status} ${got.body.label}`);
      } else if (kind === 1) {
        // Create, then list.
        const label = `listed-${i}-${randomBytes(3).toString('hex')}`;
        const made = await sendJson(t.app, 'POST', '/api/v1/conversations', { label }, as(ALICE));
        expect(made.status).toBe(201);
        const listed = await sendJson(t.app, 'GET', `/api/v1/conversations?label=${label}`, undefined, as(ALICE));
        if (listed.status !== 200 || !listed.body.results.some((r: { id: string }) => r.id === made.body.id)) stale.push(`list after create ${i}: ${listed.status}`);
      } else {
        // Append, then search.
        const word = `zq${i}x${randomBytes(3).toString('hex')}`;
        expect((await sendJson(t.app, 'POST', `/api/v1/conversations/${id}/messages`, { messages: [{ role: 'user', content: `note ${word}` }] }, as(ALICE))).status).toBe(201);
        const found = await sendJson(t.app, 'POST', '/api/v1/search/fts', { query: word }, as(ALICE));
        if (found.status !== 200 || found.body.results.length !== 1) stale.push(`search after append ${i}: ${found.status} ${found.body.results?.length}`);
      }
    }
    expect(stale).toEqual([]);
  }, 120_000);

  it("another actor's reads are not delayed by a write that is not yet projected; X-Sekha-Consistency: eventual opts out; min_position wins", async () => {
    const { id } = (await sendJson(t.app, 'POST', '/api/v1/conversations', { label: 'before' }, as(ALICE))).body;
    // Projected, then the projector stops: the next write stays pending.
    expect((await sendJson(t.app, 'GET', `/api/v1/conversations/${id}`, undefined, as(ALICE))).body.label).toBe('before');
    await runtime.stop();
    try {
      const write = await sendJson(t.app, 'PUT', `/api/v1/conversations/${id}/label`, { label: 'after' }, as(ALICE));
      expect(write.status).toBe(200);
      const short = { ...as(ALICE) };
      // Alice's own read waits for her write, then answers 503 + Retry-After (wait_ms bounds the wait).
      const mine = await sendJson(t.app, 'GET', `/api/v1/conversations/${id}?wait_ms=200`, undefined, short);
      expect([mine.status, mine.body.code]).toEqual([503, 'not_caught_up']);
      expect(mine.headers.get('retry-after')).toBe('1');
      expect(mine.body.details.min_position).toBe(write.body.position);
      // Bob's read does not wait for Alice's write: it answers at once with what is projected.
      const bobs = await sendJson(t.app, 'GET', `/api/v1/conversations/${id}`, undefined, as(BOB));
      expect([bobs.status, bobs.body.label]).toEqual([200, 'before']);
      // Alice may opt out.
      const eventual = await sendJson(t.app, 'GET', `/api/v1/conversations/${id}`, undefined, { ...as(ALICE), 'x-sekha-consistency': 'eventual' });
      expect([eventual.status, eventual.body.label]).toEqual([200, 'before']);
      // An explicit (older) min_position wins over the remembered one.
      const older = await sendJson(t.app, 'GET', `/api/v1/conversations/${id}?min_position=0:0`, undefined, as(ALICE));
      expect([older.status, older.body.label]).toEqual([200, 'before']);
    } finally {
      runtime = await withRuntime(t);
    }
    const caughtUp = await sendJson(t.app, 'GET', `/api/v1/conversations/${id}`, undefined, as(ALICE));
    expect([caughtUp.status, caughtUp.body.label]).toEqual([200, 'after']);
  }, 60_000);

  it('remembered entries expire after api.read_your_writes_ttl_ms', async () => {
    const short = await createTestApp({ db: t.db, config: { api: api({ read_your_writes_ttl_ms: 1000 }) }, extras: (deps) => platformExtras(deps) });
    try {
      const { id, position } = (await sendJson(short.app, 'POST', '/api/v1/conversations', { label: 'ttl' }, as(BOB))).body;
      expect(await short.deps.lastWrites!.pending('key:bob')).toEqual(parsePosition(position));
      const deadline = Date.now() + 10_000;
      while ((await short.deps.lastWrites!.pending('key:bob')) !== undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(await short.deps.lastWrites!.pending('key:bob')).toBeUndefined();
      expect(id).toBeTruthy();
    } finally {
      await short.close();
    }
  });
});

describe('read-your-writes without API keys: per client address', () => {
  let t: TestApp;
  let runtime: ProjectionRuntime;
  const from = (address: string) => ({ incoming: { socket: { remoteAddress: address } } });
  beforeAll(async () => {
    t = await createTestApp({ config: { api: { rate_limit_requests: 1_000_000, rate_limit_burst: 1000 } }, extras: (deps) => platformExtras(deps) });
    runtime = await withRuntime(t);
  });
  afterAll(async () => {
    await runtime?.stop();
    await t?.close();
  });

  it("the writing address waits for its write; another loopback address does not", async () => {
    const request = async (address: string, method: string, path: string, body?: unknown) => {
      const res = await t.app.request(path, { method, ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) }, from(address));
      return { status: res.status, body: (await res.json()) as any };
    };
    const { id } = (await request('127.0.0.1', 'POST', '/api/v1/conversations', { label: 'v0' })).body;
    for (let i = 1; i <= 30; i++) {
      expect((await request('127.0.0.1', 'PUT', `/api/v1/conversations/${id}/label`, { label: `v${i}` })).status).toBe(200);
      const got = await request('127.0.0.1', 'GET', `/api/v1/conversations/${id}`);
      expect(got.body.label).toBe(`v${i}`);
    }
    await runtime.stop();
    try {
      await request('127.0.0.1', 'PUT', `/api/v1/conversations/${id}/label`, { label: 'unprojected' });
      expect((await request('127.0.0.1', 'GET', `/api/v1/conversations/${id}?wait_ms=100`)).status).toBe(503);
      const other = await request('127.0.0.2', 'GET', `/api/v1/conversations/${id}`);
      expect([other.status, other.body.label]).toEqual([200, 'v30']);
    } finally {
      runtime = await withRuntime(t);
    }
  }, 60_000);
});

describe('two service instances sharing Redis', () => {
  let redis: Redis;
  let a: TestApp;
  let b: TestApp;
  let runtime: ProjectionRuntime;
  const prefix = `test_ryw_${randomBytes(4).toString('hex')}`;
  beforeAll(async () => {
    redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    const platform = { redis, rateLimitPrefix: `${prefix}_rl`, lastWritesPrefix: prefix };
    // On a loaded machine (three test runs on two cores) one of the 60 writes took over 5 s to project: reads wait up to 15 s.
    const config = { api: api({ read_wait_default_ms: 15_000 }) };
    a = await createTestApp({ config, extras: (deps) => platformExtras(deps, platform) });
    // The second instance serves the same database and runs no projector (an api-only instance).
    b = await createTestApp({ db: a.db, config, extras: (deps) => platformExtras(deps, platform) });
    runtime = await withRuntime(a);
  });
  afterAll(async () => {
    await runtime?.stop();
    await b?.close();
    await a?.close();
    const left = await redis.keys(`${prefix}*`);
    if (left.length) await redis.del(...left);
    redis.disconnect();
  });

  it('a write through one, an immediate read through the other by the same key, sees it', async () => {
    const { id } = (await sendJson(a.app, 'POST', '/api/v1/conversations', { label: 'shared 0' }, as(ALICE))).body;
    for (let i = 1; i <= 60; i++) {
      const write = await sendJson(a.app, 'PUT', `/api/v1/conversations/${id}/label`, { label: `shared ${i}` }, as(ALICE));
      expect(write.status).toBe(200);
      const read = await sendJson(b.app, 'GET', `/api/v1/conversations/${id}`, undefined, as(ALICE));
      expect([read.status, read.body.label], `pair ${i}`).toEqual([200, `shared ${i}`]);
    }
    // The position lives in Redis under the prefix, for the key's name.
    expect(parsePosition((await redis.get(`${prefix}:key:alice`))!)).toBeDefined();
  }, 180_000);
});
