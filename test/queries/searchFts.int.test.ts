import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendJson } from '../support/testApp.js';
import { lexicalStatsDefinition } from '../../src/projections/lexicalStats.js';
import { createQueryApp, type QueryApp } from './support.js';

let t: QueryApp;
let last = '';
const ids: Record<string, string> = {};

beforeAll(async () => {
  t = await createQueryApp({}, [lexicalStatsDefinition]);
  const seed = async (key: string, body: Record<string, unknown>) => {
    const c = await t.create(body);
    ids[key] = c.id;
    last = c.position;
  };
  await seed('many', { label: 'db', folder: '/eng', messages: [{ role: 'user', content: 'Postgres replication: postgres streams WAL; postgres replicas replay it.' }] });
  await seed('once', {
    label: 'db',
    folder: '/eng',
    messages: [{ role: 'assistant', content: `A long answer about many databases. ${'Filler words about storage engines. '.repeat(20)} Postgres appears once here.` }],
  });
  await seed('other', { label: 'cooking', folder: '/home', messages: [{ role: 'user', content: 'A recipe for bread with flour, water and salt.' }] });
  await seed('parts', {
    label: 'multimodal',
    folder: '/home',
    messages: [{ role: 'user', content: [{ type: 'text', text: 'Look at this postgres diagram' }, { type: 'image_url', image_url: { url: 'https://x.test/a.png' } }] }],
  });
  await seed('markup', {
    label: 'web',
    folder: '/web',
    messages: [{ role: 'user', content: 'An xylophone <img src=x onerror="alert(1)"> & <b>bold</b> xylophone' }],
  });
  await seed('gone', { label: 'db', folder: '/eng', messages: [{ role: 'user', content: 'postgres postgres postgres in a deleted conversation' }] });
  last = (await sendJson(t.app, 'DELETE', `/api/v1/conversations/${ids.gone}`)).body.position;
});
afterAll(() => t.close());

const search = (body: unknown) => sendJson(t.app, 'POST', `/api/v1/search/fts?min_position=${last}`, body);

describe('POST /api/v1/search/fts', () => {
  it('ranks by BM25 (more matches first, shorter first), highlights snippets, and skips deleted conversations', async () => {
    const res = await search({ query: 'postgres' });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { conversation_id: string }) => r.conversation_id)).toEqual([ids.many, ids.parts, ids.once]);
    expect(res.body).toMatchObject({ total: 3, total_relation: 'eq' });
    const [first] = res.body.results;
    expect(first.rank).toBeGreaterThan(res.body.results[2].rank);
    expect(first.snippet).toContain('<mark>Postgres</mark>');
    expect(first).toMatchObject({ role: 'user', label: 'db', folder: '/eng' });
    const long = res.body.results[2];
    expect(long.snippet.length).toBeLessThan(long.content.length);
    expect(long.snippet).toContain('<mark>Postgres</mark>');
  });

  it('shows a result the same whether the ranking statement returned its row or the page read it apart', async () => {
    // Few postings: the ranking statement returns the page's rows; one conversation's filter is scored
    // inside it (another path), and its page is read on its own.
    const all = await search({ query: 'postgres' });
    const one = await search({ query: 'postgres', filters: { conversation_id: ids.many } });
    expect(one.status).toBe(200);
    expect(one.body.results).toHaveLength(1);
    expect(one.body.results[0]).toEqual(all.body.results[0]);
    expect(one.body.results[0].timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('escapes the message’s own markup in snippets, keeping only the <mark> highlights', async () => {
    const res = await search({ query: 'xylophone bold' });
    expect(res.body.results.map((r: { conversation_id: string }) => r.conversation_id)).toEqual([ids.markup]);
    const { snippet, content } = res.body.results[0];
    expect(content).toContain('<img src=x onerror="alert(1)">');
    expect(snippet).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; &lt;b&gt;<mark>bold</mark>&lt;/b&gt;');
    expect(snippet.replace(/<\/?mark>/g, '')).not.toMatch(/[<>"]/);
  });

  it('understands web-search syntax: phrases, or, and -exclusion', async () => {
    const phrase = await search({ query: '"postgres replicas"' });
    expect(phrase.body.results.map((r: { conversation_id: string }) => r.conversation_id)).toEqual([ids.many]);
    const or = await search({ query: 'bread or diagram' });
    expect(new Set(or.body.results.map((r: { conversation_id: string }) => r.conversation_id))).toEqual(new Set([ids.other, ids.parts]));
    const not = await search({ query: 'postgres -replication' });
    expect(not.body.results.map((r: { conversation_id: string }) => r.conversation_id).sort()).toEqual([ids.once, ids.parts].sort());
  });

  it('applies filters and limit/offset', async () => {
    const byLabel = await search({ query: 'postgres', filters: { label: 'multimodal' } });
    expect(byLabel.body.results.map((r: { conversation_id: string }) => r.conversation_id)).toEqual([ids.parts]);
    const byFolder = await search({ query: 'postgres', filters: { folder: '/eng', role: 'assistant' } });
    expect(byFolder.body.results.map((r: { conversation_id: string }) => r.conversation_id)).toEqual([ids.once]);
    const byConversation = await search({ query: 'postgres', filters: { conversation_id: ids.many } });
    expect(byConversation.body.total).toBe(1);
    const page = await search({ query: 'postgres', limit: 1, offset: 1 });
    expect(page.body.results.map((r: { conversation_id: string }) => r.conversation_id)).toEqual([ids.parts]);
    expect(page.body.total).toBe(3);
    const past = await search({ query: 'postgres', limit: 10, offset: 10 });
    expect(past.body).toEqual({ results: [], total: 3, total_relation: 'eq' });
    const future = await search({ query: 'postgres', filters: { after: '2999-01-01T00:00:00Z' } });
    expect(future.body).toEqual({ results: [], total: 0, total_relation: 'eq' });
  });

  it.each([
    [{}, 'query'],
    [{ query: '' }, 'query'],
    [{ query: '   ' }, 'query'],
    [{ query: 'x'.repeat(1001) }, 'query'],
    [{ query: 'x', limit: 0 }, 'limit'],
    [{ query: 'x', limit: 101 }, 'limit'],
    [{ query: 'x', offset: -1 }, 'offset'],
    [{ query: 'x', filters: { role: 'robot' } }, 'filters.role'],
    [{ query: 'x', filters: { conversation_id: 'nope' } }, 'filters.conversation_id'],
    [{ query: 'x', filters: { after: 'soon' } }, 'filters.after'],
    [{ query: 42 }, 'query'],
    [{ query: 'x', exact_total: 'yes' }, 'exact_total'],
  ])('refuses %j with 400 naming %s', async (body, field) => {
    const res = await search(body);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.details.field).toBe(field);
  });

  it.each(['"', "'", '&|!():*', 'a & | b', '!!!', '(((', ':*', '\\', '\\\\\'"', 'foo\u0000bar', '\u0000', '-', '"unclosed', 'or or or', '<->', 'a:*B', '$$', '%', '😀 postgres', '\ud800'])(
    'never fails on hostile text %j',
    async (query) => {
      const res = await search({ query });
      expect([200, 400]).toContain(res.status);
      if (res.status === 200) expect(Array.isArray(res.body.results)).toBe(true);
    },
  );

  it('never answers 500 for any string (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: fc.constantFrom(...'ab &|!():*\'"\\-<>\u0000 or AND postgres'.split('')), maxLength: 30 }), async (query) => {
        const res = await search({ query });
        return res.status === 200 || res.status === 400;
      }),
      { numRuns: 150 },
    );
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 40 }), async (query) => {
        const res = await search({ query });
        return res.status === 200 || res.status === 400;
      }),
      { numRuns: 100 },
    );
  });
});

describe('POST /api/v1/search/fts total past [search] fts_total_limit', () => {
  let capped: QueryApp;
  let at = '';
  beforeAll(async () => {
    capped = await createQueryApp({ config: { search: { fts_total_limit: 2 } } }, [lexicalStatsDefinition]);
    const turns = Array.from({ length: 5 }, (_, i) => ({ role: 'user', content: `turn ${i} about the harpsichord` }));
    at = (await capped.create({ label: 'music', folder: '/music', messages: turns })).position;
  });
  afterAll(() => capped.close());
  const find = (body: Record<string, unknown>) => sendJson(capped.app, 'POST', `/api/v1/search/fts?min_position=${at}`, { query: 'harpsichord', ...body });

  it('counts up to the limit and says "gte" past it, yet ranks every match', async () => {
    const res = await find({ limit: 1 });
    expect(res.body).toMatchObject({ total: 2, total_relation: 'gte' });
    expect(res.body.results).toHaveLength(1);
  });

  it('counts to the end of the asked page when that is further', async () => {
    expect((await find({ limit: 3, offset: 1 })).body).toMatchObject({ total: 4, total_relation: 'gte' });
    const whole = await find({ limit: 5 });
    expect(whole.body).toMatchObject({ total: 5, total_relation: 'eq' });
    expect(whole.body.results).toHaveLength(5);
  });

  it('counts every match when exact_total is asked for', async () => {
    expect((await find({ limit: 1, exact_total: true })).body).toMatchObject({ total: 5, total_relation: 'eq' });
  });
});
