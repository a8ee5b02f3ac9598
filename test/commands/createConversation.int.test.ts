import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationSchema, conversationWriteSchema } from '../../src/http/schemas.js';
import { conversationStream } from '../../src/domain/conversation/index.js';
import { parsePosition } from '../../src/eventstore/index.js';
import { countEvents, createTestApp, sendJson, type TestApp } from '../support/testApp.js';

let t: TestApp;
const NOW = new Date('2026-03-04T05:06:07.000Z');

beforeAll(async () => {
  t = await createTestApp({ clock: () => NOW });
});
afterAll(() => t.close());

const streamOf = async (id: string) => (await t.deps.store.readStream(conversationStream(id)))._unsafeUnwrap();

describe('POST /api/v1/conversations', () => {
  it('creates a conversation without messages, with defaults, position, X-Sekha-Position and ETag', async () => {
    const res = await sendJson(t.app, 'POST', '/api/v1/conversations', { label: '  Work  ' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      conversation_id: res.body.id,
      label: 'Work',
      folder: '/',
      status: 'active',
      pinned: false,
      archived: false,
      importance_score: 5,
      message_count: 0,
      metadata: {},
      created_at: NOW.toISOString(),
      updated_at: NOW.toISOString(),
      version: 1,
    });
    expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
    // The one conversation shape: what reads answer, plus the write's position.
    expect(Object.keys(res.body).sort()).toEqual(Object.keys(conversationWriteSchema.shape).sort());
    expect(Object.keys(conversationWriteSchema.shape).sort()).toEqual([...Object.keys(conversationSchema.shape), 'position'].sort());
    expect(parsePosition(res.body.position)).toBeDefined();
    expect(res.headers.get('x-sekha-position')).toBe(res.body.position);
    expect(res.headers.get('etag')).toBe('"1"');
    const events = await streamOf(res.body.id);
    expect(events.map((e) => e.type)).toEqual(['ConversationStarted']);
    expect(events[0]!.metadata).toMatchObject({ actor: 'anonymous', request_id: res.headers.get('x-request-id') });
  });

  it('creates with messages, folder, importance and metadata in one append', async () => {
    const before = await countEvents(t.db);
    const res = await sendJson(
      t.app,
      'POST',
      '/api/v1/conversations',
      {
        label: 'trip',
        folder: 'travel//2026/',
        importance_score: 8,
        metadata: { source: 'sdk', nested: { a: [1, 2] } },
        messages: [
          { role: 'user', content: 'Where should I go in spring?', timestamp: '2026-03-01T10:00:00+02:00', metadata: { lang: 'en' } },
          { role: 'assistant', content: 'Kyoto, for the blossoms.' },
        ],
        unknown_extra_field: 'ignored',
      },
      { 'x-request-id': 'req-create-1' },
    );
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ folder: '/travel/2026', importance_score: 8, message_count: 2, version: 2, metadata: { source: 'sdk' } });
    expect(res.headers.get('etag')).toBe('"2"');
    expect(await countEvents(t.db)).toBe(before + 2);
    const events = await streamOf(res.body.id);
    expect(events.map((e) => e.type)).toEqual(['ConversationStarted', 'MessagesAppended']);
    // One command, one transaction: both events share it, and the answer's position is the last one.
    expect(events[0]!.position.transactionId).toBe(events[1]!.position.transactionId);
    expect(res.body.position).toBe(`${events[1]!.position.transactionId}:${events[1]!.position.globalPosition}`);
    expect(events[1]!.metadata.request_id).toBe('req-create-1');
    const messages = (events[1]!.data as { messages: Record<string, unknown>[] }).messages;
    expect(messages).toMatchObject([
      { seq: 1, role: 'user', content: 'Where should I go in spring?', timestamp: '2026-03-01T08:00:00.000Z', metadata: { lang: 'en' } },
      { seq: 2, role: 'assistant', content: 'Kyoto, for the blossoms.', timestamp: NOW.toISOString(), metadata: {} },
    ]);
  });

  it('stores multi-part content (text and image_url parts) as sent', async () => {
    const content = [
      { type: 'text', text: 'What is in this picture?' },
      { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'high' } },
    ];
    const res = await sendJson(t.app, 'POST', '/api/v1/conversations', {
      label: 'vision',
      messages: [{ role: 'user', content }, { role: 'assistant', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] }],
    });
    expect(res.status).toBe(201);
    expect(res.body.word_count).toBe(5);
    const appended = (await streamOf(res.body.id))[1]!;
    const stored = (appended.data as { messages: { content: unknown }[] }).messages;
    expect(stored[0]!.content).toEqual(content);
    expect(stored[1]!.content).toEqual([{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }]);
  });

  it('accepts importanceScore, the JS SDK spelling', async () => {
    const res = await sendJson(t.app, 'POST', '/api/v1/conversations', { label: 'sdk', importanceScore: 9 });
    expect(res.status).toBe(201);
    expect(res.body.importance_score).toBe(9);
  });

  it('gives each conversation its own id and later positions to later writes', async () => {
    const a = await sendJson(t.app, 'POST', '/api/v1/conversations', { label: 'a' });
    const b = await sendJson(t.app, 'POST', '/api/v1/conversations', { label: 'b' });
    expect(a.body.id).not.toBe(b.body.id);
    const [pa, pb] = [parsePosition(a.body.position)!, parsePosition(b.body.position)!];
    expect(pb.transactionId > pa.transactionId || pb.globalPosition > pa.globalPosition).toBe(true);
  });
});
