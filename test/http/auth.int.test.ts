import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { networkInterfaces } from 'node:os';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformExtras } from '../../src/app/platform.js';
import { prepareReadModel } from '../../src/projections/index.js';
import { freePort } from '../../src/util/freePort.js';
import { createTestApp, sendJson, type TestApp } from '../support/testApp.js';
import { ADMIN, createKeyedApp, READER, WRITER } from './auth/keyedApp.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const newConversation = { label: 'auth test', messages: [{ role: 'user', content: 'hello' }] };

describe('auth with configured keys', () => {
  let t: TestApp;
  beforeAll(async () => {
    // The admin key stored as its digest only: the config holds no secret.
    t = await createKeyedApp({ key_sha256: sha256(ADMIN) });
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
    // No projector runs here: without opting out, the read would wait for the admin's own write (503).
    expect((await sendJson(t.app, 'GET', '/api/v1/conversations', undefined, { ...bearer(ADMIN), 'x-sekha-consistency': 'eventual' })).status).toBe(200);
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

/** A request over a real socket with a Host (and other headers) of our choosing (fetch would not send a false Host). */
function rawRequest(port: number, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: { ...headers, ...(body ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text || 'null') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('DNS rebinding: web pages are kept out of the loopback mode', () => {
  let t: TestApp;
  let server: ServerType;
  let port: number;
  beforeAll(async () => {
    t = await createTestApp({ config: { server: { allowed_hosts: ['memory.lan'] } }, extras: (deps) => platformExtras(deps) });
    await prepareReadModel(t.deps.pools);
    port = await freePort();
    server = await new Promise((r) => {
      const s = serve({ fetch: t.app.fetch, hostname: '127.0.0.1', port }, () => r(s));
    });
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await t.close();
  });

  it('a loopback connection whose Host is a foreign name (evil.example:8080) is refused 403 with how to allow a host; nothing is written', async () => {
    const { rows: before } = await t.db.pool.query<{ n: number }>('select count(*)::int as n from events');
    for (const [method, path, body] of [
      ['GET', '/api/v1/conversations', undefined],
      ['POST', '/api/v1/conversations', JSON.stringify(newConversation)],
    ] as const) {
      const res = await rawRequest(port, method, path, { host: 'evil.example:8080' }, body);
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body.code).toBe('host_not_allowed');
      expect(res.body.error).toMatch(/server\.allowed_hosts/);
    }
    const { rows: after } = await t.db.pool.query<{ n: number }>('select count(*)::int as n from events');
    expect(after[0]!.n).toBe(before[0]!.n);
  });

  it('serves loopback Host names on any port, and server.allowed_hosts', async () => {
    for (const host of ['localhost', 'localhost:8080', '127.0.0.1:1', '[::1]:8080', 'LOCALHOST.', 'memory.lan:8080', 'memory.lan']) {
      const res = await rawRequest(port, 'GET', '/api/v1/conversations', { host });
      expect(res.status, host).toBe(200);
    }
    for (const host of ['localhost.evil.example', '127.0.0.1.nip.io', 'memory.lan.evil.example', 'evil.example']) {
      expect((await rawRequest(port, 'GET', '/api/v1/conversations', { host })).status, host).toBe(403);
    }
  });

  it('refuses a request whose Origin is not loopback (a page’s fetch), and serves loopback origins', async () => {
    for (const origin of ['http://evil.example', 'https://evil.example:8080', 'null', 'http://127.0.0.1.evil.example']) {
      const res = await rawRequest(port, 'POST', '/api/v1/conversations', { host: `127.0.0.1:${port}`, origin }, JSON.stringify(newConversation));
      expect(res.status, origin).toBe(403);
      expect(res.body.code).toBe('origin_not_allowed');
      expect(res.body.error).toMatch(/allowed_hosts/);
    }
    for (const origin of [`http://localhost:${port}`, 'http://127.0.0.1:3000', 'http://[::1]:5173', 'http://memory.lan']) {
      expect((await rawRequest(port, 'GET', '/api/v1/conversations', { host: `127.0.0.1:${port}`, origin })).status, origin).toBe(200);
    }
  });

  it('probes stay open whatever the Host', async () => {
    expect((await rawRequest(port, 'GET', '/health', { host: '10.0.0.7:8080' })).status).toBe(200);
  });
});

describe('with API keys, server.allowed_hosts still applies when set', () => {
  const KEY = 'h'.repeat(40);
  it('serves any Host without allowed_hosts; only allowed (and loopback) ones with it', async () => {
    const open = await createTestApp({ config: { api: { keys: [{ name: 'k', key: KEY, scopes: ['read'] }] } }, extras: (deps) => platformExtras(deps) });
    const strict = await createTestApp({
      config: { server: { allowed_hosts: ['memory.example.com'] }, api: { keys: [{ name: 'k', key: KEY, scopes: ['read'] }] } },
      extras: (deps) => platformExtras(deps),
    });
    try {
      await prepareReadModel(open.deps.pools);
      await prepareReadModel(strict.deps.pools);
      const get = (app: TestApp, host: string) => app.app.request('/api/v1/conversations', { headers: { ...bearer(KEY), host } });
      expect((await get(open, 'anything.example')).status).toBe(200);
      expect((await get(strict, 'memory.example.com:443')).status).toBe(200);
      expect((await get(strict, 'localhost:8080')).status).toBe(200);
      const refused = await get(strict, 'other.example');
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { code: string }).code).toBe('host_not_allowed');
    } finally {
      await open.close();
      await strict.close();
    }
  });
});
