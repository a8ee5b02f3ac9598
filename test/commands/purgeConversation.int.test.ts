import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformExtras } from '../../src/app/platform.js';
import { createTestApp, sendJson, type TestApp } from '../support/testApp.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

async function conversationWithMarker(marker: string) {
  const res = await sendJson(t.app, 'POST', '/api/v1/conversations', {
    label: 'private',
    metadata: { note: marker },
    messages: [
      { role: 'user', name: marker, content: `my secret is ${marker}`, metadata: { tag: marker } },
      { role: 'assistant', content: [{ type: 'text', text: `noted ${marker}` }] },
    ],
  });
  expect(res.status).toBe(201);
  await sendJson(t.app, 'POST', `/api/v1/conversations/${res.body.id}/messages`, { messages: [{ role: 'user', content: `again ${marker}` }] });
  return res.body.id as string;
}

const eventsContaining = async (marker: string) =>
  (await t.db.pool.query<{ n: number }>(`select count(*)::int as n from events where data::text like '%' || $1 || '%' or metadata::text like '%' || $1 || '%'`, [marker])).rows[0]!.n;

describe('DELETE /api/v1/conversations/{id}?purge=true', () => {
  it('redacts the content of every earlier event and records who purged it', async () => {
    const marker = `marker-${randomUUID()}`;
    const id = await conversationWithMarker(marker);
    const text = `my secret is ${marker}`;
    await t.db.pool.query(`insert into embedding_cache (model, text_hash, vector_bytes) values ('m', $1, '\\x3dcccccd3e4ccccd')`, [
      createHash('sha256').update(text, 'utf8').digest(),
    ]);
    expect(await eventsContaining(marker)).toBeGreaterThan(0);

    const res = await sendJson(t.app, 'DELETE', `/api/v1/conversations/${id}?purge=true`, undefined, { 'x-request-id': 'purge-1' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, deleted: true, purged: true });

    expect(await eventsContaining(marker)).toBe(0);
    expect((await t.db.pool.query('select count(*)::int as n from embedding_cache')).rows[0].n).toBe(0);

    const events = await sendJson(t.app, 'GET', `/api/v1/conversations/${id}/events`);
    const purge = events.body.events.at(-1);
    expect(purge).toMatchObject({ type: 'ConversationPurged', metadata: { actor: 'anonymous', request_id: 'purge-1' } });
    const appended = events.body.events.find((e: any) => e.type === 'MessagesAppended');
    expect(appended.data.messages[0].content).toBe('[redacted]');
    expect(appended.data.messages[0].redacted.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(events.body)).not.toContain(marker);

    const history = await sendJson(t.app, 'GET', `/api/v1/conversations/${id}/history?as_of=${encodeURIComponent(new Date().toISOString())}&include=messages`);
    expect(JSON.stringify(history.body)).not.toContain(marker);
    // The removed words are gone: the redaction marker is not counted as the client's words.
    expect(history.body.word_count).toBe(0);
  });

  it('purges an already deleted conversation, and later writes get 404 deleted', async () => {
    const marker = `marker-${randomUUID()}`;
    const id = await conversationWithMarker(marker);
    expect((await sendJson(t.app, 'DELETE', `/api/v1/conversations/${id}`)).status).toBe(200);
    expect((await sendJson(t.app, 'DELETE', `/api/v1/conversations/${id}?purge=true`)).status).toBe(200);
    expect(await eventsContaining(marker)).toBe(0);
    const pinned = await sendJson(t.app, 'PUT', `/api/v1/conversations/${id}/pin`);
    expect([pinned.status, pinned.body.code]).toEqual([404, 'deleted']);
  });

  it('needs the admin scope (403, for each spelling of purge) and writes nothing without it', async () => {
    const marker = `marker-${randomUUID()}`;
    const id = await conversationWithMarker(marker);
    // The same database behind auth, with a key that may write but is not admin.
    const writer = 'w'.repeat(40);
    const keyed = await createTestApp({ db: t.db, config: { api: { keys: [{ name: 'writer', key: writer, scopes: ['read', 'write'] }] } }, extras: (deps) => platformExtras(deps) });
    try {
      for (const purge of ['true', '1']) {
        const res = await sendJson(keyed.app, 'DELETE', `/api/v1/conversations/${id}?purge=${purge}`, undefined, { authorization: `Bearer ${writer}` });
        expect(res.status).toBe(403);
        expect(res.body.code).toBe('insufficient_scope');
      }
    } finally {
      await keyed.close();
    }
    expect(await eventsContaining(marker)).toBeGreaterThan(0);
  });

  it('refuses a malformed purge flag and an unknown conversation', async () => {
    expect((await sendJson(t.app, 'DELETE', `/api/v1/conversations/${randomUUID()}?purge=yes`)).status).toBe(400);
    expect((await sendJson(t.app, 'DELETE', `/api/v1/conversations/${randomUUID()}?purge=true`)).status).toBe(404);
  });
});
