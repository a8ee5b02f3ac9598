import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformExtras } from '../../src/app/platform.js';
import { createLogger } from '../../src/logger.js';
import { prepareReadModel } from '../../src/projections/index.js';
import { createTestApp, sendJson, type TestApp } from '../support/testApp.js';

// Requests carrying keys, good and bad, at the most verbose log level: no key appears in any line.
const KEY = `secret-${'s'.repeat(40)}`;
const WRONG = `wrong-${'w'.repeat(40)}`;
let logged = '';
const sink = new Writable({
  write(chunk, _enc, done) {
    logged += String(chunk);
    done();
  },
});

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({
    config: { api: { keys: [{ name: 'writer', key: KEY, scopes: ['read', 'write'] }] } },
    extras: (deps) => {
      deps.logger = createLogger('trace', sink);
      return platformExtras(deps);
    },
  });
  await prepareReadModel(t.deps.pools);
});
afterAll(() => t?.close());

describe('no secrets in logs', () => {
  it('keys in Authorization and X-API-Key, accepted and refused, never reach the log', async () => {
    const body = { label: 'logged', messages: [{ role: 'user', content: 'x' }] };
    expect((await sendJson(t.app, 'POST', '/api/v1/conversations', body, { authorization: `Bearer ${KEY}` })).status).toBe(201);
    expect((await sendJson(t.app, 'GET', '/api/v1/conversations', undefined, { 'x-api-key': KEY, 'x-sekha-consistency': 'eventual' })).status).toBe(200);
    expect((await sendJson(t.app, 'GET', '/api/v1/conversations', undefined, { authorization: `Bearer ${WRONG}` })).status).toBe(401);
    expect((await sendJson(t.app, 'GET', '/api/v1/conversations', undefined, { 'x-api-key': WRONG, authorization: `Bearer ${KEY}` })).status).toBe(401);
    expect((await sendJson(t.app, 'POST', '/api/v1/conversations', '{not json', { authorization: `Bearer ${KEY}` })).status).toBe(400);
    expect(logged.length).toBeGreaterThan(0);
    expect(logged).not.toContain(KEY);
    expect(logged).not.toContain(WRONG);
    expect(logged).not.toContain(KEY.slice(0, 20));
  });
});
