import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lexicalStatsDefinition } from '../../src/projections/lexicalStats.js';
import { createProjectionRuntime, type ProjectionRuntime } from '../../src/projections/runtime.js';
import { platformExtras } from '../../src/app/platform.js';
import { silentLogger } from '../projections/helpers.js';
import { createQueryApp, type QueryApp } from '../queries/support.js';
import { countEvents, sendJson } from '../support/testApp.js';

let t: QueryApp;
let lexical: ProjectionRuntime;
beforeAll(async () => {
  t = await createQueryApp();
  // BM25 (search, context) reads the lexical statistics; the server runs them with the vectors.
  lexical = createProjectionRuntime({ pool: t.deps.pools.write, url: t.db.url, logger: silentLogger, batchSize: 100, pollIntervalMs: 200, leaseCheckMs: 500 }, [lexicalStatsDefinition]);
  await lexical.start();
});
afterAll(async () => {
  await lexical?.stop();
  await t?.close();
});

const tool = (name: string, body: unknown, headers: Record<string, string> = {}) => sendJson(t.app, 'POST', `/mcp/tools/${name}`, body, headers);

describe('MCP tools', () => {
  it('lists every tool with a JSON schema of its input', async () => {
    const res = await sendJson(t.app, 'GET', '/mcp/tools');
    expect(res.status).toBe(200);
    expect(res.body.tools.map((x: any) => x.name)).toEqual(['memory_store', 'memory_search', 'memory_update', 'memory_get_context', 'memory_prune', 'memory_export', 'memory_stats']);
    const store = res.body.tools[0];
    expect(store.input_schema).toMatchObject({ type: 'object', properties: { label: { type: 'string' }, messages: { type: 'array' } } });
    expect(res.body.tools.find((x: any) => x.name === 'memory_get_context').input_schema.required).toEqual(['query']);
  });

  it('stores, updates, searches, assembles context, exports, prunes and counts through the same functions as REST', async () => {
    const stored = await tool('memory_store', { label: 'kubernetes', folder: '/work/k8s', messages: [{ role: 'user', content: 'The pod is stuck in CrashLoopBackOff after the deploy.' }, { role: 'assistant', content: 'Check the container logs and the liveness probe.' }] });
    expect(stored.status, JSON.stringify(stored.body)).toBe(200);
    expect(stored.body).toMatchObject({ success: true, error: null, data: { label: 'kubernetes', folder: '/work/k8s', message_count: 2 } });
    const id = stored.body.data.id;
    const updated = await tool('memory_update', { arguments: { conversation_id: id, label: 'k8s incidents', importance_score: 9, pinned: true } });
    expect(updated.body).toMatchObject({ success: true, data: { label: 'k8s incidents', importance_score: 9, pinned: true } });
    const position = updated.body.data.position;
    const rest = await sendJson(t.app, 'GET', `/api/v1/conversations/${id}?min_position=${position}`);
    expect(rest.body).toMatchObject({ label: 'k8s incidents', importance_score: 9, pinned: true });

    const search = await tool('memory_search', { query: 'CrashLoopBackOff pod', mode: 'fts' }, { 'x-sekha-position': position });
    expect(search.body.success, JSON.stringify(search.body)).toBe(true);
    expect(search.body.data.results[0].conversation_id).toBe(id);
    const ctx = await tool('memory_get_context', { query: 'liveness probe crash', context_budget: 200 }, { 'x-sekha-position': position });
    expect(ctx.body.success).toBe(true);
    expect(ctx.body.data.messages.map((m: any) => m.metadata.citation.conversation_id)).toContain(id);
    expect(ctx.body.data.estimated_tokens).toBeLessThanOrEqual(200);
    const exported = await tool('memory_export', { conversation_id: id, format: 'markdown' });
    expect(exported.body.data.content).toMatch(/^# k8s incidents/);
    const stats = await tool('memory_stats', { folder: '/work' });
    expect(stats.body.data).toMatchObject({ total_conversations: 1, total_messages: 2, labels: ['k8s incidents'] });
    const dry = await tool('memory_prune', { threshold_days: 0, importance_threshold: 10 });
    expect(dry.body).toMatchObject({ success: true, data: { total: 0 } }); // pinned: never suggested
    const pruned = await tool('memory_prune', { execute: true, conversation_ids: [id] });
    expect(pruned.body.data).toMatchObject({ archived: [id], not_found: [] });
  });

  it('answers failures in the envelope with the status of the failure, writing nothing', async () => {
    const before = await countEvents(t.db);
    const unknown = await tool('memory_nothing', {});
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: 'not_found', error: expect.stringMatching(/no route for POST \/mcp\/tools\/memory_nothing/) });
    const bad = await tool('memory_store', { label: '', messages: [] });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ success: false, data: null, code: 'invalid_input', details: { field: 'label' } });
    const badUpdate = await tool('memory_update', { conversation_id: 'nope' });
    expect(badUpdate.body.details.field).toBe('conversation_id');
    const nothing = await tool('memory_update', { conversation_id: '00000000-0000-4000-8000-000000000000' });
    expect(nothing.status).toBe(400);
    const missing = await tool('memory_update', { conversation_id: '00000000-0000-4000-8000-000000000000', pinned: true });
    expect(missing.status).toBe(404);
    expect(missing.body.success).toBe(false);
    const badContext = await tool('memory_get_context', { query: 'x', context_budget: -5 });
    expect(badContext.body.details.field).toBe('context_budget');
    const badJson = await sendJson(t.app, 'POST', '/mcp/tools/memory_stats', '{oops');
    expect(badJson.status).toBe(400);
    expect(badJson.body.success).toBe(false);
    expect(await countEvents(t.db)).toBe(before);
  });
});

describe('MCP tools behind auth', () => {
  const READER = 'r'.repeat(40);
  const WRITER = 'w'.repeat(40);
  let a: QueryApp;
  beforeAll(async () => {
    a = await createQueryApp({
      config: { api: { keys: [{ name: 'reader', key: READER, scopes: ['read'] }, { name: 'writer', key: WRITER, scopes: ['read', 'write'] }], rate_limit_requests: 6000, rate_limit_burst: 100 } },
      extras: (deps) => platformExtras(deps),
    });
  });
  afterAll(() => a?.close());
  const call = (name: string, key: string, body: unknown) => sendJson(a.app, 'POST', `/mcp/tools/${name}`, body, { authorization: `Bearer ${key}` });

  it('lets a read key use the reading tools and refuses it the writing ones; the inner call keeps the caller', async () => {
    expect((await call('memory_stats', READER, {})).body).toMatchObject({ success: true, data: { total_conversations: 0 } });
    const denied = await call('memory_store', READER, { label: 'x', messages: [] });
    expect(denied.status).toBe(403);
    const stored = await call('memory_store', WRITER, { label: 'by writer', messages: [{ role: 'user', content: 'hello' }] });
    expect(stored.status, JSON.stringify(stored.body)).toBe(200);
    const events = await a.db.pool.query<{ actor: string }>(`select metadata->>'actor' as actor from events`);
    expect(events.rows.length).toBeGreaterThan(0);
    expect(new Set(events.rows.map((r) => r.actor))).toEqual(new Set(['writer']));
    expect((await sendJson(a.app, 'POST', '/mcp/tools/memory_stats', {})).status).toBe(401);
  });
});
