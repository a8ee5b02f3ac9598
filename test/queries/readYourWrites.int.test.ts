import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPools } from '../../src/db/pools.js';
import { createApp } from '../../src/app/createApp.js';
import type { AppDeps } from '../../src/deps.js';
import { sendJson } from '../support/testApp.js';
import { createQueryApp, type QueryApp } from './support.js';

let t: QueryApp;
beforeAll(async () => {
  t = await createQueryApp();
});
afterAll(() => t.close());

describe('read-your-writes', () => {
  it('a read with min_position sees the write it follows, 100 times out of 100 (query parameter and header)', async () => {
    for (let i = 0; i < 100; i++) {
      const { id, position } = await t.create({ label: `ryw ${i}`, messages: [{ role: 'user', content: `write number ${i}` }] });
      const res =
        i % 2 === 0
          ? await sendJson(t.app, 'GET', `/api/v1/conversations/${id}?include=messages&min_position=${position}`)
          : await sendJson(t.app, 'GET', `/api/v1/conversations/${id}?include=messages`, undefined, { 'x-sekha-position': position });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.label).toBe(`ryw ${i}`);
      expect(res.body.messages).toHaveLength(1);
    }
  });

  it('also through a separate read pool without the in-process bus (polling the read database)', async () => {
    // A second pool on the same database, as a replica would be: the wait must read the checkpoint there.
    const readUrl = new URL(t.db.url);
    readUrl.searchParams.set('application_name', 'sekha-read-test');
    const pools = createPools(t.db.url, readUrl.toString(), t.deps.config.database);
    expect(pools.separateRead).toBe(true);
    const deps: AppDeps = { ...t.deps, pools, store: t.deps.store, progress: undefined, projections: undefined };
    const app = createApp(deps);
    try {
      for (let i = 0; i < 100; i++) {
        const { id, position } = await t.create({ label: `split ${i}`, messages: [{ role: 'user', content: `split write ${i}` }] });
        const res = await sendJson(app, 'GET', `/api/v1/conversations?label=${encodeURIComponent(`split ${i}`)}&min_position=${position}`);
        expect(res.status).toBe(200);
        expect(res.body.results.map((r: { id: string }) => r.id)).toEqual([id]);
      }
    } finally {
      await pools.close();
    }
  });

  it('times out with 503 and Retry-After when the position is never reached', async () => {
    const started = Date.now();
    const res = await sendJson(t.app, 'GET', '/api/v1/conversations?min_position=99999999999:99999999&wait_ms=150');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.body.code).toBe('not_caught_up');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('refuses a malformed position or wait with 400 naming the field', async () => {
    const bad = await sendJson(t.app, 'GET', '/api/v1/conversations?min_position=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body.details.field).toBe('query.min_position');
    const header = await sendJson(t.app, 'GET', '/api/v1/conversations', undefined, { 'x-sekha-position': '12' });
    expect(header.status).toBe(400);
    expect(header.body.details.field).toBe('X-Sekha-Position');
    const wait = await sendJson(t.app, 'GET', '/api/v1/conversations?min_position=1:1&wait_ms=999999');
    expect(wait.status).toBe(400);
    expect(wait.body.details.field).toBe('query.wait_ms');
  });
});
