/**
 * Event-store append throughput: events/s for 1-event and 10-event commands, with 1 and 16 concurrent
 * writers, each scenario run several times for a fixed duration; medians are reported. Then the same
 * through HTTP (create and append over a real socket) for context.
 *
 * Run: npx tsx bench/appendThroughput.ts   (DATABASE_URL's server, else an embedded PostgreSQL)
 * Env: BENCH_SECONDS (per run, default 4), BENCH_RUNS (default 3), BENCH_OUT (write JSON results there).
 */
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { serve, type ServerType } from '@hono/node-server';
import { stringify } from 'smol-toml';
import { resolveConfig } from '../src/config/load.js';
import { benchDatabase } from './database.js';
import { migrate } from '../src/db/migrate.js';
import { createPools } from '../src/db/pools.js';
import { createEventStore } from '../src/eventstore/index.js';
import { createApp } from '../src/app/createApp.js';
import { createLogger } from '../src/logger.js';
import { freePort } from '../src/util/freePort.js';
import { VERSION } from '../src/version.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

/** One timed run: `writers` loops call `command(writer)` until the time is up; it returns events written. */
async function timedRun(writers: number, command: (writer: number) => Promise<number>) {
  const deadline = performance.now() + SECONDS * 1000;
  const latencies: number[] = [];
  let events = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        const written = await command(w);
        events += written;
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { eventsPerSecond: events / seconds, commandsPerSecond: latencies.length / seconds, p50: pct(latencies, 50), p99: pct(latencies, 99) };
}

type Row = { scenario: string; writers: number; events_per_command: number; events_per_s: number; commands_per_s: number; p50_ms: number; p99_ms: number; runs: number[] };
const rows: Row[] = [];

async function scenario(name: string, writers: number, perCommand: number, setup: () => (writer: number) => Promise<number>) {
  const runs = [];
  for (let r = 0; r < RUNS; r++) runs.push(await timedRun(writers, setup()));
  const row: Row = {
    scenario: name,
    writers,
    events_per_command: perCommand,
    events_per_s: Math.round(median(runs.map((x) => x.eventsPerSecond))),
    commands_per_s: Math.round(median(runs.map((x) => x.commandsPerSecond))),
    p50_ms: Math.round(median(runs.map((x) => x.p50)) * 100) / 100,
    p99_ms: Math.round(median(runs.map((x) => x.p99)) * 100) / 100,
    runs: runs.map((x) => Math.round(x.eventsPerSecond)),
  };
  rows.push(row);
  console.log(
    `${name.padEnd(34)} writers=${String(writers).padStart(2)} events/cmd=${String(perCommand).padStart(2)}  ` +
      `${String(row.events_per_s).padStart(7)} events/s  ${String(row.commands_per_s).padStart(6)} cmd/s  p50 ${row.p50_ms} ms  p99 ${row.p99_ms} ms  runs ${row.runs.join(', ')}`,
  );
}

// A fresh database on DATABASE_URL's server, or on an embedded PostgreSQL in a temporary folder.
const database = await benchDatabase('append');
const embedded = database.embedded;
const url = database.url;

const config = resolveConfig(stringify({ log_level: 'silent', database: { url, max_connections: 20, min_connections: 0 } }), {});
if (config.isErr()) throw config.error;
const pools = createPools(url, undefined, config.value.database);
let server: ServerType | undefined;
try {
  await migrate(pools.write);
  const store = createEventStore(pools.write);
  const pgVersion = (await pools.write.query<{ server_version: string }>('show server_version')).rows[0]!.server_version;
  const loadBefore = loadavg()[0]!.toFixed(1);
  console.log(
    `append throughput: PostgreSQL ${pgVersion} (${embedded ? 'embedded' : 'DATABASE_URL'}), ${cpus().length} cores (load ${loadBefore}), ${RUNS} runs x ${SECONDS}s, medians\n`,
  );

  // Event store directly: each writer owns a stream and knows its version (the common, conflict-free case).
  const payload = { conversation_id: randomUUID(), at: new Date().toISOString(), messages: [{ id: randomUUID(), seq: 1, role: 'user', content: 'x'.repeat(200), timestamp: new Date().toISOString(), metadata: {} }] };
  for (const perCommand of [1, 10]) {
    for (const writers of [1, 16]) {
      await scenario('eventstore append', writers, perCommand, () => {
        const streams = Array.from({ length: writers }, () => ({ id: `bench-${randomUUID()}`, version: 0 }));
        const events = Array.from({ length: perCommand }, () => ({ type: 'MessagesAppended', data: payload }));
        return async (w) => {
          const s = streams[w]!;
          const r = await store.append(s.id, s.version, events, { actor: 'bench', request_id: randomUUID() });
          if (r.isErr()) throw new Error(`append failed: ${JSON.stringify(r.error)}`);
          s.version = r.value.nextVersion;
          return perCommand;
        };
      });
    }
  }

  // Through HTTP on a real socket (client and server share this process and its cores).
  const app = createApp({ config: config.value, pools, store, logger: createLogger('silent'), clock: () => new Date(), startedAt: new Date(), version: VERSION });
  const port = await freePort();
  server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port }, () => resolve(s));
  });
  const base = `http://127.0.0.1:${port}/api/v1/conversations`;
  const post = async (path: string, body: unknown, expect: number) => {
    const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const json = (await res.json()) as { id: string };
    if (res.status !== expect) throw new Error(`HTTP ${res.status}: ${JSON.stringify(json)}`);
    return json;
  };
  const message = (i: number) => ({ role: i % 2 ? 'assistant' : 'user', content: `message ${i} ${'lorem ipsum '.repeat(15)}` });
  for (const writers of [1, 16]) {
    await scenario('HTTP POST create (1 msg = 2 events)', writers, 2, () => async () => {
      await post('', { label: 'bench', messages: [message(0)] }, 201);
      return 2;
    });
  }
  for (const perCommand of [1, 10]) {
    for (const writers of [1, 16]) {
      await scenario(`HTTP POST append (${perCommand} msg)`, writers, perCommand, () => {
        const ids: Promise<string>[] = Array.from({ length: writers }, () => post('', { label: 'bench' }, 201).then((c) => c.id));
        const messages = Array.from({ length: perCommand }, (_, i) => message(i));
        return async (w) => {
          await post(`/${await ids[w]!}/messages`, { messages }, 201);
          return perCommand;
        };
      });
    }
  }
  const total = (await pools.write.query<{ n: number }>('select count(*)::int as n from events')).rows[0]!.n;
  const loadAfter = loadavg()[0]!.toFixed(1);
  console.log(`\n${total} events written in all; load average ${loadBefore} before, ${loadAfter} after`);
  if (process.env.BENCH_OUT) {
    await writeFile(process.env.BENCH_OUT, `${JSON.stringify({ date: new Date().toISOString(), postgres: pgVersion, embedded: !!embedded, cores: cpus().length, load_average: [Number(loadBefore), Number(loadAfter)], seconds: SECONDS, runs: RUNS, rows }, null, 2)}\n`);
  }
} finally {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await pools.close();
  await database.drop();
}
