import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { listCheckpoints } from '../../src/projections/checkpoints.js';
import { lexicalStatsProjection, lexicalTables, LEXICAL_STATS, REFERENCE, versionOrder, type PostingOrder } from '../../src/projections/lexicalStats.js';
import { readModelDefinition } from '../../src/projections/readModel/index.js';
import { createProjectionRuntime, type ProjectionRuntime } from '../../src/projections/runtime.js';
import { lexicalExact, lexicalTopK } from '../../src/queries/lexicalTopK.js';
import { createTestApp, type TestApp } from '../support/testApp.js';
import { caughtUp, seedHistory, silentLogger, startConversation } from './helpers.js';

let t: TestApp;
let runtime: ProjectionRuntime | undefined;

const liveVersion = async (pool: pg.Pool) => (await listCheckpoints(pool, [LEXICAL_STATS])).find((r) => r.state === 'live')!.version;

/** A runtime whose lexical projection orders its versions under `order`; resolves once started, with whether it switched versions on the way. */
async function startWith(order: PostingOrder): Promise<{ switched: Promise<unknown> }> {
  await runtime?.stop();
  runtime = createProjectionRuntime({ pool: t.deps.pools.write, url: t.db.url, logger: silentLogger, batchSize: 5, pollIntervalMs: 300, leaseCheckMs: 300 }, [
    readModelDefinition,
    lexicalStatsProjection(order),
  ]);
  const switched = new Promise((resolve) => runtime!.bus.once('switched', resolve));
  await runtime.start();
  return { switched };
}

/** Every posting's cost is K(len)/tf under `order` and the version's own reference avgdl. */
async function expectOrderedUnder(version: number, order: PostingOrder): Promise<number> {
  const v = lexicalTables(version);
  const { rows } = await t.db.pool.query<{ cost: number; tf: number; len: number; avgdl_ref: number }>(`select p.cost, p.tf, p.len, x.avgdl_ref from ${v.postings} p, ${v.totals} x`);
  for (const c of rows) expect(c.cost).toBeCloseTo((order.k1 * (1 - order.b + (order.b * c.len) / c.avgdl_ref)) / c.tf, 9);
  return rows.length;
}

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await runtime?.stop();
  await t.close();
});

describe('the postings follow the configured BM25 parameters', () => {
  const tuned: PostingOrder = { k1: 1.2, b: 0.75 };
  const queries = ['postgres replica', 'vacuum', 'index the replica', 'slow query postgres', 'more words'];

  it('a live version records the order it was built under', async () => {
    await startWith(REFERENCE);
    await seedHistory(t.deps.store, 30);
    // Lengths and term frequencies that BM25 weighs differently under different k1 and b.
    const words = ['postgres', 'replica', 'vacuum', 'index', 'the', 'a', 'slow', 'query'];
    let last;
    for (let i = 0; i < 24; i++) {
      const text = (n: number) => Array.from({ length: n }, (_, j) => words[(i * 7 + j * j) % words.length]).join(' ');
      last = (await startConversation(t.deps.store, { messages: [text(2 + (i % 5)), text(5 + ((i * 3) % 40))] })).position;
    }
    await caughtUp(t.db.pool, last!, LEXICAL_STATS);
    const version = await liveVersion(t.db.pool);
    expect(await versionOrder(t.db.pool, version)).toEqual(REFERENCE);
    expect(await expectOrderedUnder(version, REFERENCE)).toBeGreaterThan(100);
  });

  it('is rebuilt at start when the configuration names other parameters, and answers exactly before and after', async () => {
    const before = await liveVersion(t.db.pool);
    const params = tuned;
    // Exact under the tuned parameters while the postings are ordered under others (the bound holds, only looser).
    for (const query of queries) {
      const walked = (await lexicalTopK(t.deps.pools.read, { query, filter: { status: 'any' }, k: 5, params, fewPostings: 0 }))._unsafeUnwrap();
      expect(walked.hits).toEqual((await lexicalExact(t.deps.pools.read, { query, filter: { status: 'any' }, k: 5, params }))._unsafeUnwrap());
    }
    const { switched } = await startWith(tuned);
    await switched;
    const after = await liveVersion(t.db.pool);
    expect(after).toBeGreaterThan(before);
    expect(await versionOrder(t.db.pool, after)).toEqual(tuned);
    await expectOrderedUnder(after, tuned);
    // A write after the switch takes the batch path under the version's recorded order.
    const late = await startConversation(t.deps.store, { messages: ['a late word about the replica and its vacuum', 'and a reply'] });
    await caughtUp(t.db.pool, late.position, LEXICAL_STATS);
    await expectOrderedUnder(after, tuned);
    for (const query of queries) {
      const walked = (await lexicalTopK(t.deps.pools.read, { query, filter: { status: 'any' }, k: 5, params, fewPostings: 0 }))._unsafeUnwrap();
      expect([query, walked.path]).toEqual([query, 'postings']);
      expect(walked.hits).toEqual((await lexicalExact(t.deps.pools.read, { query, filter: { status: 'any' }, k: 5, params }))._unsafeUnwrap());
    }
  });

  it('is left alone at start when the live version already has the configured order', async () => {
    const before = await liveVersion(t.db.pool);
    await startWith(tuned);
    await runtime!.sync();
    const rows = await listCheckpoints(t.db.pool, [LEXICAL_STATS]);
    expect(rows.filter((r) => r.state !== 'retired').map((r) => [r.version, r.state])).toEqual([[before, 'live']]);
  });
});
