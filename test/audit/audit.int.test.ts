import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditSearch } from '../../src/audit/auditEvents.js';
import { searchSql } from '../../src/eventstore/index.js';
import { createTestApp, sendJson, type TestApp } from '../support/testApp.js';

let t: TestApp;
let conversationId: string;
const positions: string[] = [];

beforeAll(async () => {
  t = await createTestApp();
  const created = await sendJson(t.app, 'POST', '/api/v1/conversations', { label: 'first', messages: [{ role: 'user', content: 'hello audit' }] }, { 'x-request-id': 'req-create' });
  conversationId = created.body.id;
  positions.push(created.body.position);
  for (const [label, rid] of [['second', 'req-second'], ['third', 'req-third']] as const) {
    const res = await sendJson(t.app, 'PUT', `/api/v1/conversations/${conversationId}/label`, { label }, { 'x-request-id': rid });
    positions.push(res.body.position);
  }
});
afterAll(() => t.close());

describe('GET /api/v1/conversations/{id}/events', () => {
  it('lists the stream with actor and request id recorded for each command', async () => {
    const res = await sendJson(t.app, 'GET', `/api/v1/conversations/${conversationId}/events`);
    expect(res.status).toBe(200);
    expect(res.body.events.map((e: any) => [e.version, e.type, e.metadata.actor, e.metadata.request_id])).toEqual([
      [1, 'ConversationStarted', 'anonymous', 'req-create'],
      [2, 'MessagesAppended', 'anonymous', 'req-create'],
      [3, 'ConversationLabeled', 'anonymous', 'req-second'],
      [4, 'ConversationLabeled', 'anonymous', 'req-third'],
    ]);
    expect(res.body.next_after_version).toBeNull();
  });

  it('pages by version', async () => {
    const first = await sendJson(t.app, 'GET', `/api/v1/conversations/${conversationId}/events?limit=3`);
    expect(first.body.events).toHaveLength(3);
    expect(first.body.next_after_version).toBe(3);
    const second = await sendJson(t.app, 'GET', `/api/v1/conversations/${conversationId}/events?after_version=3&limit=3`);
    expect(second.body.events.map((e: any) => e.version)).toEqual([4]);
    expect(second.body.next_after_version).toBeNull();
  });

  it('answers 404 for an unknown conversation and 400 for bad parameters', async () => {
    expect((await sendJson(t.app, 'GET', '/api/v1/conversations/00000000-0000-4000-8000-000000000000/events')).status).toBe(404);
    for (const q of ['limit=0', 'limit=5000', 'after_version=-1', 'limit=abc']) {
      const res = await sendJson(t.app, 'GET', `/api/v1/conversations/${conversationId}/events?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.body.details.field).toMatch(/^query\./);
    }
  });
});

describe('GET /api/v1/audit/events', () => {
  it('filters by type, stream and actor, and keyset-pages by position', async () => {
    const labeled = await sendJson(t.app, 'GET', `/api/v1/audit/events?type=ConversationLabeled&stream=${conversationId}`);
    expect(labeled.body.events.map((e: any) => e.data.label)).toEqual(['second', 'third']);
    const byActor = await sendJson(t.app, 'GET', '/api/v1/audit/events?actor=nobody');
    expect(byActor.body.events).toEqual([]);
    const page1 = await sendJson(t.app, 'GET', `/api/v1/audit/events?stream=${conversationId}&limit=2`);
    expect(page1.body.events).toHaveLength(2);
    const page2 = await sendJson(t.app, 'GET', `/api/v1/audit/events?stream=${conversationId}&limit=2&after_position=${page1.body.next_after_position}`);
    expect(page2.body.events.map((e: any) => e.version)).toEqual([3, 4]);
  });

  it('filters by time range', async () => {
    const future = await sendJson(t.app, 'GET', `/api/v1/audit/events?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    expect(future.body.events).toEqual([]);
    const past = await sendJson(t.app, 'GET', `/api/v1/audit/events?stream=${conversationId}&from=2000-01-01T00:00:00Z`);
    expect(past.body.events).toHaveLength(4);
    const page1 = await sendJson(t.app, 'GET', `/api/v1/audit/events?stream=${conversationId}&from=2000-01-01T00:00:00Z&limit=3`);
    const page2 = await sendJson(
      t.app,
      'GET',
      `/api/v1/audit/events?stream=${conversationId}&from=2000-01-01T00:00:00Z&limit=3&after_position=${page1.body.next_after_position}`,
    );
    expect([...page1.body.events, ...page2.body.events].map((e: any) => e.version)).toEqual([1, 2, 3, 4]);
  });

  it('refuses bad filters with 400 and keeps hostile strings as plain values', async () => {
    for (const q of ['from=yesterday', 'limit=0', 'after_position=-5']) {
      expect((await sendJson(t.app, 'GET', `/api/v1/audit/events?${q}`)).status, q).toBe(400);
    }
    const hostile = await sendJson(t.app, 'GET', `/api/v1/audit/events?actor=${encodeURIComponent("x' or 1=1 --")}&type=${encodeURIComponent("'; drop table events; --")}`);
    expect(hostile.status).toBe(200);
    expect(hostile.body.events).toEqual([]);
  });

  it('builds parameterized SQL only', () => {
    const sql = searchSql(auditSearch({ type: ["a'b"], actor: "o'hara", after_position: 0, limit: 10 }));
    expect(sql.text).not.toContain("o'hara");
    expect(sql.values).toContain("o'hara");
  });
});

describe('GET /api/v1/conversations/{id}/history', () => {
  it('shows the conversation as of a position between two label changes', async () => {
    const res = await sendJson(t.app, 'GET', `/api/v1/conversations/${conversationId}/history?as_of=${positions[1]}&include=messages`);
    expect(res.status).toBe(200);
    expect(res.body.label).toBe('second');
    expect(res.body.version).toBe(3);
    expect(res.body.messages.map((m: any) => m.content)).toEqual(['hello audit']);
    const latest = await sendJson(t.app, 'GET', `/api/v1/conversations/${conversationId}/history?as_of=${positions[2]}`);
    expect(latest.body.label).toBe('third');
  });

  it('accepts an ISO time and says 404 before the conversation existed', async () => {
    const now = await sendJson(t.app, 'GET', `/api/v1/conversations/${conversationId}/history?as_of=${encodeURIComponent(new Date(Date.now() + 1000).toISOString())}`);
    expect(now.body.label).toBe('third');
    const before = await sendJson(t.app, 'GET', `/api/v1/conversations/${conversationId}/history?as_of=2000-01-01T00:00:00Z`);
    expect(before.status).toBe(404);
  });

  it('refuses a missing or malformed as_of', async () => {
    for (const q of ['', 'as_of=soon', 'as_of=12:ab']) {
      const res = await sendJson(t.app, 'GET', `/api/v1/conversations/${conversationId}/history?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.body.details.field).toBe('query.as_of');
    }
  });
});
