import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformExtras, type PlatformOptions } from '../../src/app/platform.js';
import { prepareReadModel } from '../../src/projections/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createTestApp, type TestApp } from '../support/testApp.js';

const KEY = 'k'.repeat(40);
const LIST = '/api/v1/conversations';

let db: TestDatabase;
const apps: TestApp[] = [];
let redis: Redis;
const prefixes: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
});

afterAll(async () => {
  for (const a of apps) await a.close();
  for (const prefix of prefixes) {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
  }
  redis.disconnect();
  await db.drop();
});

type Api = { rate_limit_requests: number; rate_limit_burst: number; rate_limit_routes?: Record<string, { requests: number; burst: number }> };

async function appWith(api: Api, options: { keys?: boolean; trustedProxies?: string[]; platform?: PlatformOptions } = {}): Promise<TestApp> {
  const t = await createTestApp({
    db,
    config: {
      api: { ...api, ...(options.keys === false ? {} : { keys: [{ name: 'client', key: KEY, scopes: ['read', 'write'] }] }) },
      server: { trusted_proxies: options.trustedProxies ?? [] },
    },
    extras: (deps) => platformExtras(deps, options.platform),
  });
  if (apps.length === 0) await prepareReadModel(t.deps.pools);
  apps.push(t);
  return t;
}

const get = (t: TestApp, path = LIST, headers: Record<string, string> = { 'x-api-key': KEY }, address?: string) =>
  t.app.request(path, { headers }, address ? { incoming: { socket: { remoteAddress: address } } } : undefined);

function uniquePrefix(): string {
  const prefix = `sekha_test_rl_${randomBytes(6).toString('hex')}`;
  prefixes.push(prefix);
  return prefix;
}

describe('rate limiting (in process)', () => {
  it('allows the steady rate plus the burst, then 429 with Retry-After and RateLimit headers', async () => {
    // 1 request/minute and a burst of 3: four pass at once, the fifth waits for the minute.
    const t = await appWith({ rate_limit_requests: 1, rate_limit_burst: 3 });
    for (let i = 0; i < 4; i++) {
      const res = await get(t);
      expect(res.status, `request ${i + 1}`).toBe(200);
      expect(res.headers.get('ratelimit-limit')).toBe('4');
      // Steady and burst tokens together, counting down to 0.
      expect(res.headers.get('ratelimit-remaining'), `request ${i + 1}`).toBe(String(3 - i));
    }
    const limited = await get(t);
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.headers.get('ratelimit-remaining')).toBe('0');
    expect(Number(limited.headers.get('ratelimit-reset'))).toBe(retryAfter);
    expect(await limited.json()).toMatchObject({ code: 'rate_limited', details: { retry_after_seconds: retryAfter } });
    // Operations routes are not limited.
    expect((await t.app.request('/health')).status).toBe(200);
  });

  it('refills: after Retry-After the next request passes', async () => {
    // 60/minute is one token a second, no burst.
    const t = await appWith({ rate_limit_requests: 60, rate_limit_burst: 0 });
    expect((await get(t)).status).toBe(200);
    const limited = await get(t);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    const started = Date.now();
    let status = 429;
    while (status === 429 && Date.now() - started < 5000) {
      await new Promise((r) => setImmediate(r));
      status = (await get(t)).status;
    }
    expect(status).toBe(200);
    // The token came back after the window, not at once.
    expect(Date.now() - started).toBeGreaterThan(100);
  });

  it('per-route overrides have their own bucket', async () => {
    const t = await appWith({ rate_limit_requests: 600, rate_limit_burst: 10, rate_limit_routes: { [`GET ${LIST}`]: { requests: 1, burst: 0 } } });
    expect((await get(t)).status).toBe(200);
    const limited = await get(t);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('ratelimit-limit')).toBe('1');
    expect((await get(t, `${LIST}/count`)).status).toBe(200);
  });

  it('anonymous clients are limited per address; X-Forwarded-For counts only from a trusted proxy', async () => {
    const t = await appWith({ rate_limit_requests: 1, rate_limit_burst: 0 }, { keys: false, trustedProxies: ['127.0.0.1'] });
    expect((await get(t, LIST, {}, '127.0.0.2')).status).toBe(200);
    expect((await get(t, LIST, {}, '127.0.0.2')).status).toBe(429);
    // Another address has its own budget.
    expect((await get(t, LIST, {}, '127.0.0.3')).status).toBe(200);
    // Behind the trusted proxy, each forwarded client has its own budget…
    expect((await get(t, LIST, { 'x-forwarded-for': '203.0.113.7' }, '127.0.0.1')).status).toBe(200);
    expect((await get(t, LIST, { 'x-forwarded-for': '203.0.113.8' }, '127.0.0.1')).status).toBe(200);
    expect((await get(t, LIST, { 'x-forwarded-for': '203.0.113.7' }, '127.0.0.1')).status).toBe(429);
    // …while an untrusted peer cannot pick a fresh budget by sending the header.
    expect((await get(t, LIST, { 'x-forwarded-for': '198.51.100.1' }, '127.0.0.2')).status).toBe(429);
  });
});

describe('rate limiting shared through Redis', () => {
  it('two app instances share one budget', async () => {
    const prefix = uniquePrefix();
    const api = { rate_limit_requests: 1, rate_limit_burst: 2 };
    const a = await appWith(api, { platform: { redis, rateLimitPrefix: prefix } });
    const b = await appWith(api, { platform: { redis, rateLimitPrefix: prefix } });
    // Three tokens in all, taken alternately from both instances.
    expect((await get(a)).status).toBe(200);
    expect((await get(b)).status).toBe(200);
    expect((await get(a)).status).toBe(200);
    const limitedB = await get(b);
    expect(limitedB.status).toBe(429);
    expect((await get(a)).status).toBe(429);
    expect(Number(limitedB.headers.get('retry-after'))).toBeGreaterThan(0);
    // The budget lives in Redis under the prefix.
    expect((await redis.keys(`${prefix}:*`)).length).toBeGreaterThan(0);
    // An instance with its own prefix (another deployment) is unaffected.
    const other = await appWith(api, { platform: { redis, rateLimitPrefix: uniquePrefix() } });
    expect((await get(other)).status).toBe(200);
  });
});
