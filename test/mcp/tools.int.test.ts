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
    // A bare array: clients type the answer as one.
    expect(Array.isArray(res.body)).toBe(true);
    expect(res.body.map((x: any) => x.name)).toEqual(['memory_store', 'memory_search', 'memory_update', 'memory_get_context', 'memory_assemble_context', 'memory_prune', 'memory_export', 'memory_stats']);
    const store = res.body[0];
    expect(store.input_schema).toMatchObject({ type: 'object', properties: { label: { type: 'string' }, messages: { type: 'array' } } });
    expect(res.body.find((x: any) => x.name === 'memory_get_context').input_schema.required).toEqual(['conversation_id']);
    expect(res.body.find((x: any) => x.name === 'memory_assemble_context').input_schema.required).toEqual(['query']);
  });

  it('stores, updates, searches, assembles context, exports, prunes and counts through the same functions as REST', async () => {
    const stored = await tool('memory_store', { label: 'kubernetes', folder: '/work/k8s', messages: [{ role: 'user', content: 'The pod is stuck in CrashLoopBackOff after the deploy.' }, { role: 'assistant', content: 'Check the container logs and the liveness probe.' }] });
    expect(stored.status, JSON.stringify(stored.body)).toBe(200);
    expect(stored.body).toMatchObject({ success: true, error: null, data: { label: 'kubernetes', folder: '/work/k8s', message_count: 2 } });
    const id = stored.body.data.id;
    const updated = await tool('memory_update', { arguments: { conversation_id: id, label: 'k8s incidents', importance_score: 9, pinned: true } });
    expect(updated.body).toMatchObject({ success: true, data: { conversation_id: id, conversation: { label: 'k8s incidents', importance_score: 9, pinned: true } } });
    const position = updated.body.data.position;
    const rest = await sendJson(t.app, 'GET', `/api/v1/conversations/${id}?min_position=${position}`);
    expect(rest.body).toMatchObject({ label: 'k8s incidents', importance_score: 9, pinned: true });

    const search = await tool('memory_search', { query: 'CrashLoopBackOff pod', mode: 'fts' }, { 'x-sekha-position': position });
    expect(search.body.success, JSON.stringify(search.body)).toBe(true);
    expect(search.body.data.results[0].conversation_id).toBe(id);
    const ctx = await tool('memory_assemble_context', { query: 'liveness probe crash', context_budget: 200 }, { 'x-sekha-position': position });
    expect(ctx.body.success).toBe(true);
    expect(ctx.body.data.messages.map((m: any) => m.metadata.citation.conversation_id)).toContain(id);
    expect(ctx.body.data.estimated_tokens).toBeLessThanOrEqual(200);
    const exported = await tool('memory_export', { conversation_id: id, format: 'markdown' });
    expect(exported.body.data.content).toMatch(/^# k8s incidents/);
    const stats = await tool('memory_stats', { folder: '/work' });
    expect(stats.body.data).toMatchObject({ total_conversations: 1, total_messages: 2, labels: ['k8s incidents'] });
    const dry = await tool('memory_prune', { threshold_days: 0, importance_threshold: 10 });
    expect(dry.body).toMatchObject({ success: true, data: { total_suggestions: 0 } }); // pinned: never suggested
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
    const badContext = await tool('memory_assemble_context', { query: 'x', context_budget: -5 });
    expect(badContext.body.details.field).toBe('context_budget');
    const badJson = await sendJson(t.app, 'POST', '/mcp/tools/memory_stats', '{oops');
    expect(badJson.status).toBe(400);
    expect(badJson.body.success).toBe(false);
    expect(await countEvents(t.db)).toBe(before);
  });
});

// Upstream Sekha (sekha-ai/sekha-controller, src/api/mcp.rs): the field names each tool's `data` carries.
describe('MCP tools answer upstream shapes', () => {
  const keysOf = (o: object) => Object.keys(o).sort();
  let id: string;
  beforeAll(async () => {
    const stored = await tool('memory_store', { label: 'upstream shapes', folder: '/compat', importance_score: 2, messages: [{ role: 'user', content: 'the zebra crossing was repainted', metadata: { k: 1 } }] });
    expect(stored.body.data).toMatchObject({ conversation_id: expect.any(String), id: expect.any(String), label: 'upstream shapes', folder: '/compat' });
    id = stored.body.data.id;
  });

  it('memory_search → {query, total_results, limit, results: [{conversation_id, message_id, score, content, label, folder, timestamp, metadata}]}', async () => {
    const res = await tool('memory_search', { query: 'zebra crossing', mode: 'fts' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(keysOf(res.body.data)).toEqual(['limit', 'query', 'results', 'total_results']);
    expect(res.body.data).toMatchObject({ query: 'zebra crossing', limit: 10, total_results: 1 });
    expect(keysOf(res.body.data.results[0])).toEqual(['content', 'conversation_id', 'folder', 'label', 'message_id', 'metadata', 'score', 'timestamp']);
    expect(res.body.data.results[0]).toMatchObject({ conversation_id: id, label: 'upstream shapes', folder: '/compat', metadata: { k: 1 } });
  });

  it('memory_get_context takes {conversation_id} and answers its details', async () => {
    const res = await tool('memory_get_context', { conversation_id: id });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(keysOf(res.body.data)).toEqual(['conversation_id', 'created_at', 'folder', 'importance_score', 'label', 'session_count', 'status', 'updated_at', 'word_count'].sort());
    expect(res.body.data).toMatchObject({ conversation_id: id, label: 'upstream shapes', status: 'active', folder: '/compat', importance_score: 2, word_count: 5, session_count: 1 });
    expect((await tool('memory_get_context', { conversation_id: '00000000-0000-4000-8000-000000000000' })).status).toBe(404);
  });

  it('memory_update accepts status (active, pinned, archived) and answers {conversation_id, updated_fields, message}', async () => {
    const res = await tool('memory_update', { conversation_id: id, label: 'renamed', status: 'pinned', importance_score: 3 });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data).toMatchObject({ conversation_id: id, updated_fields: ['label/folder', 'status', 'importance_score'], message: expect.any(String) });
    expect((await tool('memory_get_context', { conversation_id: id })).body.data).toMatchObject({ label: 'renamed', status: 'pinned', importance_score: 3 });
    await tool('memory_update', { conversation_id: id, status: 'archived' });
    expect((await tool('memory_get_context', { conversation_id: id })).body.data.status).toBe('archived');
    await tool('memory_update', { conversation_id: id, status: 'active' });
    expect((await tool('memory_get_context', { conversation_id: id })).body.data.status).toBe('active');
    const bad = await tool('memory_update', { conversation_id: id, status: 'deleted' });
    expect([bad.status, bad.body.details.field]).toEqual([400, 'status']);
  });

  it('memory_export → {conversation: {...}, messages, format, include_metadata}', async () => {
    const res = await tool('memory_export', { conversation_id: id, include_metadata: false });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data).toMatchObject({ format: 'json', include_metadata: false });
    expect(keysOf(res.body.data.conversation)).toEqual(['created_at', 'folder', 'id', 'importance_score', 'label', 'session_count', 'status', 'updated_at', 'word_count']);
    expect(res.body.data.messages).toHaveLength(1);
    expect(res.body.data.messages[0]).toMatchObject({ role: 'user', content: 'the zebra crossing was repainted' });
    expect(res.body.data.messages[0].metadata).toBeUndefined();
    expect((await tool('memory_export', { conversation_id: id })).body.data.messages[0].metadata).toEqual({ k: 1 });
  });

  it('memory_prune → {threshold_days, importance_threshold, total_suggestions, estimated_token_savings, suggestions}', async () => {
    const res = await tool('memory_prune', { threshold_days: 0, importance_threshold: 10 });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(keysOf(res.body.data)).toEqual(['estimated_token_savings', 'importance_threshold', 'suggestions', 'threshold_days', 'total_suggestions']);
    expect(res.body.data).toMatchObject({ threshold_days: 0, importance_threshold: 10, total_suggestions: 1 });
    expect(keysOf(res.body.data.suggestions[0])).toEqual(['conversation_id', 'conversation_label', 'importance_score', 'last_accessed', 'message_count', 'preview', 'recommendation', 'token_estimate']);
    expect(res.body.data.estimated_token_savings).toBe(res.body.data.suggestions[0].token_estimate);
    // Upstream's defaults: 30 days, importance below 5.
    expect((await tool('memory_prune', {})).body.data).toMatchObject({ threshold_days: 30, importance_threshold: 5 });
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
