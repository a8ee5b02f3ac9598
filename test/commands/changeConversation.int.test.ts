import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationStream } from '../../src/domain/conversation/index.js';
import { countEvents, createTestApp, sendJson, type TestApp } from '../support/testApp.js';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const create = async () => (await sendJson(t.app, 'POST', '/api/v1/conversations', { label: 'start', folder: '/inbox' })).body as { id: string };
const put = (id: string, what: string, body?: unknown, headers?: Record<string, string>) =>
  sendJson(t.app, 'PUT', `/api/v1/conversations/${id}/${what}`, body, headers);
const typesOf = async (id: string) => (await t.deps.store.readStream(conversationStream(id)))._unsafeUnwrap().map((e) => e.type);

/** Every successful write answers with its position in the body and header, and the version as ETag. */
function expectWriteHeaders(res: Awaited<ReturnType<typeof put>>, version: number) {
  expect(res.headers.get('x-sekha-position')).toBe(res.body.position);
  expect(res.headers.get('etag')).toBe(`"${version}"`);
  expect(res.body.version).toBe(version);
}

describe('PUT /label', () => {
  it('relabels, keeping the folder', async () => {
    const { id } = await create();
    const res = await put(id, 'label', { label: 'renamed' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, label: 'renamed', folder: '/inbox' });
    expectWriteHeaders(res, 2);
    expect(await typesOf(id)).toEqual(['ConversationStarted', 'ConversationLabeled']);
  });

  it('relabels and moves with a folder', async () => {
    const { id } = await create();
    const res = await put(id, 'label', { label: 'renamed', folder: 'projects/x/' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ label: 'renamed', folder: '/projects/x' });
  });
});

describe('PUT /folder', () => {
  it('moves to another folder (normalised), and a second identical move appends nothing', async () => {
    const { id } = await create();
    const res = await put(id, 'folder', { folder: '/archive/2026' });
    expect(res.status).toBe(200);
    expect(res.body.folder).toBe('/archive/2026');
    expectWriteHeaders(res, 2);
    const again = await put(id, 'folder', { folder: 'archive/2026/' });
    expect(again.status).toBe(200);
    expectWriteHeaders(again, 2);
    expect(again.body.position).toBe(res.body.position);
    expect(await typesOf(id)).toEqual(['ConversationStarted', 'ConversationMovedToFolder']);
  });
});

describe('PUT /pin and /unpin', () => {
  it('pins once (pinning twice appends nothing) and unpins', async () => {
    const { id } = await create();
    const pinned = await put(id, 'pin');
    expect(pinned.status).toBe(200);
    expect(pinned.body.pinned).toBe(true);
    expectWriteHeaders(pinned, 2);
    const twice = await put(id, 'pin');
    expect(twice.status).toBe(200);
    expectWriteHeaders(twice, 2);
    const unpinned = await put(id, 'unpin');
    expect(unpinned.body.pinned).toBe(false);
    expectWriteHeaders(unpinned, 3);
    expect(await typesOf(id)).toEqual(['ConversationStarted', 'ConversationPinned', 'ConversationUnpinned']);
  });
});

describe('PUT /archive and /unarchive', () => {
  it('archives and unarchives', async () => {
    const { id } = await create();
    const archived = await put(id, 'archive');
    expect(archived.status).toBe(200);
    expect(archived.body.status).toBe('archived');
    expect(archived.body.archived).toBe(true);
    const unarchived = await put(id, 'unarchive');
    expect(unarchived.body.status).toBe('active');
    expect(unarchived.body.archived).toBe(false);
    expectWriteHeaders(unarchived, 3);
    expect(await typesOf(id)).toEqual(['ConversationStarted', 'ConversationArchived', 'ConversationUnarchived']);
  });
});

describe('PUT /importance', () => {
  it('sets importance_score, and accepts importanceScore', async () => {
    const { id } = await create();
    const res = await put(id, 'importance', { importance_score: 10 });
    expect(res.status).toBe(200);
    expect(res.body.importance_score).toBe(10);
    const sdk = await put(id, 'importance', { importanceScore: 1 });
    expect(sdk.status).toBe(200);
    expect(sdk.body.importance_score).toBe(1);
    expectWriteHeaders(sdk, 3);
  });
});

describe('If-Match', () => {
  it('accepts the current version in any ETag form and refuses a stale one with 409, writing nothing', async () => {
    const { id } = await create();
    expect((await put(id, 'pin', undefined, { 'if-match': '"1"' })).status).toBe(200);
    expect((await put(id, 'unpin', undefined, { 'if-match': 'W/"2"' })).status).toBe(200);
    expect((await put(id, 'archive', undefined, { 'if-match': '3' })).status).toBe(200);
    const before = await countEvents(t.db);
    const stale = await put(id, 'label', { label: 'late' }, { 'if-match': '"3"' });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ code: 'version_conflict', details: { expected: 3, actual: 4 }, request_id: expect.any(String) });
    expect(await countEvents(t.db)).toBe(before);
  });

  it('is 400 for an If-Match that is not a version', async () => {
    const { id } = await create();
    const res = await put(id, 'pin', undefined, { 'if-match': '"abc"' });
    expect(res.status).toBe(400);
    expect(res.body.details.field).toBe('If-Match');
  });
});

describe('DELETE', () => {
  it('deletes, then every later write is 404 "deleted" (saying when) and writes nothing', async () => {
    const { id } = await create();
    const res = await sendJson(t.app, 'DELETE', `/api/v1/conversations/${id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, deleted: true });
    expect(res.headers.get('x-sekha-position')).toBe(res.body.position);
    expect(res.headers.get('etag')).toBe('"2"');
    const before = await countEvents(t.db);
    const later = [
      await put(id, 'label', { label: 'x' }),
      await put(id, 'folder', { folder: '/x' }),
      await put(id, 'pin'),
      await put(id, 'unpin'),
      await put(id, 'archive'),
      await put(id, 'unarchive'),
      await put(id, 'importance', { importance_score: 3 }),
      await sendJson(t.app, 'POST', `/api/v1/conversations/${id}/messages`, { messages: [{ role: 'user', content: 'x' }] }),
      await sendJson(t.app, 'DELETE', `/api/v1/conversations/${id}`),
    ];
    for (const r of later) expect([r.status, r.body.code, r.body.details?.deleted_at]).toEqual([404, 'deleted', expect.any(String)]);
    expect(Date.parse(later[0]!.body.details.deleted_at)).toBeGreaterThan(0);
    expect(await countEvents(t.db)).toBe(before);
  });

  it('is 404 for an unknown conversation', async () => {
    const res = await sendJson(t.app, 'DELETE', `/api/v1/conversations/${randomUUID()}`);
    expect(res.status).toBe(404);
  });
});

describe('unknown conversation', () => {
  it('answers 404 on every change route and writes nothing', async () => {
    const id = randomUUID();
    const before = await countEvents(t.db);
    for (const [what, body] of [['label', { label: 'x' }], ['folder', { folder: '/x' }], ['pin'], ['unpin'], ['archive'], ['unarchive'], ['importance', { importance_score: 2 }]] as const) {
      const res = await put(id, what, body);
      expect([what, res.status, res.body.code]).toEqual([what, 404, 'not_found']);
    }
    expect(await countEvents(t.db)).toBe(before);
  });
});
