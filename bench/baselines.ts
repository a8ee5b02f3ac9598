import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { migrate } from '../src/db/migrate.js';
import { createEventStore } from '../src/eventstore/index.js';
import { runLoad } from './runLoad.js';
import type { LoadResult } from './load.js';
import { throughput } from './stats.js';

const roundedThroughput = async (...args: Parameters<typeof throughput>) => Math.round(await throughput(...args));

const payload = (i: number) => ({ conversation_id: randomUUID(), at: new Date().toISOString(), messages: [{ id: randomUUID(), seq: i, role: 'user', content: 'x'.repeat(200), timestamp: new Date().toISOString(), metadata: {} }] });

export interface AppendBaselines {
  ours: Record<string, number>;
  rawInsert: Record<string, number>;
}

/**
 * Our event-store append against the limit: raw batched INSERTs of rows of the same width into a plain
 * table, on the same database (migrated here: give it a database of its own, or a running service's
 * projectors would spend the machine on the baseline's events). Single-event and 10-event commands, 1 and 16 writers.
 */
export async function appendBaselines(databaseUrl: string, seconds: number): Promise<AppendBaselines> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 20 });
  // Dropping the database afterwards ends connections pool.end() is still closing: not an error here.
  pool.on('error', () => {});
  await migrate(pool);
  const store = createEventStore(pool);
  await pool.query(`create table if not exists bench_raw (id bigint generated always as identity primary key, stream_id text, v int, event_id uuid, type text, data jsonb, metadata jsonb, created_at timestamptz default now())`);
  const ours: Record<string, number> = {};
  const rawInsert: Record<string, number> = {};
  try {
    for (const writers of [1, 16]) {
      for (const size of [1, 10]) {
        const key = `${size}-event commands, ${writers} writer${writers > 1 ? 's' : ''}`;
        ours[key] = await roundedThroughput(seconds, writers, async (w, i) => {
          const stream = `bench-${w}-${randomUUID()}`;
          const r = await store.append(stream, 0, Array.from({ length: size }, (_, k) => ({ type: 'MessagesAppended', data: payload(i * size + k) })), { actor: 'bench' });
          if (r.isErr()) throw new Error(r.error.type);
          return size;
        });
        rawInsert[key] = await roundedThroughput(seconds, writers, async (w, i) => {
          const rows = Array.from({ length: size }, (_, k) => payload(i * size + k));
          await pool.query(
            `insert into bench_raw (stream_id, v, event_id, type, data, metadata)
             select $1, ord::int, gen_random_uuid(), 'MessagesAppended', d, '{"actor":"bench"}'::jsonb from unnest($2::jsonb[]) with ordinality as t(d, ord)`,
            [`raw-${w}-${i}`, rows.map((r) => JSON.stringify(r))],
          );
          return size;
        });
      }
    }
  } finally {
    await pool.query('drop table if exists bench_raw').catch(() => {});
    await pool.end();
  }
  return { ours, rawInsert };
}

/** The HTTP ceiling: autocannon against a bare Hono route in its own process. */
export async function bareHonoBaseline(seconds: number, connections: number): Promise<LoadResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./bareHono.ts', import.meta.url))], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.once('data', (d) => resolve(Number(String(d).trim())));
      child.once('exit', (code) => reject(new Error(`bare Hono exited ${code}`)));
    });
    return await runLoad({ url: `http://127.0.0.1:${port}`, connections, durationSeconds: seconds, requests: [{ method: 'GET', path: '/' }] });
  } finally {
    child.kill('SIGTERM');
  }
}

export interface PeerResult {
  append: Record<string, number>;
  /** Absent when only the appends were measured (`bench/appendBaselines.ts --patch` of a run that skipped the peer). */
  rebuild?: { events: number; projected_messages: number; seconds: number; events_per_second: number };
}

const PEER_DIR = fileURLToPath(new URL('./peer/', import.meta.url));
const run = promisify(execFile);

/**
 * The peer, Emmett's PostgreSQL event store, on the same database: the same append cases and a rebuild
 * of a projection of the same shape over `events` events. Its packages live in bench/peer (their peer
 * dependencies conflict with ours) and are installed on first use.
 */
export async function peerBaseline(databaseUrl: string, seconds: number, events: number): Promise<PeerResult> {
  if (!existsSync(`${PEER_DIR}node_modules/@event-driven-io/emmett-postgresql`)) {
    await run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: PEER_DIR });
  }
  const { stdout } = await run(process.execPath, [`${PEER_DIR}emmett.mjs`, databaseUrl, String(seconds), String(events)], { maxBuffer: 16 * 1024 * 1024, timeout: 30 * 60_000 });
  return JSON.parse(stdout) as PeerResult;
}
