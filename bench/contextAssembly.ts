/**
 * Context assembly latency: p50/p95 of POST /api/v1/context/assemble through the real app
 * (app.request, no network) over N conversations of M messages, with the real read model, BM25
 * statistics and (unless VECTORS=none) real Chroma + the local embedding model for the semantic side.
 *
 *   npx tsx bench/contextAssembly.ts                                   # 10 conversations, embedded PostgreSQL
 *   CONVERSATIONS=10000 DATABASE_URL=postgres://… npx tsx bench/contextAssembly.ts
 * Options (env): CONVERSATIONS=10 MESSAGES=5 RUNS=200 BUDGET=2000 VECTORS=real|none.
 * Writes bench/results/contextAssembly-<n>-<vectors>.json.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { cpus, tmpdir } from 'node:os';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
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
import { projectionDefinitions } from '../src/app/projectors.js';
import { listCheckpoints, startProjections } from '../src/projections/index.js';
import { startVectorService, type VectorService } from '../src/vectors/service.js';
import { VERSION } from '../src/version.js';
import { conversationAt, queryAt, TOPIC_NAMES } from './corpus.js';
import { summarize, timeRuns } from './stats.js';

const N = Number(process.env.CONVERSATIONS ?? 10);
const M = Number(process.env.MESSAGES ?? 5);
const RUNS = Number(process.env.RUNS ?? 200);
const BUDGET = Number(process.env.BUDGET ?? 2000);
const WITH_VECTORS = process.env.VECTORS !== 'none';
const log = (line: string) => process.stdout.write(`${line}\n`);

/** Writes N conversations straight into the event store (a start and one append each), in chunks. */
async function seed(pool: pg.Pool): Promise<number> {
  let messages = 0;
  for (let start = 0; start < N; start += 500) {
    const rows = { stream: [] as string[], version: [] as number[], id: [] as string[], type: [] as string[], data: [] as string[] };
    for (let i = start; i < Math.min(N, start + 500); i++) {
      const c = conversationAt(7, i, M);
      const id = randomUUID();
      const msgs = c.messages.map((m, k) => ({ id: randomUUID(), seq: k + 1, role: m.role, content: m.content, timestamp: m.timestamp, metadata: {} }));
      const push = (version: number, type: string, data: unknown) => {
        rows.stream.push(`conversation-${id}`);
        rows.version.push(version);
        rows.id.push(randomUUID());
        rows.type.push(type);
        rows.data.push(JSON.stringify(data));
      };
      push(1, 'ConversationStarted', { conversation_id: id, at: msgs[0]!.timestamp, label: c.label, folder: c.folder, importance_score: c.importance_score, metadata: {} });
      push(2, 'MessagesAppended', { conversation_id: id, at: msgs.at(-1)!.timestamp, messages: msgs });
      if (i % 10 === 0) push(3, 'ConversationPinned', { conversation_id: id, at: msgs.at(-1)!.timestamp });
      messages += msgs.length;
    }
    await pool.query(
      `insert into events (stream_id, stream_version, event_id, type, data, metadata)
       select s, v, i, t, d, '{"actor":"bench"}'::jsonb from unnest($1::text[], $2::int[], $3::uuid[], $4::text[], $5::jsonb[]) as e(s, v, i, t, d)`,
      [rows.stream, rows.version, rows.id, rows.type, rows.data],
    );
  }
  return messages;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sekha-bench-ctx-'));
  const embedded = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres({ dataDir: join(dir, 'pg') });
  const serverUrl = process.env.DATABASE_URL ?? embedded!.url;
  const dbName = `sekha_bench_ctx_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  const url = new URL(serverUrl);
  url.pathname = `/${dbName}`;
  const config = resolveConfig(`log_level = "warn"\ndata_dir = "${dir}"\n[database]\nurl = "${url}"\n`, {})._unsafeUnwrap();
  const pools = createPools(url.toString(), undefined, config.database);
  const logger = createLogger('warn');
  let vectors: VectorService | undefined;
  try {
    await migrate(pools.write);
    let t0 = performance.now();
    const messages = await seed(pools.write);
    log(`seeded ${N} conversations, ${messages} messages in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    vectors = WITH_VECTORS ? await startVectorService(config, pools.write, logger) : undefined;
    t0 = performance.now();
    const runtime = await startProjections({ config, pools, url: url.toString(), logger, definitions: projectionDefinitions({ config, pool: pools.write, logger, ...(vectors ? { vectors } : {}) }) });
    const head = (await pools.write.query<{ p: number }>('select max(global_position)::int as p from events')).rows[0]!.p;
    const names = ['read-model', 'lexical-stats', ...(vectors ? ['vectors'] : [])];
    for (;;) {
      const rows = (await listCheckpoints(pools.write, names)).filter((r) => r.state === 'live' && r.position.globalPosition >= head);
      if (new Set(rows.map((r) => r.name)).size === names.length) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    log(`projected (read model, BM25 stats${vectors ? ', vectors with the local model' : ''}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await pools.write.query('analyze');
    const deps: AppDeps = { config, pools, store: createEventStore(pools.write), logger, clock: () => new Date(), startedAt: new Date(), version: VERSION, ...(vectors ? { vectors } : {}) };
    const app = createApp(deps);
    let tokens = 0;
    let used = 0;
    const run = async (i: number) => {
      const body = { query: queryAt(11, i), context_budget: BUDGET, ...(i % 3 === 0 ? { preferred_labels: [TOPIC_NAMES[i % TOPIC_NAMES.length]!] } : {}), ...(i % 4 === 0 ? { excluded_folders: ['/personal'] } : {}) };
      const res = await app.request('/api/v1/context/assemble', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (res.status !== 200) throw new Error(`assemble answered ${res.status}: ${await res.text()}`);
      const answer = (await res.json()) as { estimated_tokens: number; conversations_used: number };
      if (answer.estimated_tokens > BUDGET) throw new Error('budget exceeded');
      tokens += answer.estimated_tokens;
      used += answer.conversations_used;
    };
    const s = summarize(await timeRuns(RUNS, run, 10));
    const result = {
      conversations: N,
      messages,
      vectors: vectors ? 'chroma + local model' : 'none (BM25 only)',
      budget: BUDGET,
      latency_ms: s,
      mean_tokens_used: Math.round(tokens / (RUNS + 10)),
      mean_conversations_used: Math.round((used / (RUNS + 10)) * 10) / 10,
      machine: { cores: cpus().length, node: process.version, loadavg: (await import('node:os')).loadavg().map((x) => Math.round(x * 100) / 100) },
    };
    log(`context assembly over ${N} conversations (${result.vectors}, budget ${BUDGET}): p50 ${s.p50} ms, p95 ${s.p95} ms, p99 ${s.p99} ms; ~${result.mean_tokens_used} tokens, ${result.mean_conversations_used} conversations per answer`);
    await runtime.stop();
    await mkdir(new URL('./results/', import.meta.url), { recursive: true });
    const file = new URL(`./results/contextAssembly-${N}-${vectors ? 'vectors' : 'bm25'}.json`, import.meta.url);
    await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
    log(`wrote ${file.pathname}`);
  } finally {
    await vectors?.stop();
    await pools.close();
    await admin.query(`drop database if exists ${dbName} with (force)`).catch(() => {});
    await admin.end();
    await embedded?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
