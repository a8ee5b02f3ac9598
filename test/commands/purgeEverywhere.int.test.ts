import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveCollection } from '../../src/vectors/collections.js';
import { until } from '../projections/helpers.js';
import { sendJson } from '../support/testApp.js';
import { createSearchApp, type SearchApp } from '../vectors/support.js';

/**
 * A purge leaves the content nowhere: not in the event log, the read tables (nor any other table of
 * the database, which is what a backup of it would hold), the vectors or the embedding cache; the
 * audit still shows that it happened, and replays after it succeed.
 */
describe('privacy purge across every projection (real Chroma, real local model)', () => {
  let t: SearchApp;
  const marker = `zx${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const texts = [`the vault combination is ${marker} and must stay secret`, `understood, I will remember ${marker}`];
  let id = '';
  let keep = '';

  beforeAll(async () => {
    t = await createSearchApp();
    id = (await t.create({ label: 'secrets', metadata: { note: marker }, messages: [{ role: 'user', content: texts[0] }, { role: 'assistant', content: [{ type: 'text', text: texts[1] }] }] })).id;
    keep = (await t.create({ label: 'other', messages: [{ role: 'user', content: 'a harmless note about gardening' }] })).id;
    await t.untilVectors(3);
  });
  afterAll(() => t.close());

  /** Tables of the database whose rows mention the marker, with counts. */
  async function tablesMentioning(): Promise<Record<string, number>> {
    const { rows: tables } = await t.db.pool.query<{ name: string }>(
      `select quote_ident(table_name) as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`,
    );
    const found: Record<string, number> = {};
    for (const { name } of tables) {
      // A rebuild may drop an old version's table meanwhile (42P01): then it holds nothing.
      const rows = await t.db.pool
        .query<{ n: number }>(`select count(*)::int as n from ${name} x where x::text like '%' || $1 || '%'`, [marker])
        .then((r) => r.rows, (e: { code?: string }) => (e.code === '42P01' ? [{ n: 0 }] : Promise.reject(e)));
      if (rows[0]!.n > 0) found[name] = rows[0]!.n;
    }
    return found;
  }
  const cached = async () =>
    (
      await t.db.pool.query<{ n: number }>('select count(*)::int as n from embedding_cache where text_hash = any($1::bytea[])', [
        texts.map((s) => createHash('sha256').update(s, 'utf8').digest()),
      ])
    ).rows[0]!.n;
  /** Vectors of a conversation, as a (non-degraded) semantic search sees them; retried while degraded. */
  const vectorsOf = (conversationId: string) =>
    until(async () => {
      // The query text differs from the purged texts: a query's own embedding is cached too.
      const res = await t.search({ query: 'what is the vault combination', mode: 'semantic', limit: 10, filters: { conversation_id: conversationId, include_archived: true } });
      return res.status === 200 && res.body.degraded === false ? { n: res.body.results.length as number } : undefined;
    }, 30_000, 'a non-degraded semantic search').then((r) => r.n);

  it('finds the content everywhere before the purge (so the checks below can fail)', async () => {
    const before = await tablesMentioning();
    expect(Object.keys(before)).toContain('events');
    expect(Object.keys(before).some((name) => name.includes('messages'))).toBe(true);
    // The lexical projection's postings and documents hold its lexeme.
    expect(Object.keys(before).some((name) => /^lex_v\d+_postings$/.test(name))).toBe(true);
    expect(Object.keys(before).some((name) => /^lex_v\d+_docs$/.test(name))).toBe(true);
    expect(await cached()).toBe(2);
    expect(await vectorsOf(id)).toBe(2);
    expect((await sendJson(t.app, 'POST', '/api/v1/search/fts', { query: marker })).body.results.length).toBeGreaterThan(0);
  });

  it('removes it from the events, every table, the vectors and the cache; the audit shows who purged', async () => {
    const res = await sendJson(t.app, 'DELETE', `/api/v1/conversations/${id}?purge=true`, undefined, { 'x-request-id': 'purge-everywhere' });
    expect(res.status).toBe(200);
    const get = await sendJson(t.app, 'GET', `/api/v1/conversations/${id}?min_position=${encodeURIComponent(res.body.position)}`);
    expect([get.status, get.body.code]).toEqual([404, 'deleted']);
    await until(async () => (await vectorsOf(id)) === 0, 30_000, 'vectors removed');
    await until(async () => Object.keys(await tablesMentioning()).length === 0, 30_000, 'no table mentions the marker');
    expect(await cached()).toBe(0);
    expect((await sendJson(t.app, 'POST', '/api/v1/search/fts', { query: marker })).body.results).toEqual([]);
    for (const mode of ['semantic', 'hybrid', 'fts']) {
      const found = await t.search({ query: `vault combination ${marker}`, mode, limit: 20, filters: { include_archived: true } });
      expect(JSON.stringify(found.body)).not.toContain(marker);
      expect(found.body.results.map((r: { conversation_id: string }) => r.conversation_id)).not.toContain(id);
    }
    const exported = await sendJson(t.app, 'GET', `/api/v1/conversations/${id}/export?format=json`);
    expect(JSON.stringify(exported.body)).not.toContain(marker);
    const audit = await sendJson(t.app, 'GET', `/api/v1/audit/events?stream=${id}&type=ConversationPurged`);
    expect(audit.body.events).toHaveLength(1);
    expect(audit.body.events[0].metadata).toMatchObject({ actor: 'anonymous', request_id: 'purge-everywhere' });
    expect(JSON.stringify((await sendJson(t.app, 'GET', `/api/v1/audit/events?stream=${id}`)).body)).not.toContain(marker);
    // The other conversation is untouched.
    expect(await vectorsOf(keep)).toBe(1);
  });

  it('replays after the purge: read-model, lexical and embeddings rebuilds all succeed without the content', async () => {
    for (const name of ['read-model', 'lexical-stats']) {
      const rebuild = await sendJson(t.app, 'POST', `/api/v1/projections/${name}/rebuild`);
      expect(rebuild.status).toBe(202);
      await until(
        async () => {
          const p = await sendJson(t.app, 'GET', '/api/v1/projections');
          return p.body.projections.filter((r: { name: string }) => r.name === name).every((r: { version: number; state: string }) => r.version === rebuild.body.version && r.state === 'live');
        },
        60_000,
        `${name} rebuild`,
      );
    }
    expect((await sendJson(t.app, 'POST', '/api/v1/search/fts', { query: 'harmless gardening' })).body.results).toHaveLength(1);
    // A 503 (with Retry-After) means "try again shortly", as a client would.
    const vectors = await until(async () => {
      const res = await sendJson(t.app, 'POST', '/api/v1/rebuild-embeddings', {});
      if (res.status === 503) {
        expect(res.headers.get('retry-after')).toBeTruthy();
        return undefined;
      }
      return res;
    }, 60_000, 'rebuild-embeddings accepted');
    expect(vectors.status).toBe(202);
    await until(async () => (await sendJson(t.app, 'GET', vectors.body.status_url)).body.status === 'completed', 120_000, 'embeddings rebuild');
    expect((await liveCollection(t.db.pool))!.collection).toBe(vectors.body.collection);
    expect(await t.vectors.store.count(vectors.body.collection)).toBe(1);
    const purged = await sendJson(t.app, 'GET', `/api/v1/conversations/${id}`);
    expect([purged.status, purged.body.code]).toEqual([404, 'deleted']);
    expect((await sendJson(t.app, 'GET', `/api/v1/conversations/${keep}?include=messages`)).body.messages).toHaveLength(1);
    expect(await tablesMentioning()).toEqual({});
    expect(await cached()).toBe(0);
  });
});
