import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../support/testApp.js';
import { ADMIN, createKeyedApp, READER, WRITER } from './keyedApp.js';

// Each route declares its scope where it is declared; auth finds it through routing. This holds the
// real app to the table: a key one scope short is refused (403), a key with the scope is let through.
const KEY_OF = { read: READER, write: WRITER, admin: ADMIN } as const;
const SHORT_OF = { write: READER, admin: WRITER } as const;

const ROWS: [method: string, path: string, needs: 'public' | 'read' | 'write' | 'admin'][] = [
  ['GET', '/health', 'public'],
  ['GET', '/ready', 'public'],
  ['GET', '/metrics', 'public'],
  ['GET', '/openapi.json', 'public'],
  ['GET', '/docs', 'public'],
  ['GET', '/api/v1/conversations', 'read'],
  ['GET', '/api/v1/conversations/abc/messages', 'read'],
  ['POST', '/api/v1/conversations', 'write'],
  ['PUT', '/api/v1/conversations/abc/label', 'write'],
  ['DELETE', '/api/v1/conversations/abc', 'write'],
  ['DELETE', '/api/v1/conversations/abc?purge=true', 'admin'],
  ['DELETE', '/api/v1/conversations/abc?purge=1', 'admin'],
  ['DELETE', '/api/v1/conversations/abc?purge=false', 'write'],
  ['POST', '/api/v1/query', 'read'],
  ['POST', '/api/v1/search/fts', 'read'],
  ['POST', '/api/v1/context/assemble', 'read'],
  ['POST', '/api/v1/labels/suggest', 'read'],
  ['POST', '/api/v1/prune/dry-run', 'read'],
  ['POST', '/api/v1/prune/execute', 'write'],
  ['POST', '/api/v1/import', 'write'],
  ['POST', '/api/v1/summarize', 'write'],
  ['POST', '/api/v1/rebuild-embeddings', 'admin'],
  ['GET', '/api/v1/rebuild-embeddings/job-1', 'read'],
  ['POST', '/api/v1/projections/read-model/rebuild', 'admin'],
  ['GET', '/api/v1/projections', 'read'],
  ['GET', '/api/v1/audit/events', 'admin'],
  ['GET', '/mcp/tools', 'read'],
  ['POST', '/mcp/tools/memory_search', 'read'],
  ['POST', '/mcp/tools/memory_store', 'write'],
  ['POST', '/mcp/tools/memory_prune', 'write'],
  ['POST', '/mcp', 'read'],
  // No route: the method's default (a 404 after auth, never a way around it).
  ['GET', '/api/v1/nothing-here', 'read'],
  ['POST', '/api/v1/nothing-here', 'write'],
];

let t: TestApp;
beforeAll(async () => {
  t = await createKeyedApp();
});
afterAll(() => t.close());

const call = (method: string, path: string, key?: string) =>
  t.app.request(path, {
    method,
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    ...(method === 'GET' || method === 'DELETE' ? {} : { body: '{}' }),
  });

describe('the scope each route declares', () => {
  it.each(ROWS)('%s %s needs %s', async (method, path, needs) => {
    const anonymous = await call(method, path);
    if (needs === 'public') {
      expect(anonymous.status).not.toBe(401);
      expect(anonymous.status).not.toBe(403);
      return;
    }
    expect(anonymous.status).toBe(401);
    if (needs !== 'read') {
      const short = await call(method, path, SHORT_OF[needs]);
      expect(short.status).toBe(403);
      expect(((await short.json()) as { code: string }).code).toBe('insufficient_scope');
    }
    const enough = await call(method, path, KEY_OF[needs]);
    expect([401, 403]).not.toContain(enough.status);
  });

  it('shows each operation\'s scope in the OpenAPI document', async () => {
    const doc = (await (await call('GET', '/openapi.json')).json()) as { paths: Record<string, Record<string, { 'x-required-scope'?: string; security?: unknown[] }>> };
    expect(doc.paths['/api/v1/query']!.post!['x-required-scope']).toBe('read');
    expect(doc.paths['/api/v1/conversations/{id}']!.delete!['x-required-scope']).toBe('write (admin with purge=true)');
    expect(doc.paths['/api/v1/audit/events']!.get!['x-required-scope']).toBe('admin');
    expect(doc.paths['/health']!.get!.security).toEqual([]);
  });
});
