import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countEvents, createTestApp, sendJson, type TestApp } from '../support/testApp.js';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const key = () => ({ 'idempotency-key': `key-${randomUUID()}` });
const createBody = { label: 'idem', messages: [{ role: 'user', content: 'hello' }] };

describe('Idempotency-Key', () => {
  it('a retried create returns the first answer (same id, position, ETag) and appends nothing', async () => {
    const headers = key();
    const first = await sendJson(t.app, 'POST', '/api/v1/conversations', createBody, headers);
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const before = await countEvents(t.db);
    const retry = await sendJson(t.app, 'POST', '/api/v1/conversations', createBody, headers);
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get('x-sekha-position')).toBe(first.headers.get('x-sekha-position'));
    expect(retry.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(await countEvents(t.db)).toBe(before);
  });

  it('a retried append returns the same message ids and position, even after later writes', async () => {
    const { id } = (await sendJson(t.app, 'POST', '/api/v1/conversations', createBody)).body;
    const headers = key();
    const body = { messages: [{ role: 'assistant', content: 'one' }, { role: 'user', content: 'two' }] };
    const first = await sendJson(t.app, 'POST', `/api/v1/conversations/${id}/messages`, body, headers);
    expect(first.status).toBe(201);
    await sendJson(t.app, 'POST', `/api/v1/conversations/${id}/messages`, { messages: [{ role: 'user', content: 'later' }] });
    const before = await countEvents(t.db);
    const retry = await sendJson(t.app, 'POST', `/api/v1/conversations/${id}/messages`, body, headers);
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect(await countEvents(t.db)).toBe(before);
  });

  it('a retried change answers the conversation as the first request left it', async () => {
    const { id } = (await sendJson(t.app, 'POST', '/api/v1/conversations', createBody)).body;
    const headers = key();
    const first = await sendJson(t.app, 'PUT', `/api/v1/conversations/${id}/pin`, undefined, headers);
    await sendJson(t.app, 'PUT', `/api/v1/conversations/${id}/unpin`);
    const before = await countEvents(t.db);
    const retry = await sendJson(t.app, 'PUT', `/api/v1/conversations/${id}/pin`, undefined, headers);
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(first.body);
    expect(retry.body.pinned).toBe(true);
    expect(retry.headers.get('etag')).toBe(`"${first.body.version}"`);
    expect(await countEvents(t.db)).toBe(before);
  });

  it('a retried delete answers the first 200, not 404 deleted', async () => {
    const { id } = (await sendJson(t.app, 'POST', '/api/v1/conversations', createBody)).body;
    const headers = key();
    const first = await sendJson(t.app, 'DELETE', `/api/v1/conversations/${id}`, undefined, headers);
    expect(first.status).toBe(200);
    const before = await countEvents(t.db);
    const retry = await sendJson(t.app, 'DELETE', `/api/v1/conversations/${id}`, undefined, headers);
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(await countEvents(t.db)).toBe(before);
    // Without the key, the conversation is gone.
    expect((await sendJson(t.app, 'DELETE', `/api/v1/conversations/${id}`)).body.code).toBe('deleted');
  });

  it('the same key with a different body is 422 and appends nothing', async () => {
    const headers = key();
    expect((await sendJson(t.app, 'POST', '/api/v1/conversations', createBody, headers)).status).toBe(201);
    const before = await countEvents(t.db);
    const reused = await sendJson(t.app, 'POST', '/api/v1/conversations', { ...createBody, label: 'other' }, headers);
    expect(reused.status).toBe(422);
    expect(reused.body).toMatchObject({ code: 'idempotency_key_reused', request_id: expect.any(String) });
    expect(await countEvents(t.db)).toBe(before);
  });

  it('the same key on another route is 422', async () => {
    const headers = key();
    const { id } = (await sendJson(t.app, 'POST', '/api/v1/conversations', createBody, headers)).body;
    const before = await countEvents(t.db);
    const res = await sendJson(t.app, 'PUT', `/api/v1/conversations/${id}/archive`, undefined, headers);
    expect(res.status).toBe(422);
    expect(await countEvents(t.db)).toBe(before);
  });

  it('concurrent requests with one key create one conversation and all answer it', async () => {
    const headers = key();
    const before = await countEvents(t.db);
    const answers = await Promise.all(Array.from({ length: 8 }, () => sendJson(t.app, 'POST', '/api/v1/conversations', createBody, headers)));
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(201));
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect(new Set(answers.map((a) => a.body.position)).size).toBe(1);
    expect(await countEvents(t.db)).toBe(before + 2);
  });

  it('refuses a malformed key with 400 naming the header', async () => {
    const res = await sendJson(t.app, 'POST', '/api/v1/conversations', createBody, { 'idempotency-key': 'x'.repeat(300) });
    expect(res.status).toBe(400);
    expect(res.body.details.field).toBe('Idempotency-Key');
  });
});
