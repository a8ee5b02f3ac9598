import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { listCheckpoints } from '../../src/projections/checkpoints.js';
import { lexicalStatsDefinition, lexicalTables, LEXICAL_STATS } from '../../src/projections/lexicalStats.js';
import { readModelDefinition } from '../../src/projections/readModel/index.js';
import type { ProjectionRuntime } from '../../src/projections/runtime.js';
import type { ProjectionDefinition } from '../../src/projections/types.js';
import { createTestApp, type TestApp } from '../support/testApp.js';
import { caughtUp, message, run, seedHistory, startConversation, startSmallBatchRuntime, tick, until } from './helpers.js';
import { REFERENCE } from '../../src/projections/lexicalStats.js';

let t: TestApp;
let runtime: ProjectionRuntime;
// What the runtime did around the switch, in order: the version's state when it was prepared, and
// whether its order index was already there when the switch transaction activated it.
const seen: string[] = [];
// Run after each prepare, before the switch (a test's writes that the rebuild must take by the batch path).
let afterPrepare: ((version: number) => Promise<void>) | undefined;

const orderIndexExists = async (db: pg.Pool | pg.PoolClient, version: number) =>
  (await db.query('select to_regclass($1) as i', [`${lexicalTables(version).postings}_order_idx`])).rows[0].i !== null;

const observed: ProjectionDefinition = {
  ...lexicalStatsDefinition,
  async prepare(pool, version) {
    const state = (await listCheckpoints(pool, [LEXICAL_STATS])).find((r) => r.version === version)?.state;
    seen.push(`prepare v${version} while ${state}`);
    await lexicalStatsDefinition.prepare!(pool, version);
    await afterPrepare?.(version);
  },
  async activate(client, version) {
    seen.push(`activate v${version} with index: ${await orderIndexExists(client, version)}`);
    // Vacuum marks pages all-visible (relallvisible); the index build alone counts them (relpages).
    const { rows } = await client.query('select relpages > 0 and relallvisible = relpages as marked from pg_class where oid = to_regclass($1)', [lexicalTables(version).postings]);
    seen.push(`activate v${version} with postings all-visible: ${rows[0]?.marked}`);
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
  it('with its postings order index built and its pages vacuumed once it caught up, before the switch (not under the switch’s locks)', async () => {
    const last = await seedHistory(t.deps.store, 30);
    await caughtUp(t.db.pool, last, LEXICAL_STATS);
    seen.length = 0;
    const switched = new Promise((resolve) => runtime.bus.once('switched', resolve));
    const { version } = await runtime.rebuild(LEXICAL_STATS);
    await switched;
    expect(seen[0]).toBe(`prepare v${version} while building`);
    expect(seen).toContain(`activate v${version} with index: true`);
    expect(seen).toContain(`activate v${version} with postings all-visible: true`);
    expect(await orderIndexExists(t.db.pool, version)).toBe(true);
    // Its one-row totals analysed: unanalysed, the planner took them for ~1,000 rows and scored a
    // rare term by sorting every posting (16 s at a million messages).
    const { rows } = await t.db.pool.query('select reltuples from pg_class where oid = to_regclass($1)', [lexicalTables(version).totals]);
    expect(rows[0].reltuples).toBe(1);
  });
});

/** A version's lexical tables, rows in a stable order; postings without their cost (it follows the version's reference avgdl). */
async function lexicalContent(db: pg.Pool, version: number) {
  const t = lexicalTables(version);
  const rows = async (sql: string) => (await db.query(sql)).rows;
  return {
    docs: await rows(`select message_id, conversation_id, len, terms, tfs from ${t.docs} order by message_id`),
    terms: await rows(`select term, df from ${t.terms} order by term`),
    totals: await rows(`select docs::int, total_len::int from ${t.totals}`),
    postings: await rows(`select term, message_id, tf, len from ${t.postings} order by term, message_id`),
  };
}

describe('a rebuild stages its messages, then builds its tables in bulk', () => {
  it('into the same documents, postings and statistics as the batch path, deletions, purges and writes during the switch included', async () => {
    const purged = await startConversation(t.deps.store, { messages: ['a purged conversation about postgres replicas', 'its reply'] });
    await run(t.deps.store, purged.id, { type: 'Purge', at: tick(), data: {} });
    const last = await seedHistory(t.deps.store, 24);
    await caughtUp(t.db.pool, last, LEXICAL_STATS);
    const building: string[] = [];
    let liveBefore: Awaited<ReturnType<typeof lexicalContent>> | undefined;
    let lateId: string | undefined;
    afterPrepare = async (version) => {
      afterPrepare = undefined;
      const { rows } = await t.db.pool.query('select to_regclass($1) as staged', [lexicalTables(version).staged]);
      building.push(`staged after prepare: ${rows[0].staged !== null}`);
      // Written after the bulk build: the rebuilt version applies it by the batch path before it can switch.
      const late = await startConversation(t.deps.store, { messages: ['written while the rebuild was being switched in', 'vacuum the replica'] });
      lateId = late.id;
      await caughtUp(t.db.pool, late.position, LEXICAL_STATS);
      const live = (await listCheckpoints(t.db.pool, [LEXICAL_STATS])).find((r) => r.state === 'live')!.version;
      liveBefore = await lexicalContent(t.db.pool, live);
    };
    const switched = new Promise((resolve) => runtime.bus.once('switched', resolve));
    const { version } = await runtime.rebuild(LEXICAL_STATS);
    // Its runner sets it up a moment later; batches of 5 events keep it staging for a while.
    const staged = async () => (await t.db.pool.query('select to_regclass($1) as staged', [lexicalTables(version).staged])).rows[0].staged !== null;
    await until(staged, 10_000, 'the rebuild to stage its messages');
    building.push(`staged while building: true`);
    await switched;
    expect(building).toEqual(['staged while building: true', 'staged after prepare: false']);
    const rebuilt = await lexicalContent(t.db.pool, version);
    expect(rebuilt.docs.length).toBeGreaterThan(40);
    expect(rebuilt).toEqual(liveBefore);
    // Nothing of the purged conversation, and no staging left behind.
    expect(rebuilt.docs.some((d) => d.conversation_id === purged.id)).toBe(false);
    const v = lexicalTables(version);
    const leftovers = await t.db.pool.query(`select to_regclass($1) as staged, to_regclass($2) as removed, to_regclass($3) as arrival, to_regprocedure($4) as parse`, [v.staged, v.removed, v.arrival, `${v.parse}(text)`]);
    expect(leftovers.rows[0]).toEqual({ staged: null, removed: null, arrival: null, parse: null });
    // Postings are ordered under the reference avgdl of every document the bulk build parsed.
    const { rows: costs } = await t.db.pool.query(
      `select p.cost, p.tf, p.len, x.avgdl_ref from ${lexicalTables(version).postings} p, ${lexicalTables(version).totals} x`,
    );
    for (const c of costs) expect(c.cost).toBeCloseTo((REFERENCE.k1 * (1 - REFERENCE.b + (REFERENCE.b * c.len) / c.avgdl_ref)) / c.tf, 9);
    const { rows: avg } = await t.db.pool.query(`select avg(len) filter (where len > 0)::float8 as avg from ${lexicalTables(version).docs} where conversation_id <> $1`, [lateId]);
    expect(costs[0].avgdl_ref).toBeCloseTo(avg[0].avg, 9);
  });
});

describe('a message id the log holds twice', () => {
  it('counts once, by its first arrival, in the bulk build as in the batch path', async () => {
    // The service never appends an id twice; a log written otherwise must still rebuild.
    const twice = message('the first words of a message appended twice');
    const first = await startConversation(t.deps.store, { messages: ['an opening line'] });
    await run(t.deps.store, first.id, { type: 'AppendMessages', at: tick(), data: { messages: [twice] } });
    const other = await startConversation(t.deps.store, { messages: ['another opening line'] });
    const last = await run(t.deps.store, other.id, { type: 'AppendMessages', at: tick(), data: { messages: [{ ...message('different words entirely'), id: twice.id }] } });
    await caughtUp(t.db.pool, last, LEXICAL_STATS);
    const live = (await listCheckpoints(t.db.pool, [LEXICAL_STATS])).find((r) => r.state === 'live')!.version;
    const before = await lexicalContent(t.db.pool, live);
    const switched = new Promise((resolve) => runtime.bus.once('switched', resolve));
    const { version } = await runtime.rebuild(LEXICAL_STATS);
    await switched;
    const rebuilt = await lexicalContent(t.db.pool, version);
    expect(rebuilt).toEqual(before);
    const doc = rebuilt.docs.find((d) => d.message_id === twice.id)!;
    expect([doc.conversation_id, doc.terms.includes('append')]).toEqual([first.id, true]);
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
