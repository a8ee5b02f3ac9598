import { Writable } from 'node:stream';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app/createApp.js';
import { platformExtras } from '../../src/app/platform.js';
import { createLogger } from '../../src/logger.js';
import { prepareReadModel } from '../../src/projections/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createTestApp, sendJson, type TestApp } from '../support/testApp.js';

const KEY = 'secret-key-'.padEnd(44, 'x');
const auth = { authorization: `Bearer ${KEY}` };

let db: TestDatabase;
const apps: TestApp[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  for (const a of apps) await a.close();
  await db.drop();
});

async function appWith(api: Record<string, unknown> = {}): Promise<TestApp> {
  const t = await createTestApp({
    db,
    config: { api: { keys: [{ name: 'tester', key: KEY, scopes: ['read', 'write'] }], rate_limit_requests: 6000, rate_limit_burst: 100, ...api } },
    extras: (deps) => platformExtras(deps),
  });
  if (apps.length === 0) await prepareReadModel(t.deps.pools);
  apps.push(t);
  return t;
}

describe('compression', () => {
  let t: TestApp;
  let plain: string;
  beforeAll(async () => {
    t = await appWith({ compress_min_bytes: 2048 });
    const res = await t.app.request('/openapi.json');
    expect(res.headers.get('content-encoding')).toBeNull();
    plain = await res.text();
    expect(plain.length).toBeGreaterThan(4096);
  });

  it('brotli and gzip by Accept-Encoding above the threshold, with Vary', async () => {
    const br = await t.app.request('/openapi.json', { headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(br.headers.get('content-encoding')).toBe('br');
    expect(br.headers.get('vary')).toMatch(/accept-encoding/i);
    const brBytes = Buffer.from(await br.arrayBuffer());
    expect(Number(br.headers.get('content-length'))).toBe(brBytes.length);
    expect(brBytes.length).toBeLessThan(plain.length / 3);
    expect(brotliDecompressSync(brBytes).toString()).toBe(plain);

    const gz = await t.app.request('/openapi.json', { headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    expect(gunzipSync(Buffer.from(await gz.arrayBuffer())).toString()).toBe(plain);

    // q=0 refuses an encoding.
    const noBr = await t.app.request('/openapi.json', { headers: { 'accept-encoding': 'br;q=0, gzip;q=0.5' } });
    expect(noBr.headers.get('content-encoding')).toBe('gzip');
  });

  it('leaves answers below the threshold alone', async () => {
    for (const enc of ['br', 'gzip']) {
      const res = await t.app.request('/health', { headers: { 'accept-encoding': enc } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-encoding')).toBeNull();
      expect(((await res.json()) as { status: string }).status).toBe('healthy');
    }
  });

  it('threshold is a byte count: at exactly the size it compresses, one byte more and it does not', async () => {
    const size = Buffer.byteLength(plain);
    const at = await appWith({ compress_min_bytes: size });
    expect((await at.app.request('/openapi.json', { headers: { 'accept-encoding': 'gzip' } })).headers.get('content-encoding')).toBe('gzip');
    const above = await appWith({ compress_min_bytes: size + 1 });
    expect((await above.app.request('/openapi.json', { headers: { 'accept-encoding': 'gzip' } })).headers.get('content-encoding')).toBeNull();
  });

  it('is off when compress_responses is false', async () => {
    const off = await appWith({ compress_responses: false });
    expect((await off.app.request('/openapi.json', { headers: { 'accept-encoding': 'br' } })).headers.get('content-encoding')).toBeNull();
  });
});

describe('CORS', () => {
  it('answers preflights for configured origins only', async () => {
    const t = await appWith({ cors_origins: ['https://app.example'] });
    const ok = await t.app.request('/api/v1/conversations', {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(ok.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
    const other = await t.app.request('/api/v1/conversations', { headers: { origin: 'https://evil.example', ...auth } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('metrics', () => {
  it('exposes route histograms by template and status after requests, plus pool use', async () => {
    const t = await appWith();
    await sendJson(t.app, 'GET', '/api/v1/conversations', undefined, auth);
    await sendJson(t.app, 'GET', '/api/v1/conversations/00000000-0000-4000-8000-000000000000', undefined, auth);
    await sendJson(t.app, 'GET', '/no/such/route', undefined, auth);
    const res = await t.app.request('/metrics');
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/sekha_http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/api\/v1\/conversations",status="200"\} \d+/);
    expect(text).toMatch(/sekha_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/conversations\/\{id\}",status="404"\} 1/);
    expect(text).toMatch(/sekha_http_request_duration_seconds_count\{method="GET",route="unmatched",status="404"\} 1/);
    expect(text).toMatch(/sekha_http_requests_in_flight \d/);
    expect(text).toMatch(/sekha_db_pool_connections\{pool="write",state="total"\} \d+/);
    expect(text).toMatch(/sekha_db_pool_connections\{pool="write",state="waiting"\} 0/);
    expect(text).toMatch(/sekha_append_batches_total \d+/);
    expect(text).toMatch(/sekha_append_batch_fallbacks_total 0/);
  });

  it("reports the event store's group commits", async () => {
    const t = await appWith();
    const creates = Array.from({ length: 8 }, () => sendJson(t.app, 'POST', '/api/v1/conversations', { label: 'batched', messages: [{ role: 'user', content: 'hi' }] }, auth));
    expect((await Promise.all(creates)).map((r) => r.status)).toEqual(Array(8).fill(201));
    const text = await (await t.app.request('/metrics')).text();
    const count = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
    // Creates that arrive while the first append is in flight share a commit.
    expect(count('sekha_append_batched_total')).toBeGreaterThan(0);
    expect(count('sekha_append_batched_total')).toBe(t.deps.store.appendBatches.batchedAppends);
    expect(count('sekha_append_batches_total')).toBe(t.deps.store.appendBatches.batches);
  });

  it('counts requests refused before the metrics middleware: 401, 403 and 429, once each', async () => {
    const t = await appWith({ rate_limit_requests: 60, rate_limit_burst: 1 });
    expect((await sendJson(t.app, 'GET', '/api/v1/conversations')).status).toBe(401);
    expect((await sendJson(t.app, 'POST', '/api/v1/projections/read-model/rebuild', {}, auth)).status).toBe(403);
    let served = 0;
    while ((await sendJson(t.app, 'GET', '/api/v1/conversations', undefined, auth)).status === 200) served++;
    expect(served).toBeGreaterThan(0);
    expect(served).toBeLessThan(5);
    const text = await (await t.app.request('/metrics')).text();
    for (const [method, route, status, n] of [
      ['GET', '/api/v1/conversations', '401', 1],
      ['POST', '/api/v1/projections/{name}/rebuild', '403', 1],
      ['GET', '/api/v1/conversations', '200', served],
      ['GET', '/api/v1/conversations', '429', 1],
    ]) {
      expect(text).toContain(`sekha_http_requests_total{method="${method}",route="${route}",status="${status}"} ${n}`);
      expect(text).toContain(`sekha_http_request_duration_seconds_count{method="${method}",route="${route}",status="${status}"} ${n}`);
    }
  });

  it('records what other modules report (projection lag, embed latency)', async () => {
    const t = await appWith();
    t.deps.metrics!.embedLatency.observe({ provider: 'local', model: 'test-model' }, 0.02);
    const text = await (await t.app.request('/metrics')).text();
    expect(text).toMatch(/sekha_embed_duration_seconds_count\{provider="local",model="test-model"\} 1/);
    // The read-model projector's checkpoint exists (prepared), so its lag is reported from the database.
    expect(text).toMatch(/sekha_projection_lag\{projector="read-model@\d+",unit="events"\} \d+/);
  });

  it('answers the JSON envelope the SDKs expect when asked for JSON', async () => {
    const t = await appWith();
    await sendJson(t.app, 'GET', '/api/v1/conversations', undefined, auth);
    for (const headers of [{ accept: 'application/json' }, { 'content-type': 'application/json' }] as Record<string, string>[]) {
      const res = await t.app.request('/metrics', { headers });
      const body = (await res.json()) as any;
      expect(body.metrics).toContain('sekha_http_request_duration_seconds');
      expect(body.requests_total).toBeGreaterThanOrEqual(1);
      expect(body.db_pools.write).toHaveProperty('total');
      expect(typeof body.uptime_seconds).toBe('number');
    }
  });

  it('each app has its own registry', async () => {
    const a = await appWith();
    const b = await appWith();
    await sendJson(a.app, 'GET', '/api/v1/conversations', undefined, auth);
    expect(await (await b.app.request('/metrics')).text()).not.toContain('route="/api/v1/conversations"');
  });
});

describe('readiness', () => {
  it('is ready when the database answers and every added check says ok; 503 naming the failing one', async () => {
    const t = await appWith();
    const ready = await t.app.request('/ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { database: 'ok' } });
    t.deps.readiness = { projectors: () => 'read-model@1 stopped' };
    const notReady = await t.app.request('/ready');
    expect(notReady.status).toBe(503);
    expect(notReady.headers.get('retry-after')).toBe('1');
    expect(await notReady.json()).toMatchObject({ status: 'not_ready', checks: { database: 'ok', projectors: 'read-model@1 stopped' } });
    delete t.deps.readiness;
  });
});

describe('logs', () => {
  it('carry request ids and never the API key or message contents', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    const logger = createLogger('trace', sink);
    const base = await appWith();
    const deps = { ...base.deps, logger, metrics: undefined };
    const app = createApp(deps, platformExtras(deps));
    const secretText = 'my-bank-pin-is-48151623';
    const created = await sendJson(app, 'POST', '/api/v1/conversations', { label: 'private', messages: [{ role: 'user', content: secretText }] }, { ...auth, 'x-request-id': 'req-log-test-1' });
    expect(created.status).toBe(201);
    await sendJson(app, 'POST', `/api/v1/conversations/${created.body.id}/messages`, { messages: [{ role: 'assistant', content: secretText }] }, { 'x-api-key': KEY });
    await sendJson(app, 'POST', '/api/v1/conversations', { label: 42, messages: [{ role: 'user', content: secretText }] }, auth);
    await sendJson(app, 'GET', '/api/v1/conversations', undefined, { authorization: `Bearer ${KEY.replace(/x$/, 'y')}` });
    const output = lines.join('\n');
    expect(lines.length).toBeGreaterThan(0);
    const parsed = lines.map((l) => JSON.parse(l));
    expect(parsed.some((l) => l.request_id === 'req-log-test-1' && l.actor === 'tester')).toBe(true);
    expect(output).not.toContain(KEY);
    expect(output).not.toContain(KEY.slice(0, 20));
    expect(output).not.toContain(secretText);
  });
});
