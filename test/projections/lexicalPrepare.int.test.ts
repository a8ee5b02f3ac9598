import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { listCheckpoints } from '../../src/projections/checkpoints.js';
import { lexicalStatsDefinition, lexicalTables, LEXICAL_STATS } from '../../src/projections/lexicalStats.js';
import { readModelDefinition } from '../../src/projections/readModel/index.js';
import type { ProjectionRuntime } from '../../src/projections/runtime.js';
import type { ProjectionDefinition } from '../../src/projections/types.js';
import { createTestApp, type TestApp } from '../support/testApp.js';
import { caughtUp, seedHistory, startSmallBatchRuntime } from './helpers.js';

let t: TestApp;
let runtime: ProjectionRuntime;
// What the runtime did around the switch, in order: the version's state when it was prepared, and
// whether its order index was already there when the switch transaction activated it.
const seen: string[] = [];

const orderIndexExists = async (db: pg.Pool | pg.PoolClient, version: number) =>
  (await db.query('select to_regclass($1) as i', [`${lexicalTables(version).postings}_order_idx`])).rows[0].i !== null;

const observed: ProjectionDefinition = {
  ...lexicalStatsDefinition,
  async prepare(pool, version) {
    const state = (await listCheckpoints(pool, [LEXICAL_STATS])).find((r) => r.version === version)?.state;
    seen.push(`prepare v${version} while ${state}`);
    await lexicalStatsDefinition.prepare!(pool, version);
  },
  async activate(client, version) {
    seen.push(`activate v${version} with index: ${await orderIndexExists(client, version)}`);
    await lexicalStatsDefinition.activate!(client, version);
  },
};

beforeAll(async () => {
  t = await createTestApp();
  runtime = await startSmallBatchRuntime(t, [readModelDefinition, observed]);
});
afterAll(async () => {
  await runtime.stop();
  await t.close();
});

describe('a rebuilt lexical version goes live', () => {
  it('with its postings order index built once it caught up, before the switch (not under the switch’s locks)', async () => {
    const last = await seedHistory(t.deps.store, 30);
    await caughtUp(t.db.pool, last, LEXICAL_STATS);
    seen.length = 0;
    const switched = new Promise((resolve) => runtime.bus.once('switched', resolve));
    const { version } = await runtime.rebuild(LEXICAL_STATS);
    await switched;
    expect(seen[0]).toBe(`prepare v${version} while building`);
    expect(seen).toContain(`activate v${version} with index: true`);
    expect(await orderIndexExists(t.db.pool, version)).toBe(true);
  });
});

describe('the order index of a large rebuilt version', () => {
  it('is built whatever the pool\'s statement timeout (a sort of millions of postings outlasts it)', async () => {
    const version = 90;
    const t90 = lexicalTables(version);
    const setupClient = await t.db.pool.connect();
    try {
      await lexicalStatsDefinition.create(version).setup!(setupClient);
    } finally {
      setupClient.release();
    }
    await t.db.pool.query(`drop index if exists ${t90.postings}_order_idx`);
    await t.db.pool.query(
      `insert into ${t90.postings} (term, cost, message_id, tf, len)
       select 'term' || (i % 5000), random(), gen_random_uuid(), 1, 10 from generate_series(1, 200000) as i`,
    );
    // A timeout no sort of 200,000 postings meets.
    const impatient = new pg.Pool({ connectionString: t.db.url, max: 1, statement_timeout: 5 });
    try {
      await lexicalStatsDefinition.prepare!(impatient, version);
    } finally {
      await impatient.end();
    }
    expect(await orderIndexExists(t.db.pool, version)).toBe(true);
    await t.db.pool.query(`drop table ${t90.postings}, ${t90.docs}, ${t90.terms}, ${t90.totals}`);
  });
});
