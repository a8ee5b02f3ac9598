import { z } from '@hono/zod-openapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nullAsAbsent } from '../../src/http/lenientBody.js';
import { lexicalStatsDefinition } from '../../src/projections/lexicalStats.js';
import { docsRoutes } from '../../src/http/docs.js';
import { createQueryApp, type QueryApp } from '../queries/support.js';
import { countEvents, sendJson } from '../support/testApp.js';

// Existing Sekha clients send empty bodies with a JSON Content-Type, null for fields they do not set,
// and whatever text their users typed, NUL included.

let t: QueryApp;
let doc: any;
let id: string;

beforeAll(async () => {
  // Full-text search reads the lexical statistics: their projector runs too.
  t = await createQueryApp({ extras: (deps) => ({ routes: [docsRoutes(deps.version)] }) }, [lexicalStatsDefinition]);
  doc = await (await t.app.request('/openapi.json')).json();
  id = (await sendJson(t.app, 'POST', '/api/v1/conversations', { label: 'target', messages: [{ role: 'user', content: 'hi' }] })).body.id;
});
afterAll(() => t?.close());

/** Sends raw text with the given headers. */
async function raw(method: string, path: string, body: string | undefined, headers: Record<string, string>) {
  const res = await t.app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed };
}

const concrete = (path: string) => path.replace(/\{[^}]+\}/g, id);

describe('an empty body is no body', () => {
  it('POST /api/v1/rebuild-embeddings with Content-Type application/json and Content-Length 0 answers as {} does, not 400 invalid_json', async () => {
    const withObject = await sendJson(t.app, 'POST', '/api/v1/rebuild-embeddings', {});
    const empty = await raw('POST', '/api/v1/rebuild-embeddings', '', { 'content-type': 'application/json', 'content-length': '0' });
    expect(empty.body.code).not.toBe('invalid_json');
    expect([empty.status, empty.body.code]).toEqual([withObject.status, withObject.body.code]);
  });

  it('on every route whose body is optional, whatever the Content-Type', async () => {
    const optional: [string, string][] = [];
    for (const [path, ops] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(ops)) {
        if (op.requestBody && op.requestBody.required !== true && op.requestBody.content?.['application/json']) optional.push([method.toUpperCase(), concrete(path)]);
      }
    }
    expect(optional.length).toBeGreaterThan(0);
    for (const [method, path] of optional) {
      for (const type of ['application/json', 'text/plain', 'application/x-www-form-urlencoded', undefined]) {
        const res = await raw(method, path, '', { ...(type ? { 'content-type': type } : {}), 'content-length': '0' });
        expect([400, 415, 500].includes(res.status) && ['invalid_json', 'unsupported_media_type', 'internal'].includes(res.body.code), `${method} ${path} (${type}) → ${res.status} ${JSON.stringify(res.body)}`).toBe(false);
      }
    }
  });

  it('a route whose body is required answers 400 "body: is required", not invalid_json', async () => {
    const res = await raw('POST', '/api/v1/conversations', '', { 'content-type': 'application/json', 'content-length': '0' });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalid_input');
    expect(res.body.details.field).toBe('body');
  });

  it('an empty MCP tool call is an empty argument object', async () => {
    const res = await raw('POST', '/mcp/tools/memory_stats', '', { 'content-type': 'application/json', 'content-length': '0' });
    expect(res.status).toBe(200);
  });
});

describe('null is absent for every optional field', () => {
  it('metadata: null on a message and on the conversation, and every other optional field null, are accepted', async () => {
    const created = await sendJson(t.app, 'POST', '/api/v1/conversations', {
      label: 'nulls',
      folder: null,
      importance_score: null,
      metadata: null,
      messages: [{ role: 'user', content: 'x', metadata: null, timestamp: null }],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ folder: '/', importance_score: 5, metadata: {} });
    const appended = await sendJson(t.app, 'POST', `/api/v1/conversations/${created.body.id}/messages`, { messages: [{ role: 'assistant', content: 'y', metadata: null }] });
    expect(appended.status, JSON.stringify(appended.body)).toBe(201);
    const relabeled = await sendJson(t.app, 'PUT', `/api/v1/conversations/${created.body.id}/label`, { label: 'renamed', folder: null });
    expect(relabeled.status, JSON.stringify(relabeled.body)).toBe(200);
    expect(relabeled.body.folder).toBe('/');
    const searched = await sendJson(t.app, 'POST', '/api/v1/search/fts', { query: 'x', limit: null, filters: null });
    expect(searched.status, JSON.stringify(searched.body)).toBe(200);
    const mcp = await sendJson(t.app, 'POST', '/mcp/tools/memory_stats', { folder: null, label: null });
    expect(mcp.status, JSON.stringify(mcp.body)).toBe(200);
  });

  it('a required field that is null is still refused, naming it', async () => {
    const res = await sendJson(t.app, 'POST', '/api/v1/conversations', { label: null });
    expect(res.status).toBe(400);
    expect(res.body.details.field).toBe('label');
  });

  it('keeps nulls inside metadata (user data) and in fields that accept null', () => {
    const schema = z.object({
      a: z.string().optional(),
      b: z.string().nullable().optional(),
      metadata: z.record(z.string(), z.unknown()).optional(),
      list: z.array(z.object({ c: z.number().default(1) })).optional(),
      either: z.union([z.object({ d: z.string().optional() }), z.object({ e: z.number() })]).optional(),
    });
    const value = { a: null, b: null, metadata: { keep: null }, list: [{ c: null }, { c: 2 }], either: { d: null } };
    expect(nullAsAbsent(schema)(value)).toEqual({ b: null, metadata: { keep: null }, list: [{}, { c: 2 }], either: {} });
    expect(schema.safeParse(value).success).toBe(true);
  });
});

describe('characters PostgreSQL cannot store', () => {
  const cases: [string, string, string, unknown, string][] = [
    ['NUL in message content (was 503)', 'POST', '/api/v1/conversations', { label: 'n', messages: [{ role: 'user', content: 'a\u0000b' }] }, 'messages.0.content'],
    ['NUL in appended content', 'POST', '/api/v1/conversations/:id/messages', { messages: [{ role: 'user', content: '\u0000' }] }, 'messages.0.content'],
    ['NUL in a metadata key', 'POST', '/api/v1/conversations', { label: 'n', metadata: { 'k\u0000': 1 } }, 'metadata.k\u0000'],
    ['NUL in a metadata value', 'POST', '/api/v1/conversations/:id/messages', { messages: [{ role: 'user', content: 'x', metadata: { v: ['ok', 'a\u0000'] } }] }, 'messages.0.metadata.v.1'],
    ['lone surrogate in content', 'POST', '/api/v1/conversations', { label: 'n', messages: [{ role: 'user', content: 'x\ud800y' }] }, 'messages.0.content'],
    ['NUL in a search query', 'POST', '/api/v1/search/fts', { query: 'a\u0000' }, 'query'],
    ['NUL in an MCP argument', 'POST', '/mcp/tools/memory_store', { label: 'n', folder: '/', messages: [{ role: 'user', content: 'a\u0000' }] }, 'messages.0.content'],
  ];
  it.each(cases)('%s: 400 naming the field, nothing written', async (_name, method, path, body, field) => {
    const before = await countEvents(t.db);
    const res = await sendJson(t.app, method, path.replace(':id', id), body);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.details?.field ?? res.body.field).toBe(field);
    expect(await countEvents(t.db)).toBe(before);
  });

  it('NUL in a query parameter is 400 naming it, not a database error', async () => {
    for (const url of ['/api/v1/conversations?label=a%00b', '/api/v1/conversations/count?folder=%2Fa%00', '/api/v1/audit/events?actor=%00']) {
      const res = await sendJson(t.app, 'GET', url);
      expect(res.status, `${url} ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body.details.field).toMatch(/^query\./);
    }
  });

  it('NUL in imported Markdown is 400, nothing written', async () => {
    const before = await countEvents(t.db);
    const res = await raw('POST', '/api/v1/import', '## user\nhello\u0000there\n', { 'content-type': 'text/markdown' });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.details.field).toBe('content');
    expect(await countEvents(t.db)).toBe(before);
  });
});
