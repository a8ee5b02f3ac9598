import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, sendJson, type TestApp } from '../support/testApp.js';
import { prepareReadModel } from '../../src/projections/index.js';

// Full Unicode in every string field of the writing bodies: control characters, NUL, lone surrogates,
// astral code points. PostgreSQL cannot store NUL or a lone surrogate; such a request must be a 400
// naming the field with nothing written, and no request may be a 5xx. fast-check's default strings are
// printable ASCII and never reach these.

/**
 * Requests per `npm test` run (the issue asks for at least 10,000). Another count by hand:
 *   UNICODE_RUNS=50000 npx vitest run test/security/unicodeFields.int.test.ts
 */
const RUNS = Number(process.env.UNICODE_RUNS ?? 10_000);

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((n) => String.fromCharCode(n));
const control = fc.integer({ min: 0, max: 0x1f }).map((n) => String.fromCharCode(n));
const c1 = fc.integer({ min: 0x7f, max: 0x9f }).map((n) => String.fromCharCode(n));
const anyCodePoint = fc.integer({ min: 0, max: 0x10ffff }).map((n) => String.fromCodePoint(n));
const char = fc.oneof(
  { weight: 4, arbitrary: fc.string({ minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: anyCodePoint },
  { weight: 1, arbitrary: control },
  { weight: 1, arbitrary: c1 },
  { weight: 1, arbitrary: loneSurrogate },
  { weight: 1, arbitrary: fc.constant('\u0000') },
);
const unicodeString = fc.array(char, { minLength: 1, maxLength: 12 }).map((cs) => cs.join(''));

const UNSTORABLE = /[\u0000\p{Cs}]/u;

let t: TestApp;
let id: string;
let cases = 0;
const statuses = new Map<number, number>();

beforeAll(async () => {
  t = await createTestApp({ config: { api: { rate_limit_requests: 1_000_000 } } });
  await prepareReadModel(t.deps.pools);
  id = (await sendJson(t.app, 'POST', '/api/v1/conversations', { label: 'unicode target' })).body.id;
});
afterAll(async () => {
  console.log(`unicode fields: ${cases} requests; statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
  await t?.close();
});

/** [name, method, path, body with the string put at `field`] for every string field of the writing bodies. */
type Target = { route: string; method: string; path: () => string; field: string; body: (s: string) => unknown };
const targets: Target[] = [
  { route: 'create', method: 'POST', path: () => '/api/v1/conversations', field: 'label', body: (s) => ({ label: s }) },
  { route: 'create', method: 'POST', path: () => '/api/v1/conversations', field: 'folder', body: (s) => ({ label: 'l', folder: `/${s}` }) },
  { route: 'create', method: 'POST', path: () => '/api/v1/conversations', field: 'metadata', body: (s) => ({ label: 'l', metadata: { [s]: s } }) },
  { route: 'create', method: 'POST', path: () => '/api/v1/conversations', field: 'messages.0.content', body: (s) => ({ label: 'l', messages: [{ role: 'user', content: s }] }) },
  { route: 'create', method: 'POST', path: () => '/api/v1/conversations', field: 'messages.0.role', body: (s) => ({ label: 'l', messages: [{ role: s, content: 'x' }] }) },
  { route: 'create', method: 'POST', path: () => '/api/v1/conversations', field: 'messages.0.metadata', body: (s) => ({ label: 'l', messages: [{ role: 'user', content: 'x', metadata: { k: [s] } }] }) },
  { route: 'append', method: 'POST', path: () => `/api/v1/conversations/${id}/messages`, field: 'messages.0.content', body: (s) => ({ messages: [{ role: 'user', content: s }] }) },
  { route: 'append', method: 'POST', path: () => `/api/v1/conversations/${id}/messages`, field: 'messages.0.content.0.text', body: (s) => ({ messages: [{ role: 'user', content: [{ type: 'text', text: s }] }] }) },
  { route: 'label', method: 'PUT', path: () => `/api/v1/conversations/${id}/label`, field: 'label', body: (s) => ({ label: s }) },
  { route: 'folder', method: 'PUT', path: () => `/api/v1/conversations/${id}/folder`, field: 'folder', body: (s) => ({ folder: `/${s}` }) },
  { route: 'fts', method: 'POST', path: () => '/api/v1/search/fts', field: 'query', body: (s) => ({ query: s }) },
  { route: 'fts', method: 'POST', path: () => '/api/v1/search/fts', field: 'filters.label', body: (s) => ({ query: 'x', filters: { label: s } }) },
  { route: 'import', method: 'POST', path: () => '/api/v1/import', field: 'content', body: (s) => ({ format: 'markdown', content: `## user\n${s}\n` }) },
  { route: 'mcp store', method: 'POST', path: () => '/mcp/tools/memory_store', field: 'messages.0.content', body: (s) => ({ label: 'l', folder: '/', messages: [{ role: 'user', content: s }] }) },
  { route: 'list', method: 'GET', path: () => '', field: 'query.label', body: () => undefined },
];

describe('full Unicode in every string field', () => {
  it(`${RUNS} generated requests: no 5xx; NUL or a lone surrogate is a 400 naming the field, nothing written`, async () => {
    // Each request has its own X-Request-Id, which every event it writes carries: after the run, every event
    // written since the start must belong to an accepted request (one query at the end, not one per request).
    const start = (await t.db.pool.query<{ p: string }>('select coalesce(max(global_position), 0)::text as p from events')).rows[0]!.p;
    const rejected = new Map<string, string>();
    const accepted = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.nat(targets.length - 1), unicodeString, async (which, s) => {
        const target = targets[which]!;
        const url = target.method === 'GET' ? `/api/v1/conversations?label=${encodeURIComponent(s.replace(/\p{Cs}/gu, '\u0000'))}` : target.path();
        // No projector runs here: reads opt out of waiting for this client's own writes.
        const requestId = `unicode-${cases}`;
        const res = await sendJson(t.app, target.method, url, target.body(s), { 'x-sekha-consistency': 'eventual', 'x-request-id': requestId });
        cases++;
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        expect(res.status, `${target.route} ${target.field} ${JSON.stringify(s)} → ${res.status} ${JSON.stringify(res.body)}`).toBeLessThan(500);
        if (res.status >= 400) rejected.set(requestId, `${target.route} ${target.field} ${JSON.stringify(s)} → ${res.status}`);
        else accepted.add(requestId);
        if (UNSTORABLE.test(s)) {
          expect(res.status, `${target.route} ${target.field} ${JSON.stringify(s)}`).toBe(400);
          expect(typeof res.body.details?.field, JSON.stringify(res.body)).toBe('string');
        }
      }),
      { numRuns: RUNS },
    );
    expect(cases).toBeGreaterThanOrEqual(RUNS);
    const written = await t.db.pool.query<{ request_id: string | null; n: number }>(
      "select metadata->>'request_id' as request_id, count(*)::int as n from events where global_position > $1 group by 1",
      [start],
    );
    const strays = written.rows.filter((r) => !accepted.has(r.request_id ?? '')).map((r) => `${r.n} event(s) of ${r.request_id}: ${rejected.get(r.request_id ?? '') ?? 'no request of this run'}`);
    expect(strays, 'events written by rejected requests').toEqual([]);
    // The accepted writes did write (the check above is not vacuous).
    expect(written.rows.length).toBeGreaterThan(0);
  }, 600_000);
});
