/**
 * Read-model benchmark: catch-up throughput of the read-model projector replaying 100,000 events
 * (from scratch, then as a blue/green rebuild beside the live version), and p50/p95 of list and FTS
 * queries at 100,000 messages, through the real app (app.request, no network).
 *
 *   npx tsx bench/readModel.ts                 # embedded PostgreSQL in a temp dir
 *   DATABASE_URL=postgres://… npx tsx bench/readModel.ts   # a fresh database on that server
 * Options (env): EVENTS=100000 BATCH=500. Writes bench/results/readModel-<pg>.json.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { resolveConfig } from '../src/config/load.js';
import { startEmbeddedPostgres } from '../src/db/embeddedPostgres.js';
import { migrate } from '../src/db/migrate.js';
import { createPools } from '../src/db/pools.js';
import { createEventStore } from '../src/eventstore/index.js';
import { createApp } from '../src/app/createApp.js';
import type { AppDeps } from '../src/deps.js';
import { createLogger } from '../src/logger.js';
import { listCheckpoints } from '../src/projections/checkpoints.js';
import { readModelDefinition, startProjections } from '../src/projections/index.js';
import { VERSION } from '../src/version.js';
import { conversationAt, queryAt, TOPIC_NAMES } from './corpus.js';
import { summarize, timeRuns } from './stats.js';

const EVENTS = Number(process.env.EVENTS ?? 100_000);
const BATCH = Number(process.env.BATCH ?? 500);
const EVENTS_PER_CONVERSATION = 5; // started, 2 × messages appended (3 + 2 messages), importance, pin or relabel
const log = (line: string) => process.stdout.write(`${line}\n`);

/** Writes the corpus straight into the event store, in chunks of one transaction each. */
async function seed(pool: pg.Pool, conversations: number): Promise<{ events: number; messages: number }> {
  let events = 0;
  let messages = 0;
  const chunk = 400;
  for (let start = 0; start < conversations; start += chunk) {
    const cols = { stream: [] as string[], version: [] as number[], id: [] as string[], type: [] as string[], data: [] as string[] };
    const push = (stream: string, version: number, type: string, data: unknown) => {
      cols.stream.push(stream);
      cols.version.push(version);
      cols.id.push(randomUUID());
      cols.type.push(type);
      cols.data.push(JSON.stringify(data));
    };
    for (let i = start; i < Math.min(conversations, start + chunk); i++) {
      const c = conversationAt(42, i, 5);
      const id = randomUUID();
      const stream = `conversation-${id}`;
      const at = c.messages[0]!.timestamp;
      const msgs = c.messages.map((m, k) => ({ id: randomUUID(), seq: k + 1, role: m.role, content: m.content, timestamp: m.timestamp, metadata: {} }));
      push(stream, 1, 'ConversationStarted', { conversation_id: id, at, label: c.label, folder: c.folder, importance_score: c.importance_score, metadata: {} });
      push(stream, 2, 'MessagesAppended', { conversation_id: id, at: msgs[2]!.timestamp, messages: msgs.slice(0, 3) });
      push(stream, 3, 'MessagesAppended', { conversation_id: id, at: msgs[4]!.timestamp, messages: msgs.slice(3) });
      push(stream, 4, 'ImportanceSet', { conversation_id: id, at: msgs[4]!.timestamp, importance_score: ((c.importance_score + 3) % 10) + 1 });
      if (i % 2) push(stream, 5, 'ConversationPinned', { conversation_id: id, at: msgs[4]!.timestamp });
      else push(stream, 5, 'ConversationLabeled', { conversation_id: id, at: msgs[4]!.timestamp, label: `${c.label}-renamed` });
      messages += msgs.length;
    }
    await pool.query(
      `insert into events (stream_id, stream_version, event_id, type, data, metadata)
       select s, v, i, t, d, '{"actor":"bench"}'::jsonb from unnest($1::text[], $2::int[], $3::uuid[], $4::text[], $5::jsonb[]) as e(s, v, i, t, d)`,
      [cols.stream, cols.version, cols.id, cols.type, cols.data],
    );
    events += cols.stream.length;
  }
  return { events, messages };
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function main(): Promise<void> {
  const dir = process.env.DATABASE_URL ? undefined : await mkdtemp(join(tmpdir(), 'sekha-bench-rm-'));
  const embedded = dir ? await startEmbeddedPostgres({ dataDir: join(dir, 'pg') }) : undefined;
  const serverUrl = process.env.DATABASE_URL ?? embedded!.url;
  const dbName = `sekha_bench_rm_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  const url = new URL(serverUrl);
  url.pathname = `/${dbName}`;
  const config = resolveConfig(`log_level = "warn"\n[database]\nurl = "${url}"\n[projections]\nbatch_size = ${BATCH}\n`, {})._unsafeUnwrap();
  const pools = createPools(url.toString(), undefined, config.database);
  const logger = createLogger('warn');
  const results: Record<string, unknown> = {};
  try {
    await migrate(pools.write);
    const serverVersion = (await pools.write.query<{ v: string }>(`select current_setting('server_version') as v`)).rows[0]!.v;
    const conversations = Math.ceil(EVENTS / EVENTS_PER_CONVERSATION);
    let t0 = performance.now();
    const seeded = await seed(pools.write, conversations);
    log(`seeded ${seeded.events} events (${seeded.messages} messages, ${conversations} conversations) in ${((performance.now() - t0) / 1000).toFixed(1)} s; PostgreSQL ${serverVersion}`);
    await pools.write.query('analyze events');

    // 1. Catch-up from scratch.
    t0 = performance.now();
    const runtime = await startProjections({ config, pools, url: url.toString(), logger, definitions: [readModelDefinition] });
    const head = (await pools.write.query<{ p: number }>('select max(global_position) as p from events')).rows[0]!.p;
    await waitFor(async () => (await listCheckpoints(pools.write, ['read-model'])).some((r) => r.state === 'live' && r.position.globalPosition >= head), 600_000);
    const catchUpS = (performance.now() - t0) / 1000;
    results.catch_up = { events: seeded.events, seconds: round(catchUpS), events_per_second: Math.round(seeded.events / catchUpS), batch_size: BATCH };
    log(`catch-up from scratch: ${seeded.events} events in ${catchUpS.toFixed(2)} s = ${Math.round(seeded.events / catchUpS)} events/s (batch ${BATCH})`);
    await pools.write.query('analyze');

    // 2. The same as a blue/green rebuild beside the live version (queries keep answering).
    t0 = performance.now();
    const switched = new Promise((r) => runtime.bus.once('switched', r));
    await runtime.rebuild('read-model');
    await switched;
    const rebuildS = (performance.now() - t0) / 1000;
    results.rebuild = { events: seeded.events, seconds: round(rebuildS), events_per_second: Math.round(seeded.events / rebuildS) };
    log(`blue/green rebuild: ${seeded.events} events in ${rebuildS.toFixed(2)} s = ${Math.round(seeded.events / rebuildS)} events/s`);
    await runtime.stop();
    await pools.write.query('analyze');

    // 3. Query latency through the app.
    const deps: AppDeps = { config, pools, store: createEventStore(pools.write), logger, clock: () => new Date(), startedAt: new Date(), version: VERSION };
    const app = createApp(deps);
    const get = async (path: string) => {
      const res = await app.request(path);
      if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
      return res.json() as Promise<{ next_cursor?: string; total?: number }>;
    };
    const post = async (path: string, body: unknown) => {
      const res = await app.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
      return res.json() as Promise<{ total: number }>;
    };
    const folders = ['/work/databases', '/work/infra', '/personal/travel', '/personal/home'];
    const cursor = (await get('/api/v1/conversations?limit=20')).next_cursor!;
    const scenarios: Record<string, (i: number) => Promise<unknown>> = {
      'list default (page 1, -updated_at)': () => get('/api/v1/conversations'),
      'list page 50 (offset 980)': () => get('/api/v1/conversations?page=50&page_size=20'),
      'list keyset next page': () => get(`/api/v1/conversations?limit=20&cursor=${cursor}`),
      'list folder + importance_min + sort': (i) => get(`/api/v1/conversations?folder=${folders[i % 4]}&importance_min=5&sort=-importance_score`),
      'list label_contains (trigram)': (i) => get(`/api/v1/conversations?label_contains=${TOPIC_NAMES[i % TOPIC_NAMES.length]!.slice(2, 7)}`),
      'count by folder': (i) => get(`/api/v1/conversations/count?folder=${folders[i % 4]}`),
      'fts two words': (i) => post('/api/v1/search/fts', { query: queryAt(7, i), limit: 10 }),
      'fts one topic word (shared_buffers)': () => post('/api/v1/search/fts', { query: 'shared_buffers', limit: 10 }),
      'fts phrase + folder filter': (i) => post('/api/v1/search/fts', { query: '"connection pool"', limit: 10, filters: { folder: folders[i % 2] } }),
    };
    const latency: Record<string, unknown> = {};
    for (const [name, fn] of Object.entries(scenarios)) {
      const s = summarize(await timeRuns(200, fn, 10));
      latency[name] = s;
      log(`${name.padEnd(40)} p50 ${String(s.p50).padStart(7)} ms   p95 ${String(s.p95).padStart(7)} ms`);
    }
    const sample = await post('/api/v1/search/fts', { query: queryAt(7, 0), limit: 10 });
    results.latency_ms = latency;
    results.fts_sample_total_matches = sample.total;
    results.corpus = { events: seeded.events, messages: seeded.messages, conversations };
    results.postgres = serverVersion;
    results.machine = { cores: (await import('node:os')).cpus().length, node: process.version };
    await mkdir(new URL('./results/', import.meta.url), { recursive: true });
    const file = new URL(`./results/readModel-pg${serverVersion.split('.')[0]}.json`, import.meta.url);
    await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
    log(`wrote ${file.pathname}`);
  } finally {
    await pools.close();
    await admin.query(`drop database if exists ${dbName} with (force)`).catch(() => {});
    await admin.end();
    await embedded?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

const round = (x: number) => Math.round(x * 100) / 100;

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
