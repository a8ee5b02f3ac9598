import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPosition } from '../../src/eventstore/index.js';
import { listCheckpoints } from '../../src/projections/checkpoints.js';
import { lexicalStatsDefinition } from '../../src/projections/lexicalStats.js';
import { readModelDefinition } from '../../src/projections/readModel/index.js';
import type { ProjectionRuntime } from '../../src/projections/runtime.js';
import { createTestApp, sendJson, type TestApp } from '../support/testApp.js';
import { buildFromScratch, caughtUp, seedHistory, startConversation, startSmallBatchRuntime, tableRows, until } from './helpers.js';

let t: TestApp;
let runtime: ProjectionRuntime;

beforeAll(async () => {
  t = await createTestApp();
  // Full-text search ranks from the lexical projection.
  runtime = await startSmallBatchRuntime(t, [readModelDefinition, lexicalStatsDefinition]);
  t.deps.progress = runtime.bus;
  t.deps.projections = runtime;
});
afterAll(async () => {
  await runtime.stop();
  await t.close();
});

const liveVersion = async () => (await listCheckpoints(t.db.pool, ['read-model'])).find((r) => r.state === 'live')?.version;
const tablesOf = async (v: number) => ({ conversations: await tableRows(t.db.pool, `rm_v${v}_conversations`), messages: await tableRows(t.db.pool, `rm_v${v}_messages`) });
const exists = async (table: string) => (await t.db.pool.query('select to_regclass($1) as t', [table])).rows[0].t !== null;

/** Queries the API in a loop until `stop` resolves; answers every status and list total seen. */
function queryLoop(stop: Promise<unknown>) {
  const seen: { status: number; total?: number; body?: unknown }[] = [];
  let done = false;
  void stop.then(() => (done = true));
  const run = (async () => {
    while (!done) {
      const list = await sendJson(t.app, 'GET', '/api/v1/conversations?page_size=100&archived=false');
      seen.push({ status: list.status, total: list.body.total });
      const fts = await sendJson(t.app, 'POST', '/api/v1/search/fts', { query: 'postgres' });
      seen.push({ status: fts.status, total: fts.body.total, ...(fts.status !== 200 ? { body: fts.body } : {}) });
    }
  })();
  return { seen, run };
}

describe('blue/green rebuild', () => {
  it('builds tables identical row for row to the live ones while queries keep answering, switches, and drops the old version', async () => {
    const last = await seedHistory(t.deps.store, 40);
    await caughtUp(t.db.pool, last);
    const from = (await liveVersion())!;
    const before = await tablesOf(from);
    const statusBefore = await sendJson(t.app, 'GET', '/api/v1/conversations?page_size=100&archived=false');

    const switched = new Promise((resolve) => runtime.bus.once('switched', resolve));
    const loop = queryLoop(switched);
    const res = await sendJson(t.app, 'POST', '/api/v1/projections/read-model/rebuild');
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ name: 'read-model', version: from + 1, state: 'building' });
    // Asking again while it runs reuses the same rebuild.
    expect((await sendJson(t.app, 'POST', '/api/v1/projections/read-model/rebuild')).body.version).toBe(from + 1);
    const during = await sendJson(t.app, 'GET', '/api/v1/projections');
    expect(during.status).toBe(200);
    const readModels = during.body.projections.filter((p: { name: string }) => p.name === 'read-model');
    expect(readModels.map((p: { version: number; state: string }) => [p.version, p.state])).toEqual([
      [from, 'live'],
      [from + 1, 'building'],
    ]);

    await until(async () => (await liveVersion()) === from + 1, 30_000, 'switch');
    await loop.run;
    expect(loop.seen.length).toBeGreaterThan(4);
    expect(loop.seen.every((s) => s.status === 200)).toBe(true);
    const lists = loop.seen.filter((_, i) => i % 2 === 0);
    expect(new Set(lists.map((s) => s.total))).toEqual(new Set([statusBefore.body.total]));

    expect(await tablesOf(from + 1)).toEqual(before);
    await until(async () => !(await exists(`rm_v${from}_conversations`)) && !(await exists(`rm_v${from}_messages`)), 10_000, 'old tables dropped');
    expect((await listCheckpoints(t.db.pool, ['read-model'])).map((r) => r.version)).toEqual([from + 1]);
    const after = await sendJson(t.app, 'GET', '/api/v1/conversations?page_size=100&archived=false');
    expect(after.body).toEqual(statusBefore.body);
  });

  it('keeps up with writes made during the rebuild and ends equal to the live projection', async () => {
    const from = (await liveVersion())!;
    const switched = new Promise((resolve) => runtime.bus.once('switched', resolve));
    expect((await sendJson(t.app, 'POST', '/api/v1/projections/read-model/rebuild')).status).toBe(202);
    let last = (await startConversation(t.deps.store, { messages: ['during the rebuild'] })).position;
    for (let i = 0; i < 10; i++) last = (await startConversation(t.deps.store, { label: `w${i}`, messages: ['postgres write', 'more'] })).position;
    await switched;
    const res = await sendJson(t.app, 'GET', `/api/v1/conversations?label=w9&min_position=${formatPosition(last)}`);
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(1);
    await caughtUp(t.db.pool, last);
    // Built while writes went on, it must equal a build of the finished log.
    const live = await tablesOf(from + 1);
    expect(live.conversations).toHaveLength(51);
    expect(live).toEqual(await buildFromScratch(t.db.pool, t.db.url, 77));
  });

  it('rebuilds the lexical projection beside the live one while full-text search keeps answering the same', async () => {
    const live = async () => (await listCheckpoints(t.db.pool, ['lexical-stats'])).find((r) => r.state === 'live')?.version;
    // A search shows a hit from the read model's row: both projections hold the message first.
    const { position } = await startConversation(t.deps.store, { messages: ['postgres before the lexical rebuild'] });
    await caughtUp(t.db.pool, position, 'lexical-stats');
    await caughtUp(t.db.pool, position, 'read-model');
    const from = (await live())!;
    const search = async () => (await sendJson(t.app, 'POST', '/api/v1/search/fts', { query: 'postgres', limit: 100 })).body;
    const before = await search();
    const switched = new Promise((resolve) => runtime.bus.once('switched', resolve));
    const loop = queryLoop(switched);
    const res = await sendJson(t.app, 'POST', '/api/v1/projections/lexical-stats/rebuild');
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ name: 'lexical-stats', version: from + 1, state: 'building' });
    await until(async () => (await live()) === from + 1, 30_000, 'switch');
    await loop.run;
    expect(loop.seen.filter((s) => s.status !== 200)).toEqual([]);
    const searches = loop.seen.filter((_, i) => i % 2 === 1);
    expect(searches.length).toBeGreaterThan(1);
    expect(new Set(searches.map((s) => s.total))).toEqual(new Set([before.total]));
    expect(await search()).toEqual(before);
  });

  it('answers 404 for an unknown projection', async () => {
    const res = await sendJson(t.app, 'POST', '/api/v1/projections/nothing/rebuild');
    expect(res.status).toBe(404);
  });
});
