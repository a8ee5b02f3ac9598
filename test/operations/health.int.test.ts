import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../src/version.js';
import { createTestApp, sendJson, type TestApp } from '../support/testApp.js';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

describe('GET /health', () => {
  it('answers 200 with version, uptime and a database check', async () => {
    const res = await sendJson(t.app, 'GET', '/health');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'healthy', version: VERSION, checks: { database: 'ok' } });
    expect(res.body.uptime_seconds).toBeGreaterThanOrEqual(0);
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  // Its latency (< 10 ms in the guide) is measured by `npm run bench`, not asserted here: machines are noisy.
  it('does no heavy work: one database round trip per request', async () => {
    const queries: string[] = [];
    const original = t.deps.pools.write.query.bind(t.deps.pools.write);
    t.deps.pools.write.query = ((...args: Parameters<typeof original>) => {
      queries.push(String(typeof args[0] === 'string' ? args[0] : (args[0] as { text: string }).text));
      return original(...args);
    }) as typeof original;
    try {
      expect((await t.app.request('/health')).status).toBe(200);
    } finally {
      t.deps.pools.write.query = original;
    }
    expect(queries).toEqual(['select 1']);
  });

  it('answers 503 when the database is gone', async () => {
    const other = await createTestApp();
    await other.deps.pools.write.end();
    const res = await sendJson(other.app, 'GET', '/health');
    expect(res.status).toBe(503);
    expect(res.body.checks.database).toBe('down');
    // A command then is a 503 with Retry-After, never a 500.
    const write = await sendJson(other.app, 'POST', '/api/v1/conversations', { label: 'x' });
    expect(write.status).toBe(503);
    expect(write.headers.get('retry-after')).toBeTruthy();
    expect(write.body).toMatchObject({ code: 'unavailable', request_id: expect.any(String) });
    await other.db.drop();
  });
});

describe('errors', () => {
  it('an unknown route is a JSON 404 carrying the request id the client sent', async () => {
    const res = await sendJson(t.app, 'GET', '/no/such/route', undefined, { 'x-request-id': 'abc-123' });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: 'not_found', error: expect.any(String), request_id: 'abc-123' });
    expect(res.headers.get('x-request-id')).toBe('abc-123');
  });
});
