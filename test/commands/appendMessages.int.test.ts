import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationStream } from '../../src/domain/conversation/index.js';
import { countEvents, createTestApp, sendJson, type TestApp } from '../support/testApp.js';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const create = async (body: object = { label: 'chat' }) => (await sendJson(t.app, 'POST', '/api/v1/conversations', body)).body as { id: string };
const append = (id: string, messages: unknown[], headers: Record<string, string> = {}) =>
  sendJson(t.app, 'POST', `/api/v1/conversations/${id}/messages`, { messages }, headers);

describe('POST /api/v1/conversations/{id}/messages', () => {
  it('appends messages after the existing ones and answers their ids, the count, and the position', async () => {
    const { id } = await create({ label: 'chat', messages: [{ role: 'user', content: 'first' }] });
    const res = await append(id, [
      { role: 'assistant', content: 'second' },
      { role: 'tool', content: [{ type: 'text', text: 'third' }, { type: 'image_url', image_url: { url: 'https://x.test/p.png' } }] },
    ]);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ conversation_id: id, message_count: 3 });
    expect(res.body.message_ids).toHaveLength(2);
    expect(res.headers.get('x-sekha-position')).toBe(res.body.position);
    expect(res.headers.get('etag')).toBe('"3"');
    const events = (await t.deps.store.readStream(conversationStream(id)))._unsafeUnwrap();
    const last = events.at(-1)!;
    expect(last.type).toBe('MessagesAppended');
    const stored = (last.data as { messages: { id: string; seq: number; role: string; content: unknown }[] }).messages;
    expect(stored.map((m) => [m.id, m.seq, m.role])).toEqual([
      [res.body.message_ids[0], 2, 'assistant'],
      [res.body.message_ids[1], 3, 'tool'],
    ]);
    expect(stored[1]!.content).toEqual([{ type: 'text', text: 'third' }, { type: 'image_url', image_url: { url: 'https://x.test/p.png' } }]);
  });

  it('appends to an archived conversation', async () => {
    const { id } = await create();
    await sendJson(t.app, 'PUT', `/api/v1/conversations/${id}/archive`);
    const res = await append(id, [{ role: 'user', content: 'still here' }]);
    expect(res.status).toBe(201);
  });

  it('honours If-Match: the current version appends, a stale one is 409 and writes nothing', async () => {
    const { id } = await create();
    const ok = await append(id, [{ role: 'user', content: 'a' }], { 'if-match': '"1"' });
    expect(ok.status).toBe(201);
    expect(ok.headers.get('etag')).toBe('"2"');
    const before = await countEvents(t.db);
    const stale = await append(id, [{ role: 'user', content: 'b' }], { 'if-match': '"1"' });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ code: 'version_conflict', details: { expected: 1, actual: 2 } });
    expect(await countEvents(t.db)).toBe(before);
  });

  it('is 404 for an unknown conversation and writes nothing', async () => {
    const before = await countEvents(t.db);
    const res = await append(randomUUID(), [{ role: 'user', content: 'x' }]);
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: 'not_found', request_id: expect.any(String) });
    expect(await countEvents(t.db)).toBe(before);
  });

  it('sees writes made by another instance (its own store and pools) on the same database', async () => {
    const other = await createTestApp({ db: t.db });
    try {
      const { id } = await create();
      expect((await append(id, [{ role: 'user', content: 'here' }])).body.message_count).toBe(1);
      const there = await sendJson(other.app, 'POST', `/api/v1/conversations/${id}/messages`, { messages: [{ role: 'user', content: 'there' }] });
      expect(there.body.message_count).toBe(2);
      const pinned = await sendJson(other.app, 'PUT', `/api/v1/conversations/${id}/pin`);
      expect(pinned.headers.get('etag')).toBe('"4"');
      const back = await append(id, [{ role: 'user', content: 'here again' }], { 'if-match': '"4"' });
      expect(back.status).toBe(201);
      expect(back.body.message_count).toBe(3);
      const unpinned = await sendJson(t.app, 'PUT', `/api/v1/conversations/${id}/unpin`);
      expect(unpinned.body).toMatchObject({ pinned: false, message_count: 3, version: 6 });
    } finally {
      await other.close();
    }
  });

  it('keeps every message when many appends race on one conversation', async () => {
    const { id } = await create();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => append(id, [{ role: 'user', content: `m${i}` }])));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(201));
    const events = (await t.deps.store.readStream(conversationStream(id)))._unsafeUnwrap();
    const seqs = events.flatMap((e) => (e.type === 'MessagesAppended' ? (e.data as { messages: { seq: number }[] }).messages.map((m) => m.seq) : []));
    expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });
});
