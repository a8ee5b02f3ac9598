import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformExtras } from '../../src/app/platform.js';
import { prepareReadModel } from '../../src/projections/index.js';
import { createTestApp, type TestApp } from '../support/testApp.js';

// Anonymous clients (loopback, no keys) are limited per address. Spoofed forwarding headers must not
// buy a fresh budget: X-Forwarded-For counts only from server.trusted_proxies, and then only its
// right-most untrusted entry (everything left of it is what the client wrote).
const LIST = '/api/v1/conversations';
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({
    config: { api: { rate_limit_requests: 1, rate_limit_burst: 2 }, server: { trusted_proxies: ['127.0.0.1'] } },
    extras: (deps) => platformExtras(deps),
  });
  await prepareReadModel(t.deps.pools);
});
afterAll(() => t?.close());

const get = (headers: Record<string, string>, address: string) => t.app.request(LIST, { headers }, { incoming: { socket: { remoteAddress: address } } });

/** Sends requests until a 429; answers how many passed. */
async function budget(address: string, headers: (i: number) => Record<string, string>): Promise<number> {
  for (let i = 0; i < 20; i++) if ((await get(headers(i), address)).status === 429) return i;
  return 20;
}

describe('rate-limit evasion by header spoofing', () => {
  it('an untrusted client rotating X-Forwarded-For, X-Real-IP, Forwarded and True-Client-IP gets one budget', async () => {
    const passed = await budget('127.0.0.9', (i) => ({
      'x-forwarded-for': `203.0.113.${i}`,
      'x-real-ip': `198.51.100.${i}`,
      forwarded: `for=192.0.2.${i}`,
      'true-client-ip': `192.0.2.${100 + i}`,
      'X-FORWARDED-FOR': `203.0.113.${50 + i}`,
    }));
    expect(passed).toBeGreaterThanOrEqual(1);
    expect(passed).toBeLessThanOrEqual(3);
  });

  it('behind the trusted proxy, entries the client prepends to X-Forwarded-For do not count', async () => {
    // The proxy appends the real client (203.0.113.200); the client wrote a new fake address each time.
    const passed = await budget('127.0.0.1', (i) => ({ 'x-forwarded-for': `10.0.0.${i}, 203.0.113.200` }));
    expect(passed).toBeGreaterThanOrEqual(1);
    expect(passed).toBeLessThanOrEqual(3);
  });

  it('the trusted proxy itself named as the client, or a chain of it, does not reset the budget', async () => {
    const passed = await budget('127.0.0.1', (i) => ({ 'x-forwarded-for': `203.0.113.201, 127.0.0.1${i % 2 ? ', 127.0.0.1' : ''}` }));
    expect(passed).toBeGreaterThanOrEqual(1);
    expect(passed).toBeLessThanOrEqual(3);
  });
});
