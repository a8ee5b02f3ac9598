/**
 * Where an append's time goes: our append against inserts of the same rows without its checks (into
 * `events`, and into the bench's plain `bench_raw`), interleaved, 1 and 16 writers, with what the
 * writers' backends wait on (pg_stat_activity, sampled), then EXPLAIN (ANALYZE, BUFFERS, WAL) of each
 * statement for one append to a new stream.
 * Run: npx tsx bench/appendProfile.ts [--seconds 3] [--runs 2] [--size 1]   (DATABASE_URL's server, else embedded)
 */
import { randomUUID } from 'node:crypto';
import { Command } from 'commander';
import pg from 'pg';
import { benchDatabase } from './database.js';
import { waitSampler } from './waitEvents.js';
import { migrate } from '../src/db/migrate.js';
import { APPEND_SQL } from '../src/eventstore/append.js';
import { createEventStore } from '../src/eventstore/index.js';
import { median, throughput } from './stats.js';

const opts = new Command('appendProfile')
  .option('--seconds <n>', 'seconds per case', '3')
  .option('--runs <n>', 'interleaved runs', '2')
  .option('--size <n>', 'events per command', '1')
  .parse()
  .opts<{ seconds: string; runs: string; size: string }>();
const SECONDS = Number(opts.seconds);
const SIZE = Number(opts.size);

const database = await benchDatabase('profile');
const pool = new pg.Pool({ connectionString: database.url, max: 20 });
pool.on('error', () => {});
const store = createEventStore(pool);
const waits = waitSampler(database.url);

// The payload of bench/baselines.ts: a MessagesAppended of one 200-character message.
const payload = (i: number) => ({ conversation_id: randomUUID(), at: new Date().toISOString(), messages: [{ id: randomUUID(), seq: i, role: 'user', content: 'x'.repeat(200), timestamp: new Date().toISOString(), metadata: {} }] });
const datas = () => Array.from({ length: SIZE }, (_, k) => JSON.stringify(payload(k)));
const plainInsert = (table: 'events' | 'bench_raw') =>
  `insert into ${table} (stream_id, ${table === 'events' ? 'stream_version' : 'v'}, event_id, type, data, metadata)
   select $1, ord::int, gen_random_uuid(), 'MessagesAppended', d, '{"actor":"bench"}'::jsonb from unnest($2::jsonb[]) with ordinality as t(d, ord)`;

interface Case {
  name: string;
  run(writer: number): Promise<unknown>;
  /** The statement and values of one run, for EXPLAIN. */
  statement(): { text: string; values: unknown[] };
}
const cases: Case[] = [
  {
    name: 'ours (store.append)',
    run: async (w) => {
      const r = await store.append(`p-${w}-${randomUUID()}`, 0, datas().map((d) => ({ type: 'MessagesAppended', data: JSON.parse(d) as unknown })), { actor: 'bench' });
      if (r.isErr()) throw new Error(r.error.type);
    },
    statement: () => {
      const ids = Array.from({ length: SIZE }, () => randomUUID());
      return { text: APPEND_SQL, values: [`p-${randomUUID()}`, 0, ids, ids.map(() => 'MessagesAppended'), datas(), '{"actor":"bench"}', false] };
    },
  },
  ...(['events', 'bench_raw'] as const).map((table) => ({
    name: table === 'events' ? 'INSERT into events, no checks' : 'raw INSERT (bench_raw)',
    run: (w: number) => pool.query(plainInsert(table), [`p-${w}-${randomUUID()}`, datas()]),
    statement: () => ({ text: plainInsert(table), values: [`p-${randomUUID()}`, datas()] }),
  })),
];

const timed = (c: Case, writers: number): Promise<number> =>
  throughput(SECONDS, writers, async (w) => (await c.run(w), SIZE), (deadline) => waits.sampleUntil(deadline));

try {
  await migrate(pool);
  await pool.query(`create table bench_raw (id bigint generated always as identity primary key, stream_id text, v int, event_id uuid, type text, data jsonb, metadata jsonb, created_at timestamptz default now())`);
  const version = (await pool.query<{ server_version: string }>('show server_version')).rows[0]!.server_version;
  console.log(`append profile: PostgreSQL ${version} (${database.embedded ? 'embedded' : 'DATABASE_URL'}), ${SIZE}-event commands, ${opts.runs} interleaved runs x ${SECONDS}s, events/s medians`);
  for (const writers of [1, 16]) {
    const results = new Map<string, number[]>(cases.map((c) => [c.name, []]));
    const profiles = new Map<string, string>();
    for (let r = 0; r < Number(opts.runs); r++) {
      for (const c of cases) {
        results.get(c.name)!.push(await timed(c, writers));
        profiles.set(c.name, waits.top(5));
      }
    }
    for (const c of cases) {
      const xs = results.get(c.name)!;
      console.log(`writers=${String(writers).padStart(2)} ${c.name.padEnd(30)} ${String(Math.round(median(xs))).padStart(6)} (runs ${xs.map(Math.round).join(', ')})  waits (last run): ${profiles.get(c.name)}`);
    }
  }
  for (const c of cases) {
    const client = await pool.connect();
    try {
      await client.query('begin');
      const { text, values } = c.statement();
      const plan = await client.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers, wal, costs off, summary on) ${text}`, values);
      console.log(`\nEXPLAIN (ANALYZE, BUFFERS, WAL) ${c.name}, one ${SIZE}-event append to a new stream:\n${plan.rows.map((r) => `  ${r['QUERY PLAN']}`).join('\n')}`);
    } finally {
      await client.query('rollback');
      client.release();
    }
  }
} finally {
  await pool.end();
  await database.drop();
}
