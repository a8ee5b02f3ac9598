import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listCheckpoints } from '../../src/projections/checkpoints.js';
import { until } from '../projections/helpers.js';
import { sendJson } from '../support/testApp.js';
import { createSearchApp, type SearchApp } from '../vectors/support.js';

// Messages with a participant's name: stored, returned by every read, searchable and filterable.
describe('message names (real Chroma, real local model)', () => {
  let t: SearchApp;
  let id = '';
  let position = '';

  beforeAll(async () => {
    t = await createSearchApp();
    const created = await t.create({
      label: 'chat',
      folder: '/names',
      messages: [
        { role: 'user', name: 'Caroline', content: 'I went to a support group yesterday', timestamp: '2023-05-08T13:56:00Z' },
        { role: 'user', name: 'Melanie', content: 'That sounds powerful, tell me more', timestamp: '2023-05-08T13:57:00Z' },
        { role: 'assistant', name: null, content: 'A message from an unnamed assistant about groups', timestamp: '2023-05-08T13:58:00Z' },
      ],
    });
    id = created.id;
    position = created.position;
    await t.untilVectors(3);
  });
  afterAll(() => t.close());

  it('returns the name with the message wherever messages are read, and leaves it out when there is none', async () => {
    const got = await sendJson(t.app, 'GET', `/api/v1/conversations/${id}?include=messages&min_position=${position}`);
    expect(got.status).toBe(200);
    expect(got.body.messages.map((m: any) => m.name)).toEqual(['Caroline', 'Melanie', undefined]);
    expect(got.body.messages[2]).not.toHaveProperty('name');
    const listed = await sendJson(t.app, 'GET', `/api/v1/conversations/${id}/messages`);
    expect(listed.body.messages.map((m: any) => m.name)).toEqual(['Caroline', 'Melanie', undefined]);
    const exported = await sendJson(t.app, 'GET', `/api/v1/conversations/${id}/export?format=markdown`);
    const markdown = String(exported.body);
    expect(markdown).toContain('## User (Caroline)');
  });

  it('finds a message by its participant and its day in full-text search', async () => {
    const byName = await t.search({ query: 'Caroline', mode: 'fts', filters: { folder: '/names' } });
    expect(byName.body.results[0]).toMatchObject({ name: 'Caroline', content: 'I went to a support group yesterday' });
    const byDay = await t.search({ query: 'May 2023 group', mode: 'fts', filters: { folder: '/names' } });
    expect(byDay.body.results.length).toBeGreaterThan(0);
    const fts = await sendJson(t.app, 'POST', '/api/v1/search/fts', { query: 'Melanie', filters: { name: 'Melanie' } });
    expect(fts.body.results.map((r: any) => [r.name, r.content])).toEqual([['Melanie', 'That sounds powerful, tell me more']]);
  });

  it('filters by name in every search mode', async () => {
    for (const mode of ['semantic', 'fts', 'hybrid']) {
      const ask = () => t.search({ query: 'support group powerful', mode, filters: { name: 'Melanie' } });
      let res = await ask();
      // A loaded machine may time the query's embedding out once: the answer then says degraded.
      await until(async () => !(res = await ask()).body.degraded, 60_000, `${mode} not degraded`);
      expect(res.status, mode).toBe(200);
      expect(res.body.results.map((r: any) => r.name), mode).toEqual(['Melanie']);
    }
  });

  it('keeps names through a replay of the read model and the lexical projection from the log', async () => {
    const live = async (name: string) => (await listCheckpoints(t.db.pool, [name])).find((r) => r.state === 'live')?.version;
    for (const name of ['read-model', 'lexical-stats']) {
      const from = (await live(name))!;
      const res = await sendJson(t.app, 'POST', `/api/v1/projections/${name}/rebuild`);
      expect(res.status, name).toBe(202);
      await until(async () => (await live(name)) === from + 1, 60_000, `${name} switched`);
    }
    const got = await sendJson(t.app, 'GET', `/api/v1/conversations/${id}?include=messages`);
    expect(got.body.messages.map((m: any) => m.name)).toEqual(['Caroline', 'Melanie', undefined]);
    const fts = await sendJson(t.app, 'POST', '/api/v1/search/fts', { query: 'Caroline May 2023', filters: { name: 'Caroline' } });
    expect(fts.body.results.map((r: any) => [r.name, r.content])).toEqual([['Caroline', 'I went to a support group yesterday']]);
    const query = await t.search({ query: 'Melanie', mode: 'fts', filters: { folder: '/names' } });
    expect(query.body.results[0]).toMatchObject({ name: 'Melanie' });
  });

  it.each([
    ['too long', 'x'.repeat(101), /^messages\.0\.name: must be at most 100 characters|^messages\[0\]\.name: must be at most 100 characters/],
    ['with a control character', 'Caro\u0007line', /name: must not contain control characters/],
    ['not a string', 42, /name/],
  ])('refuses a name %s with a 400 naming the field', async (_, name, message) => {
    const res = await sendJson(t.app, 'POST', '/api/v1/conversations', { label: 'bad', messages: [{ role: 'user', name, content: 'hi' }] });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(message);
  });
});
