import { createHash } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformExtras } from '../../src/app/platform.js';
import { prepareReadModel } from '../../src/projections/index.js';
import { freePort } from '../../src/util/freePort.js';
import { createTestApp, sendJson, type TestApp } from '../support/testApp.js';

const READER = 'r'.repeat(40);
const WRITER = 'w'.repeat(36);
const ADMIN = `admin-${'a'.repeat(40)}`;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const newConversation = { label: 'auth test', messages: [{ role: 'user', content: 'hello' }] };

describe('auth with configured keys', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      config: {
        api: {
          keys: [
            { name: 'reader', key: READER, scopes: ['read'] },
            { name: 'writer', key: WRITER, scopes: ['read', 'write'] },
            // Stored as its digest only: the config holds no secret.
            { name: 'ops', key_sha256: sha256(ADMIN), scopes: ['admin'] },
          ],
          rate_limit_requests: 6000,
          rate_limit_burst: 100,
        },
      },
      extras: (deps) => platformExtras(deps),
    });
    // The list query reads the read-model tables; no projector runs here, so they stay empty.
    await prepareReadModel(t.deps.pools);
  });
  afterAll(() => t.close());

  it('missing key: 401 with WWW-Authenticate', async () => {
    const res = await sendJson(t.app, 'GET', '/api/v1/conversations');
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('missing_api_key');
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('malformed Authorization: 401', async () => {
    for (const authorization of ['Basic dXNlcjpwYXNz', 'Bearer', `Bearer ${WRITER} extra`, WRITER]) {
      const res = await sendJson(t.app, 'GET', '/api/v1/conversations', undefined, { authorization });
      expect(res.status, authorization).toBe(401);
      expect(res.body.code).toBe('malformed_credentials');
    }
  });

  it('short key: 401 saying the minimum length', async () => {
    const res = await sendJson(t.app, 'GET', '/api/v1/conversations', undefined, { 'x-api-key': 'short-key' });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'invalid_api_key', error: 'API keys are at least 32 characters' });
  });

  it('unknown key: 401, also for a key that differs from a known one in its last character', async () => {
    for (const key of ['u'.repeat(48), `${READER.slice(0, -1)}x`]) {
      const res = await sendJson(t.app, 'GET', '/api/v1/conversations', undefined, bearer(key));
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('unknown_api_key');
    }
  });

  it('wrong scope: 403 naming the scope needed', async () => {
    const write = await sendJson(t.app, 'POST', '/api/v1/conversations', newConversation, bearer(READER));
    expect(write.status).toBe(403);
    expect(write.body).toMatchObject({ code: 'insufficient_scope', details: { required: 'write', scopes: ['read'] } });
    const created = await sendJson(t.app, 'POST', '/api/v1/conversations', newConversation, bearer(WRITER));
    expect(created.status).toBe(201);
    const purge = await sendJson(t.app, 'DELETE', `/api/v1/conversations/${created.body.id}?purge=true`, undefined, bearer(WRITER));
    expect(purge.status).toBe(403);
    expect(purge.body.details.required).toBe('admin');
  });

  it('Bearer and X-API-Key both work; the key name becomes the event actor', async () => {
    expect((await sendJson(t.app, 'GET', '/api/v1/conversations', undefined, { 'x-api-key': READER })).status).toBe(200);
    expect((await sendJson(t.app, 'GET', '/api/v1/conversations', undefined, bearer(READER))).status).toBe(200);
    const created = await sendJson(t.app, 'POST', '/api/v1/conversations', newConversation, { 'x-api-key': WRITER });
    expect(created.status).toBe(201);
    const { rows } = await t.db.pool.query(`select metadata->>'actor' as actor from events where stream_id = $1`, [`conversation-${created.body.id}`]);
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => r.actor))).toEqual(new Set(['writer']));
  });

  it('both headers: accepted when they agree, 401 when they differ', async () => {
    const same = await sendJson(t.app, 'GET', '/api/v1/conversations', undefined, { ...bearer(READER), 'x-api-key': READER });
    expect(same.status).toBe(200);
    const differ = await sendJson(t.app, 'GET', '/api/v1/conversations', undefined, { ...bearer(READER), 'x-api-key': WRITER });
    expect(differ.status).toBe(401);
    expect(differ.body.code).toBe('conflicting_credentials');
  });

  it('admin (configured as a digest) may purge, and admin grants read and write', async () => {
    const created = await sendJson(t.app, 'POST', '/api/v1/conversations', newConversation, bearer(ADMIN));
    expect(created.status).toBe(201);
    expect((await sendJson(t.app, 'GET', '/api/v1/conversations', undefined, bearer(ADMIN))).status).toBe(200);
    const purge = await sendJson(t.app, 'DELETE', `/api/v1/conversations/${created.body.id}?purge=true`, undefined, bearer(ADMIN));
    expect(purge.status).toBe(200);
  });

  it('audit across streams needs admin, however the path is spelled', async () => {
    for (const path of ['/api/v1/audit/events', '/api/v1/%61udit/events']) {
      const res = await sendJson(t.app, 'GET', path, undefined, bearer(READER));
      expect(res.status, path).toBe(403);
    }
    // A spelling that routes nowhere is a 404 for anyone (the scope of no route is its method's default).
    for (const key of [READER, ADMIN]) expect((await sendJson(t.app, 'GET', '/api/v1/audit/events/', undefined, bearer(key))).status).toBe(404);
    expect((await sendJson(t.app, 'GET', '/api/v1/audit/events', undefined, bearer(ADMIN))).status).toBe(200);
  });

  it('read-only POSTs need only read', async () => {
    const res = await sendJson(t.app, 'POST', '/api/v1/search/fts', { query: 'hello' }, bearer(READER));
    expect(res.status).not.toBe(401);
    expect(res.status).not.toBe(403);
  });

  it('operations routes need no key', async () => {
    for (const path of ['/health', '/ready', '/metrics', '/openapi.json', '/docs']) {
      const res = await t.app.request(path);
      expect(res.status, path).toBe(200);
    }
  });
});

describe('auth with no keys: loopback clients only', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ extras: (deps) => platformExtras(deps) });
    await prepareReadModel(t.deps.pools);
  });
  afterAll(() => t.close());

  const from = (address: string) => ({ incoming: { socket: { remoteAddress: address } } });

  it('serves loopback addresses (IPv4, IPv6, IPv4-mapped) and refuses others with 403', async () => {
    for (const address of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) {
      const res = await t.app.request('/api/v1/conversations', {}, from(address));
      expect(res.status, address).toBe(200);
    }
    for (const address of ['10.1.2.3', '::ffff:192.168.1.9', 'fd00::2']) {
      const res = await t.app.request('/api/v1/conversations', {}, from(address));
      expect(res.status, address).toBe(403);
      expect(((await res.json()) as { code: string }).code).toBe('loopback_only');
    }
    // No socket at all (not a real client): refused.
    expect((await t.app.request('/api/v1/conversations')).status).toBe(403);
  });

  it('over real sockets: a loopback connection is served, one from the machine’s network address is not', async () => {
    const port = await freePort();
    const server: ServerType = await new Promise((r) => {
      const s = serve({ fetch: t.app.fetch, hostname: '0.0.0.0', port }, () => r(s));
    });
    try {
      expect((await fetch(`http://127.0.0.1:${port}/api/v1/conversations`)).status).toBe(200);
      const external = Object.values(networkInterfaces())
        .flat()
        .find((i) => i && i.family === 'IPv4' && !i.internal);
      // This machine has a non-loopback interface (eth0); the assertion below needs it.
      expect(external, 'a non-loopback IPv4 interface').toBeDefined();
      const res = await fetch(`http://${external!.address}:${port}/api/v1/conversations`);
      expect(res.status).toBe(403);
      // Public operations routes stay open.
      expect((await fetch(`http://${external!.address}:${port}/health`)).status).toBe(200);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
