import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { countEvents, createTestApp, sendJson, type TestApp } from '../support/testApp.js';

// Small limits, set through config, so that every limit is cheap to cross.
const LIMITS = {
  max_body_bytes: 4096,
  max_messages_per_request: 3,
  max_content_chars: 50,
  max_label_chars: 20,
  max_folder_chars: 30,
  max_metadata_depth: 3,
};

let t: TestApp;
let id: string;
let eventsBefore: number;

beforeAll(async () => {
  t = await createTestApp({ config: { api: LIMITS } });
  id = (await sendJson(t.app, 'POST', '/api/v1/conversations', { label: 'target' })).body.id;
});
afterAll(() => t.close());

// Whatever a rejected request was, it wrote nothing.
beforeEach(async () => {
  eventsBefore = await countEvents(t.db);
});
afterEach(async () => {
  expect(await countEvents(t.db)).toBe(eventsBefore);
});

const msg = (over: object = {}) => ({ role: 'user', content: 'hello', ...over });
const deep = (levels: number): object => (levels === 0 ? {} : { a: deep(levels - 1) });

/** [case, method, path (`:id` is the existing conversation), body, the field the 400 must name] */
type Case = [string, string, string, unknown, string];
const C = '/api/v1/conversations';
const cases: Case[] = [
  ['missing label', 'POST', C, {}, 'label'],
  ['label of wrong type', 'POST', C, { label: 5 }, 'label'],
  ['empty label', 'POST', C, { label: '' }, 'label'],
  ['whitespace-only label', 'POST', C, { label: '   ' }, 'label'],
  ['label too long', 'POST', C, { label: 'x'.repeat(21) }, 'label'],
  ['label with a control character', 'POST', C, { label: 'a\u0007b' }, 'label'],
  // JSON can escape a lone surrogate; PostgreSQL cannot store one (found by the route fuzzer).
  ['label with a lone surrogate', 'PUT', `${C}/:id/label`, { label: '\ud800' }, 'label'],
  ['message content with a lone surrogate', 'POST', C, { label: 'l', messages: [msg({ content: 'a\udc00b' })] }, 'messages.0.content'],
  ['metadata key with a lone surrogate', 'POST', C, { label: 'l', metadata: { '\ud83d': 1 } }, 'metadata.\ud83d'],
  ['messages not an array', 'POST', C, { label: 'l', messages: 'hi' }, 'messages'],
  ['too many messages', 'POST', C, { label: 'l', messages: [msg(), msg(), msg(), msg()] }, 'messages'],
  ['message not an object', 'POST', C, { label: 'l', messages: ['hi'] }, 'messages.0'],
  ['missing role', 'POST', C, { label: 'l', messages: [{ content: 'hi' }] }, 'messages.0.role'],
  ['unknown role', 'POST', C, { label: 'l', messages: [msg({ role: 'wizard' })] }, 'messages.0.role'],
  ['missing content', 'POST', C, { label: 'l', messages: [{ role: 'user' }] }, 'messages.0.content'],
  ['content of wrong type', 'POST', C, { label: 'l', messages: [msg({ content: 42 })] }, 'messages.0.content'],
  ['empty content', 'POST', C, { label: 'l', messages: [msg({ content: '' })] }, 'messages.0.content'],
  ['whitespace-only content', 'POST', C, { label: 'l', messages: [msg({ content: ' \n\t ' })] }, 'messages.0.content'],
  ['oversized content', 'POST', C, { label: 'l', messages: [msg({ content: 'x'.repeat(51) })] }, 'messages.0.content'],
  ['no content parts', 'POST', C, { label: 'l', messages: [msg({ content: [] })] }, 'messages.0.content'],
  ['only blank text parts', 'POST', C, { label: 'l', messages: [msg({ content: [{ type: 'text', text: '  ' }] })] }, 'messages.0.content'],
  ['oversized text part', 'POST', C, { label: 'l', messages: [msg({ content: [{ type: 'text', text: 'y'.repeat(51) }] })] }, 'messages.0.content.0.text'],
  ['unknown part type', 'POST', C, { label: 'l', messages: [msg({ content: [{ type: 'audio', data: 'x' }] })] }, 'messages.0.content.0.type'],
  ['image part without url', 'POST', C, { label: 'l', messages: [msg({ content: [{ type: 'image_url', image_url: {} }] })] }, 'messages.0.content.0.image_url.url'],
  ['timestamp not ISO-8601', 'POST', C, { label: 'l', messages: [msg({ timestamp: 'yesterday' })] }, 'messages.0.timestamp'],
  ['message metadata not an object', 'POST', C, { label: 'l', messages: [msg({ metadata: 'x' })] }, 'messages.0.metadata'],
  ['importance 0', 'POST', C, { label: 'l', importance_score: 0 }, 'importance_score'],
  ['importance 11', 'POST', C, { label: 'l', importance_score: 11 }, 'importance_score'],
  ['importance not an integer', 'POST', C, { label: 'l', importance_score: 5.5 }, 'importance_score'],
  ['importance as a string', 'POST', C, { label: 'l', importance_score: '5' }, 'importance_score'],
  ['importanceScore outside 1-10', 'POST', C, { label: 'l', importanceScore: -3 }, 'importance_score'],
  ['metadata an array', 'POST', C, { label: 'l', metadata: [1, 2] }, 'metadata'],
  ['metadata a string', 'POST', C, { label: 'l', metadata: 'x' }, 'metadata'],
  // metadata: null is "absent" now (upstream ignores it): see test/http/lenientBodies.int.test.ts.
  ['metadata a string', 'POST', C, { label: 'l', metadata: 'x' }, 'metadata'],
  ['metadata too deep', 'POST', C, { label: 'l', metadata: deep(4) }, 'metadata'],
  ['folder with ..', 'POST', C, { label: 'l', folder: '/a/../b' }, 'folder'],
  ['folder of only ..', 'POST', C, { label: 'l', folder: '..' }, 'folder'],
  ['folder too long', 'POST', C, { label: 'l', folder: `/${'f'.repeat(30)}` }, 'folder'],
  ['folder of wrong type', 'POST', C, { label: 'l', folder: ['a'] }, 'folder'],
  ['body a JSON array', 'POST', C, [{ label: 'l' }], 'body'],
  ['body JSON null', 'POST', C, null, 'body'],
  ['append: no messages', 'POST', `${C}/:id/messages`, { messages: [] }, 'messages'],
  ['append: missing messages', 'POST', `${C}/:id/messages`, {}, 'messages'],
  ['append: too many messages', 'POST', `${C}/:id/messages`, { messages: [msg(), msg(), msg(), msg()] }, 'messages'],
  ['append: unknown role', 'POST', `${C}/:id/messages`, { messages: [msg({ role: 'robot' })] }, 'messages.0.role'],
  ['append: bad UUID', 'POST', `${C}/not-a-uuid/messages`, { messages: [msg()] }, 'path.id'],
  ['label: missing label', 'PUT', `${C}/:id/label`, { folder: '/x' }, 'label'],
  ['label: folder with ..', 'PUT', `${C}/:id/label`, { label: 'ok', folder: 'a/..' }, 'folder'],
  ['label: label too long', 'PUT', `${C}/:id/label`, { label: 'z'.repeat(21) }, 'label'],
  ['folder: missing folder', 'PUT', `${C}/:id/folder`, {}, 'folder'],
  ['folder: wrong type', 'PUT', `${C}/:id/folder`, { folder: 7 }, 'folder'],
  ['importance: missing', 'PUT', `${C}/:id/importance`, {}, 'importance_score'],
  ['importance: 11', 'PUT', `${C}/:id/importance`, { importance_score: 11 }, 'importance_score'],
  ['importance: 2.5', 'PUT', `${C}/:id/importance`, { importance_score: 2.5 }, 'importance_score'],
  ['pin: bad UUID', 'PUT', `${C}/1234/pin`, undefined, 'path.id'],
  ['archive: bad UUID', 'PUT', `${C}/${'g'.repeat(36)}/archive`, undefined, 'path.id'],
  ['delete: bad UUID', 'DELETE', `${C}/zzz`, undefined, 'path.id'],
];

describe('every malformed input is a 400 naming the field, and writes nothing', () => {
  it.each(cases)('%s', async (_name, method, path, body, field) => {
    const res = await sendJson(t.app, method, path.replace(':id', id), body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'invalid_input', details: { field }, request_id: expect.any(String) });
    expect(res.body.error).toMatch(new RegExp(`^${field.replace(/\./g, '\\.')}: .+`));
    expect(typeof res.body.details.reason).toBe('string');
  });
});

describe('bodies that are not acceptable JSON', () => {
  it('malformed JSON is 400 invalid_json', async () => {
    const res = await sendJson(t.app, 'POST', C, '{"label": "x",');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'invalid_json', request_id: expect.any(String) });
  });

  it('a body over max_body_bytes is 413, whether or not it declares its length', async () => {
    const big = JSON.stringify({ label: 'l', metadata: { pad: 'p'.repeat(LIMITS.max_body_bytes) } });
    const declared = await sendJson(t.app, 'POST', C, big);
    expect(declared.status).toBe(413);
    expect(declared.body).toMatchObject({ code: 'payload_too_large', request_id: expect.any(String) });
    const streamed = await t.app.request(C, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
    expect(streamed.status).toBe(413);
  });

  it('a body that is not JSON is 415', async () => {
    for (const [path, method] of [[C, 'POST'], [`${C}/${id}/label`, 'PUT'], [`${C}/${id}/pin`, 'PUT']] as const) {
      const res = await t.app.request(path, {
        method,
        headers: { 'content-type': 'text/plain', 'content-length': '9' },
        body: 'label=abc',
      });
      expect([path, res.status]).toEqual([path, 415]);
      expect(await res.json()).toMatchObject({ code: 'unsupported_media_type', request_id: expect.any(String) });
    }
  });
});

describe('ids that do not name a live conversation', () => {
  it('an unknown id is 404', async () => {
    const res = await sendJson(t.app, 'PUT', `${C}/${randomUUID()}/label`, { label: 'x' });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: expect.any(String), code: 'not_found', request_id: expect.any(String) });
  });

  it('a deleted conversation is 404 "deleted"', async () => {
    const gone = (await sendJson(t.app, 'POST', C, { label: 'doomed' })).body.id;
    await sendJson(t.app, 'DELETE', `${C}/${gone}`);
    eventsBefore = await countEvents(t.db);
    const res = await sendJson(t.app, 'PUT', `${C}/${gone}/importance`, { importance_score: 3 });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: 'deleted', details: { deleted_at: expect.any(String) }, request_id: expect.any(String) });
  });
});
