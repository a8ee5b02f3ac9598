import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createProgressBus } from '../../src/projections/bus.js';
import { waitForPosition } from '../../src/queries/readYourWrites.js';
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
  it('wakes when the projection moves between reading its checkpoint and going to sleep (no lost wake-up)', async () => {
    // A projection of its own, moved by this test exactly after the wait has read its checkpoint and
    // before it listens: the progress event fires in that gap, as a real projector's commit can.
    await t.db.pool.query(`insert into projection_checkpoints (name, version, state) values ('gap-probe', 1, 'live')`);
    const bus = createProgressBus();
    const target = { transactionId: 5n, globalPosition: 5 };
    const real = t.deps.pools.read;
    let reads = 0;
    const read = new Proxy(real, {
      get(pool, key) {
        if (key !== 'query') return Reflect.get(pool, key, pool);
        return async (...args: Parameters<pg.Pool['query']>) => {
          const answer = await (pool.query as (...a: unknown[]) => Promise<unknown>)(...args);
          if (++reads === 1) {
            await t.db.pool.query(`update projection_checkpoints set transaction_id = '5', global_position = 5 where name = 'gap-probe'`);
            bus.emit('progress', { name: 'gap-probe', version: 1, position: target, events: 1 });
          }
          return answer;
        };
      },
    });
    // With the poll's timer frozen, only the progress event can end the wait: a lost one hangs the test.
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    try {
      const waited = await waitForPosition({ ...t.deps, pools: { ...t.deps.pools, read }, progress: bus }, ['gap-probe'], target, 60_000);
      expect(waited.isOk()).toBe(true);
      expect(reads).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  }, 10_000);

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
