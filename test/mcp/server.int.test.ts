import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformExtras } from '../../src/app/platform.js';
import { lexicalStatsDefinition } from '../../src/projections/lexicalStats.js';
import { createProjectionRuntime, type ProjectionRuntime } from '../../src/projections/runtime.js';
import { silentLogger } from '../projections/helpers.js';
import { createQueryApp, type QueryApp } from '../queries/support.js';
import { sendJson } from '../support/testApp.js';

const READER = 'r'.repeat(40);
const WRITER = 'w'.repeat(40);
let t: QueryApp;
let lexical: ProjectionRuntime;
let server: ServerType;
let base: string;

beforeAll(async () => {
  t = await createQueryApp({
    config: { api: { keys: [{ name: 'reader', key: READER, scopes: ['read'] }, { name: 'writer', key: WRITER, scopes: ['read', 'write'] }], rate_limit_requests: 6000 } },
    extras: (deps) => platformExtras(deps),
  });
  lexical = createProjectionRuntime({ pool: t.deps.pools.write, url: t.db.url, logger: silentLogger, batchSize: 100, pollIntervalMs: 200, leaseCheckMs: 500 }, [lexicalStatsDefinition]);
  await lexical.start();
  server = await new Promise((r) => {
    const s = serve({ fetch: t.app.fetch, hostname: '127.0.0.1', port: 0 }, () => r(s));
  });
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}, 120_000);
afterAll(async () => {
  await new Promise<void>((r) => server?.close(() => r()));
  await lexical?.stop();
  await t?.close();
});

async function httpClient(key: string): Promise<Client> {
  const client = new Client({ name: 'test', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL('/mcp', base), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
  return client;
}

/** Waits until the read model has what a write answered (its position); a loaded machine may need a few waits. */
async function settled(id: string, position: string) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const res = await sendJson(t.app, 'GET', `/api/v1/conversations/${id}?min_position=${position}`, undefined, { authorization: `Bearer ${READER}` });
    if (res.status === 200) return;
    if (res.status !== 503 || Date.now() > deadline) throw new Error(`read model not at ${position}: ${res.status}`);
  }
}

const TOOLS = [
  'memory_store',
  'memory_search',
  'memory_update',
  'memory_get_context',
  'memory_assemble_context',
  'memory_export',
  'memory_stats',
  'memory_get_conversation',
  'memory_summarize',
  'memory_prune_suggestions',
];

describe('MCP over Streamable HTTP at /mcp', () => {
  let writer: Client;
  let reader: Client;
  let id: string;
  beforeAll(async () => {
    writer = await httpClient(WRITER);
    reader = await httpClient(READER);
  });
  afterAll(async () => {
    await writer?.close();
    await reader?.close();
  });

  it('lists the tools with input schemas from the routes’ zod schemas', async () => {
    const { tools } = await reader.listTools();
    expect(tools.map((x) => x.name).sort()).toEqual([...TOOLS].sort());
    const store = tools.find((x) => x.name === 'memory_store')!;
    expect(store.inputSchema).toMatchObject({ type: 'object', properties: { label: { type: 'string' }, messages: { type: 'array' } } });
    // Upstream's memory_get_context: one conversation's details; context assembly has its own name.
    expect(tools.find((x) => x.name === 'memory_get_context')!.inputSchema.required).toEqual(['conversation_id']);
    expect(tools.find((x) => x.name === 'memory_assemble_context')!.inputSchema.required).toEqual(['query']);
    expect(tools.find((x) => x.name === 'memory_search')!.annotations?.readOnlyHint).toBe(true);
    expect(store.annotations?.readOnlyHint).toBe(false);
  });

  it('calls every tool: text plus structured content', async () => {
    const stored = await writer.callTool({
      name: 'memory_store',
      arguments: { label: 'kubernetes', folder: '/work/k8s', messages: [{ role: 'user', content: 'The pod is stuck in CrashLoopBackOff after the deploy.' }] },
    });
    expect(stored.isError, JSON.stringify(stored.content)).toBeFalsy();
    const data = stored.structuredContent as { id: string; position: string; label: string };
    expect(data).toMatchObject({ label: 'kubernetes', folder: '/work/k8s', message_count: 1 });
    expect(JSON.parse((stored.content as { text: string }[])[0]!.text)).toMatchObject({ id: data.id });
    id = data.id;
    await settled(id, data.position);

    const updated = await writer.callTool({ name: 'memory_update', arguments: { conversation_id: id, label: 'k8s incidents', importance_score: 9, archived: false } });
    // The same shape as the REST tool route: upstream's {conversation_id, updated_fields, message}, plus the conversation.
    expect(updated.structuredContent).toMatchObject({
      conversation_id: id,
      updated_fields: ['label/folder', 'importance_score', 'archived'],
      message: expect.any(String),
      conversation: { label: 'k8s incidents', importance_score: 9, status: 'active' },
    });
    await settled(id, (updated.structuredContent as { position: string }).position);

    const got = await reader.callTool({ name: 'memory_get_conversation', arguments: { conversation_id: id } });
    expect(got.structuredContent).toMatchObject({ id, label: 'k8s incidents', messages: [{ role: 'user' }] });
    expect((got.content as { text: string }[])[0]!.text).toMatch(/^# k8s incidents/);

    const searched = await reader.callTool({ name: 'memory_search', arguments: { query: 'CrashLoopBackOff', mode: 'fts', limit: 5 } });
    expect(searched.isError, JSON.stringify(searched.content)).toBeFalsy();
    expect(JSON.stringify(searched.structuredContent)).toContain(id);

    const details = await reader.callTool({ name: 'memory_get_context', arguments: { conversation_id: id } });
    expect(details.structuredContent).toEqual({
      conversation_id: id,
      label: 'k8s incidents',
      status: 'active',
      folder: '/work/k8s',
      importance_score: 9,
      word_count: expect.any(Number),
      session_count: 1,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });

    const context = await reader.callTool({ name: 'memory_assemble_context', arguments: { query: 'pod deploy', context_budget: 500, excluded_folders: ['/personal'] } });
    expect(context.isError, JSON.stringify(context.content)).toBeFalsy();
    expect(context.structuredContent).toMatchObject({ messages: expect.any(Array) });

    const summary = await writer.callTool({ name: 'memory_summarize', arguments: { conversation_id: id, level: 'daily' } });
    expect(summary.isError, JSON.stringify(summary.content)).toBeFalsy();
    expect(summary.structuredContent).toMatchObject({ conversation_id: id, level: 'daily', model: 'extractive' });

    const prune = await reader.callTool({ name: 'memory_prune_suggestions', arguments: { threshold_days: 0, importance_threshold: 10 } });
    expect(prune.isError, JSON.stringify(prune.content)).toBeFalsy();
    // memory_prune's dry-run shape (upstream's).
    expect(prune.structuredContent).toMatchObject({ threshold_days: 0, importance_threshold: 10, total_suggestions: expect.any(Number), estimated_token_savings: expect.any(Number), suggestions: expect.any(Array) });

    const exported = await reader.callTool({ name: 'memory_export', arguments: { conversation_id: id, format: 'markdown' } });
    expect(exported.structuredContent).toMatchObject({
      format: 'markdown',
      include_metadata: true,
      conversation: { id, label: 'k8s incidents', status: 'active', session_count: 1 },
      messages: [{ role: 'user', content: expect.stringContaining('CrashLoopBackOff') }],
      content: expect.stringMatching(/^# k8s incidents/),
    });

    const stats = await reader.callTool({ name: 'memory_stats', arguments: { folder: '/work' } });
    expect(stats.structuredContent).toMatchObject({ total_conversations: 1, folders: ['/work/k8s'] });
  });

  it('memory_update sets status active, pinned or archived, and the writer reads it back at once (no position sent)', async () => {
    for (const status of ['pinned', 'archived', 'active'] as const) {
      const updated = await writer.callTool({ name: 'memory_update', arguments: { conversation_id: id, status } });
      expect(updated.structuredContent, JSON.stringify(updated.content)).toMatchObject({ conversation_id: id, updated_fields: ['status'] });
      // Read-your-writes per actor: the writer's next read waits for its own write.
      const details = await writer.callTool({ name: 'memory_get_context', arguments: { conversation_id: id } });
      expect(details.structuredContent).toMatchObject({ conversation_id: id, status });
    }
    const bad = await writer.callTool({ name: 'memory_update', arguments: { conversation_id: id, status: 'deleted' } });
    expect(bad).toMatchObject({ isError: true, structuredContent: { code: 'invalid_input', details: { field: 'status' } } });
  });

  it('reads a conversation as Markdown and lists conversations by folder through the resource template', async () => {
    const read = await reader.readResource({ uri: `sekha://conversations/${id}` });
    expect(read.contents[0]).toMatchObject({ mimeType: 'text/markdown' });
    expect((read.contents[0] as { text: string }).text).toContain('CrashLoopBackOff');
    const templates = await reader.listResourceTemplates();
    expect(templates.resourceTemplates.map((x) => x.uriTemplate).sort()).toEqual(['sekha://conversations/{id}', 'sekha://folders/{folder}']);
    const listed = await reader.listResources();
    const folder = listed.resources.find((r) => r.name === '/work/k8s')!;
    expect(folder.uri).toBe('sekha://folders/%2Fwork%2Fk8s');
    const inFolder = await reader.readResource({ uri: folder.uri });
    expect((inFolder.contents[0] as { text: string }).text).toContain(`sekha://conversations/${id}`);
  });

  it('a read key cannot call a writing tool; bad input and API failures are tool errors with the API’s message', async () => {
    const refused = await reader.callTool({ name: 'memory_store', arguments: { label: 'x', folder: '/', messages: [{ role: 'user', content: 'hi' }] } });
    expect(refused.isError).toBe(true);
    expect((refused.content as { text: string }[])[0]!.text).toMatch(/needs the write scope/);
    const bad = await reader.callTool({ name: 'memory_get_conversation', arguments: { conversation_id: 'not-a-uuid' } });
    expect(bad.isError).toBe(true);
    expect((bad.content as { text: string }[])[0]!.text).toMatch(/conversation_id[\s\S]*must be a UUID/);
    const missing = await reader.callTool({ name: 'memory_get_conversation', arguments: { conversation_id: '00000000-0000-4000-8000-000000000000' } });
    expect(missing).toMatchObject({ isError: true, structuredContent: { code: 'not_found', error: 'conversation not found' } });
    const unknown = await reader.callTool({ name: 'memory_nothing', arguments: {} });
    expect(unknown.isError).toBe(true);
    // The server is still fine.
    expect((await reader.listTools()).tools).toHaveLength(TOOLS.length);
  });

  it('refuses a request without a key before any MCP is spoken', async () => {
    const res = await fetch(`${base}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' });
    expect(res.status).toBe(401);
  });
});

describe('MCP over stdio (sekha mcp)', () => {
  it('forwards to the running service with the key: lists tools, calls one, reads a resource, keeps the scopes', async () => {
    const spawnClient = async (key: string) => {
      const client = new Client({ name: 'desktop', version: '1' });
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'DATABASE_URL') env[k] = v;
      await client.connect(
        new StdioClientTransport({
          command: process.execPath,
          args: [join(import.meta.dirname, '..', '..', 'bin', 'sekha.mjs'), 'mcp', '--url', base],
          env: { ...env, SEKHA_API_KEY: key, LOG_LEVEL: 'warn' },
          stderr: 'pipe',
        }),
        // Starting tsx and the CLI takes a while on a loaded machine: more than the SDK's default 60 s.
        { timeout: 180_000 },
      );
      return client;
    };
    const client = await spawnClient(READER);
    try {
      expect((await client.listTools()).tools.map((x) => x.name).sort()).toEqual([...TOOLS].sort());
      const stats = await client.callTool({ name: 'memory_stats', arguments: {} });
      expect(stats.structuredContent).toMatchObject({ total_conversations: expect.any(Number) });
      const { resources } = await client.listResources();
      expect(resources.length).toBeGreaterThan(0);
      const folder = await client.readResource({ uri: resources[0]!.uri });
      expect((folder.contents[0] as { text: string }).text).toMatch(/sekha:\/\/conversations\//);
      const refused = await client.callTool({ name: 'memory_store', arguments: { label: 'x', folder: '/', messages: [{ role: 'user', content: 'hi' }] } });
      expect(refused.isError).toBe(true);
    } finally {
      await client.close();
    }
  }, 240_000);
});
