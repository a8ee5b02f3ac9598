/**
 * What a NOTIFY inside an append's transaction would cost (why appends NOTIFY after their commit):
 * commits/s of a one-event insert with and without `pg_notify` in the same statement, 1 and 16 writers,
 * interleaved runs, medians. (PostgreSQL serialises
 * the commits of notifying transactions on one lock, so their WAL flushes cannot be grouped.)
 * Run: npx tsx bench/notifyCost.ts   (DATABASE_URL's server, else an embedded PostgreSQL)
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { benchDatabase } from './database.js';
import { waitSampler } from './waitEvents.js';
import { migrate } from '../src/db/migrate.js';
import { median, throughput } from './stats.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const database = await benchDatabase('notify');
const embedded = database.embedded;
const pool = new pg.Pool({ connectionString: database.url, max: 20 });
const waits = waitSampler(database.url, 5);
pool.on('error', () => {});

const insert = (notify: boolean) => `
  with ins as (insert into events (stream_id, stream_version, event_id, type, data) values ($1, $2, $3, 'A', '{"a":1}') returning global_position)
  ${notify ? ", n as (select pg_notify('sekha_bench', max(global_position)::text) from ins)" : ''}
  select ${notify ? '(select count(*) from n)' : '1'} from ins`;

/** Commits per second: each writer appends to a stream of its own. */
function run(notify: boolean, writers: number): Promise<number> {
  const streams = Array.from({ length: writers }, () => randomUUID());
  return throughput(SECONDS, writers, async (w, i) => (await pool.query(insert(notify), [streams[w], i + 1, randomUUID()]), 1), (deadline) => waits.sampleUntil(deadline));
}

const topWaits = () => waits.top();

try {
  await migrate(pool);
  console.log(`NOTIFY cost: ${embedded ? 'embedded' : 'DATABASE_URL'}, ${RUNS} interleaved runs x ${SECONDS}s, medians`);
  for (const writers of [1, 16]) {
    const results: Record<string, number[]> = { without: [], with: [] };
    const profile: Record<string, string[]> = { without: [], with: [] };
    for (let r = 0; r < RUNS; r++) {
      results.without!.push(await run(false, writers));
      profile.without!.push(topWaits());
      results.with!.push(await run(true, writers));
      profile.with!.push(topWaits());
    }
    const fmt = (xs: number[]) => `${Math.round(median(xs))} commits/s (runs ${xs.map(Math.round).join(', ')})`;
    console.log(`writers=${String(writers).padStart(2)}  without NOTIFY ${fmt(results.without!)}  with NOTIFY ${fmt(results.with!)}`);
    console.log(`  backends waiting on (last run) — without: ${profile.without!.at(-1)}; with: ${profile.with!.at(-1)}`);
  }
} finally {
  await pool.end();
  await database.drop();
}
