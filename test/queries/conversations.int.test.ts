import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendJson } from '../support/testApp.js';
import { createQueryApp, type QueryApp } from './support.js';

let t: QueryApp;
let now = Date.parse('2025-03-01T00:00:00Z');
const ids: Record<string, string> = {};
let last = '';

async function put(id: string, path: string, body?: unknown) {
  const res = await sendJson(t.app, 'PUT', `/api/v1/conversations/${id}/${path}`, body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  last = res.body.position;
}

beforeAll(async () => {
  // Each write one simulated minute later, so created/updated times order the conversations.
  t = await createQueryApp({ clock: () => new Date((now += 60_000)) });
  const specs = [
    { key: 'a', label: 'Project Alpha', folder: '/work', importance_score: 9 },
    { key: 'b', label: 'project beta', folder: '/work/sub', importance_score: 3 },
    { key: 'c', label: 'Groceries', folder: '/home', importance_score: 5 },
    { key: 'd', label: 'Alpha notes', folder: '/work', importance_score: 7 },
    { key: 'e', label: 'Trip', folder: '/home', importance_score: 1 },
    { key: 'f', label: 'Doomed', folder: '/work', importance_score: 8 },
  ];
  for (const s of specs) {
    const { key, ...body } = s;
    const created = await t.create({ ...body, messages: [{ role: 'user', content: `hello from ${key}` }] });
    ids[key] = created.id;
    last = created.position;
  }
  await put(ids.a!, 'pin');
  await put(ids.d!, 'pin');
  await put(ids.c!, 'archive');
  await put(ids.e!, 'archive');
  const del = await sendJson(t.app, 'DELETE', `/api/v1/conversations/${ids.f}`);
  last = del.body.position;
  // 30 more for paging, in their own folder.
  for (let i = 0; i < 30; i++) last = (await t.create({ label: `page ${String(i).padStart(2, '0')}`, folder: '/paging', importance_score: (i % 10) + 1 })).position;
});
afterAll(() => t.close());

const list = async (query: string) => {
  const res = await sendJson(t.app, 'GET', `/api/v1/conversations?min_position=${last}&${query}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as { results: { id: string; label: string; importance_score: number }[]; total: number; page: number | null; page_size: number; next_cursor: string | null };
};
const keysOf = (results: { id: string }[]) =>
  results.map((r) => Object.entries(ids).find(([, id]) => id === r.id)?.[0] ?? '?').sort().join('');

describe('GET /api/v1/conversations filters', () => {
  it.each([
    ['label=Groceries', 'c'],
    ['label_contains=ALPHA', 'ad'],
    ['label_contains=%25', ''],
    ['folder=/work', 'ad'],
    ['folder=work/', 'ad'],
    ['folder_prefix=/work', 'abd'],
    ['status=archived', 'ce'],
    ['archived=true', 'ce'],
    ['archived=false&folder_prefix=/work', 'abd'],
    ['status=active&folder=/home', ''],
    ['pinned=true', 'ad'],
    ['pinned=false&folder_prefix=/work', 'b'],
    ['importance_min=7&folder_prefix=/work', 'ad'],
    ['importance_max=3&folder_prefix=/', 'be???'],
  ])('%s', async (query, expected) => {
    const body = await list(`${query}&page_size=100`);
    if (expected.includes('?')) {
      // importance ≤ 3 also matches paging conversations; check ours and the count.
      expect(body.results.every((r) => r.importance_score <= 3)).toBe(true);
      expect(keysOf(body.results).replace(/\?/g, '')).toBe('be');
      return;
    }
    expect(keysOf(body.results)).toBe(expected);
    expect(body.total).toBe(expected.length);
  });

  it('filters by created and updated time', async () => {
    const all = (await list('folder_prefix=/home&page_size=100')).results as unknown as { id: string; created_at: string; updated_at: string }[];
    const c = all.find((r) => r.id === ids.c)!;
    const e = all.find((r) => r.id === ids.e)!;
    expect(keysOf((await list(`folder=/home&created_after=${c.created_at}`)).results)).toBe('e');
    expect(keysOf((await list(`folder=/home&created_before=${e.created_at}`)).results)).toBe('c');
    expect(keysOf((await list(`folder=/home&updated_after=${c.created_at}`)).results)).toBe('ce');
    expect(keysOf((await list(`folder=/home&updated_before=${e.updated_at}`)).results)).toBe('c');
  });

  it('never lists deleted conversations; reading one answers 404 "deleted" with when, and 404 "not_found" for unknown ids', async () => {
    const everything = await list('page_size=100');
    expect(everything.total).toBe(35);
    expect(everything.results.some((r) => r.id === ids.f)).toBe(false);
    // Clients map only 404 to "not found"; a 410 made one retry for seconds.
    for (const path of [`/api/v1/conversations/${ids.f}`, `/api/v1/conversations/${ids.f}/messages`, `/api/v1/conversations/${ids.f}/summaries`, `/api/v1/conversations/${ids.f}/export`]) {
      const res = await sendJson(t.app, 'GET', path);
      expect([res.status, res.body.code], path).toEqual([404, 'deleted']);
      expect(Date.parse(res.body.details.deleted_at), path).toBeGreaterThan(0);
    }
    const unknown = await sendJson(t.app, 'GET', '/api/v1/conversations/00000000-0000-4000-8000-000000000000');
    expect([unknown.status, unknown.body.code]).toEqual([404, 'not_found']);
  });

  it('gets one conversation with its messages', async () => {
    const res = await sendJson(t.app, 'GET', `/api/v1/conversations/${ids.a}?include=messages`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: ids.a, label: 'Project Alpha', folder: '/work', pinned: true, status: 'active', message_count: 1 });
    expect(res.body.messages).toEqual([expect.objectContaining({ seq: 1, role: 'user', content: 'hello from a' })]);
    const without = await sendJson(t.app, 'GET', `/api/v1/conversations/${ids.a}`);
    expect(without.body.messages).toBeUndefined();
  });

  it('counts by label or folder, without deleted ones', async () => {
    const byFolder = await sendJson(t.app, 'GET', '/api/v1/conversations/count?folder=/work');
    expect(byFolder.body).toEqual({ count: 2, folder: '/work' });
    const byLabel = await sendJson(t.app, 'GET', '/api/v1/conversations/count?label=Groceries');
    expect(byLabel.body).toEqual({ count: 1, label: 'Groceries' });
  });
});

describe('paging and sorting', () => {
  it('pages with page/page_size and with limit/offset alike', async () => {
    const p2 = await list('folder=/paging&sort=label&page=2&page_size=7');
    expect(p2.results.map((r) => r.label)).toEqual(['page 07', 'page 08', 'page 09', 'page 10', 'page 11', 'page 12', 'page 13']);
    expect(p2).toMatchObject({ total: 30, page: 2, page_size: 7 });
    const lo = await list('folder=/paging&sort=label&limit=7&offset=7');
    expect(lo.results).toEqual(p2.results);
    const past = await list('folder=/paging&page=9&page_size=7');
    expect(past.results).toEqual([]);
    expect(past.total).toBe(30);
  });

  it.each(['label', '-label', 'importance_score:desc', 'importance_score', '-created_at', 'updated_at:asc', 'message_count'])(
    'walks every row exactly once with the keyset cursor, sort %s',
    async (sort) => {
      const offsetOrder = (await list(`folder=/paging&sort=${sort}&page_size=100`)).results.map((r) => r.id);
      const walked: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: Awaited<ReturnType<typeof list>> = await list(`folder=/paging&sort=${sort}&limit=4${cursor ? `&cursor=${cursor}` : ''}`);
        walked.push(...page.results.map((r) => r.id));
        cursor = page.next_cursor;
        pages++;
      } while (cursor && pages < 20);
      expect(pages).toBe(8);
      expect(walked).toEqual(offsetOrder);
      expect(new Set(walked).size).toBe(30);
    },
  );

  it('sorts by importance, highest first, ties by id', async () => {
    const res = await list('folder=/paging&sort=-importance_score&page_size=100');
    const scores = res.results.map((r) => r.importance_score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  it('pages messages of a conversation in order', async () => {
    const conv = await t.create({ label: 'long', folder: '/long', messages: Array.from({ length: 23 }, (_, i) => ({ role: 'user', content: `m${i + 1}` })) });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: { messages: { content: string }[]; next_cursor: string | null } } = await sendJson(
        t.app,
        'GET',
        `/api/v1/conversations/${conv.id}/messages?limit=10&min_position=${conv.position}${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(res.status).toBe(200);
      seen.push(...res.body.messages.map((m) => m.content));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(Array.from({ length: 23 }, (_, i) => `m${i + 1}`));
  });
});

describe('bad query parameters answer 400 naming the field, never 500', () => {
  it.each([
    ['/api/v1/conversations?page_size=101', 'query.page_size'],
    ['/api/v1/conversations?page_size=0', 'query.page_size'],
    ['/api/v1/conversations?page=0', 'query.page'],
    ['/api/v1/conversations?page=abc', 'query.page'],
    ['/api/v1/conversations?limit=1000', 'query.limit'],
    ['/api/v1/conversations?offset=-1', 'query.offset'],
    ['/api/v1/conversations?importance_min=11', 'query.importance_min'],
    ['/api/v1/conversations?importance_max=2.5', 'query.importance_max'],
    ['/api/v1/conversations?created_after=yesterday', 'query.created_after'],
    ['/api/v1/conversations?updated_before=2025-13-45', 'query.updated_before'],
    ['/api/v1/conversations?pinned=maybe', 'query.pinned'],
    ['/api/v1/conversations?archived=2', 'query.archived'],
    ['/api/v1/conversations?status=deleted', 'query.status'],
    ['/api/v1/conversations?sort=password', 'query.sort'],
    ['/api/v1/conversations?sort=-label:asc', 'query.sort'],
    ['/api/v1/conversations?cursor=not-a-cursor', 'query.cursor'],
    ['/api/v1/conversations?cursor=eyJ4IjoxfQ', 'query.cursor'],
    ['/api/v1/conversations?cursor=eyJ4IjoxfQ&page=2', 'query.page'],
    ['/api/v1/conversations?page=2&offset=3', 'query.offset'],
    ['/api/v1/conversations?folder=/a/../b', 'query.folder'],
    ['/api/v1/conversations?label=%00', 'query.label'],
    [`/api/v1/conversations?label=${'x'.repeat(201)}`, 'query.label'],
    ['/api/v1/conversations/count?importance_min=0', 'query.importance_min'],
    ['/api/v1/conversations/not-a-uuid', 'path.id'],
    ['/api/v1/conversations/00000000-0000-4000-8000-000000000000?include=everything', 'query.include'],
    ['/api/v1/conversations/00000000-0000-4000-8000-000000000000/messages?limit=0', 'query.limit'],
    ['/api/v1/conversations/00000000-0000-4000-8000-000000000000/messages?cursor=%7B%7D', 'query.cursor'],
  ])('%s', async (path, field) => {
    const res = await sendJson(t.app, 'GET', path);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.details.field).toBe(field);
  });

  it('a sort cursor used with another sort is refused', async () => {
    const first = await list('folder=/paging&sort=label&limit=3');
    const res = await sendJson(t.app, 'GET', `/api/v1/conversations?sort=-label&limit=3&cursor=${first.next_cursor}`);
    expect(res.status).toBe(400);
  });
});
