import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readyRoutes } from '../../src/operations/ready.js';
import { sendJson } from '../support/testApp.js';
import { until } from './helpers.js';
import { createSearchApp, type SearchApp } from '../vectors/support.js';

const messages = (n: number, topic: string) => Array.from({ length: n }, (_, i) => ({ role: 'user', content: `${topic} note number ${i}` }));

describe('vector projection under the runtime (real Chroma, real local model)', () => {
  let t: SearchApp;
  beforeAll(async () => {
    t = await createSearchApp({ extras: (deps) => ({ routes: [readyRoutes(deps)] }) });
  });
  afterAll(() => t.close());

  const readModelMessages = async () => Number((await t.db.pool.query(`select count(*) from messages m join conversations c on c.id = m.conversation_id where c.status <> 'deleted'`)).rows[0].count);

  it('embeds appended messages with id = message id and conversation metadata; removes a deleted conversation', async () => {
    const a = await t.create({ label: 'alpha', folder: '/p/q', importance_score: 7, messages: messages(3, 'gardening') });
    const b = await t.create({ label: 'beta', messages: messages(2, 'sailing') });
    const more = await sendJson(t.app, 'POST', `/api/v1/conversations/${a.id}/messages`, { messages: messages(2, 'pruning') });
    expect(more.status).toBe(201);
    await t.untilVectors(7);
    const res = await t.search({ query: 'gardening note', mode: 'semantic', filters: { conversation_id: a.id }, limit: 10 });
    expect(res.body.results).toHaveLength(5);
    expect(res.body.results.map((r: any) => r.message_id).sort()).toEqual(
      (await t.db.pool.query(`select id::text from messages where conversation_id = $1 order by id`, [a.id])).rows.map((r) => r.id).sort(),
    );
    expect((await sendJson(t.app, 'DELETE', `/api/v1/conversations/${b.id}`)).status).toBe(200);
    await t.untilVectors(5);
  });

  it('keeps writes working while Chroma is down, answers degraded, and catches up with every message after restart', async () => {
    await t.chroma.pause();
    const written: string[] = [];
    let last = '';
    for (let i = 0; i < 5; i++) {
      const res = await sendJson(t.app, 'POST', '/api/v1/conversations', { label: `offline-${i}`, messages: messages(3, `offline topic ${i}`) });
      expect(res.status).toBe(201);
      written.push(res.body.id);
      last = res.body.position;
    }
    // Read-your-writes: the words side has the writes; the vectors cannot, so the answer says degraded.
    const degraded = await sendJson(t.app, 'POST', `/api/v1/query?min_position=${last}`, { query: 'offline topic', limit: 5 });
    expect(degraded.status).toBe(200);
    expect(degraded.body.degraded).toBe(true);
    expect(degraded.body.results.length).toBeGreaterThan(0);
    const semantic = await t.search({ query: 'offline topic', mode: 'semantic', limit: 5 });
    expect(semantic.status).toBe(200);
    expect(semantic.body.degraded).toBe(true);

    // The projector really met the outage (and retries), rather than finishing before it.
    await until(() => t.runtime.status().some((r) => r.name === 'vectors' && r.status === 'failed'), 30_000, 'vector projector to report failure');
    expect(await readModelMessages()).toBe(20);
    // /health stays 200 (the database answers) and says Chroma is down; /ready is not ready.
    const health = await sendJson(t.app, 'GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body.checks).toMatchObject({ database: 'ok', chroma: 'down', embedder: 'ok' });
    const ready = await sendJson(t.app, 'GET', '/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.checks.chroma).toBe('down');
    await t.chroma.resume();
    expect((await sendJson(t.app, 'GET', '/health')).body.checks.chroma).toBe('ok');
    const expected = await readModelMessages();
    expect(expected).toBe(5 + 15);
    await t.untilVectors(expected, 90_000);
    const healthy = await t.search({ query: 'offline topic', mode: 'semantic', limit: 5 });
    expect(healthy.body.degraded).toBe(false);
  });
});
