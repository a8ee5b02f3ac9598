/**
 * `npx tsx bench/chromaScale.ts [--vectors 1000000] [--dim 512] [--dir <path>] [--sync-threshold N] …`
 * Chroma alone at scale: loads `--vectors` corpus messages (trigram vectors of bench/corpus.ts texts,
 * our metadata) straight into a Chroma child process, then measures with the HNSW settings given:
 * restart (spawn → heartbeat → first query), single upserts (latency, the periodic index save),
 * write → searchable (upsert one, query filtered by its conversation until found), and queries.
 * `--dir` keeps the data between runs (load once, measure several settings; they are applied with
 * `modify` and a restart). `--collection` measures a collection already in `--dir` (a copy of a bench
 * corpus's Chroma directory, say) instead of loading one. Batch upserts of `--batch` new records
 * measure the rate a catch-up or rebuild writes at. `--recall N` checks N queries' top 10 against an
 * exact search over the loaded vectors (what a lower `--ef-construction` costs in quality).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChromaClient, type Collection } from 'chromadb';
import { Command } from 'commander';
import { fakeVector } from '../test/support/ollamaServer.js';
import { startChroma, type ChromaProcess } from '../src/vectors/chromaProcess.js';
import { nearestByCosine } from '../src/vectors/store.js';
import { vectorMetadata } from '../src/vectors/metadata.js';
import { conversationAt } from './corpus.js';
import { summarize } from './stats.js';

const opts = new Command('chroma-scale')
  .option('--vectors <n>', 'vectors to load', '1000000')
  .option('--dim <n>', 'dimension (bench-trigram: 512)', '512')
  .option('--dir <path>', 'Chroma data directory to reuse (default: a fresh temp dir, removed after)')
  .option('--load-batch <n>', 'records per upsert while loading', '5000')
  .option('--sync-threshold <n>', 'hnsw sync_threshold to apply before measuring')
  .option('--hnsw-batch-size <n>', 'hnsw batch_size to apply before measuring')
  .option('--num-threads <n>', 'hnsw num_threads to apply before measuring')
  .option('--writes <n>', 'single upserts to time', '3000')
  .option('--probes <n>', 'write → searchable probes', '30')
  .option('--skip-measure', 'only load')
  .option('--load-sync-threshold <n>', 'hnsw sync_threshold the collection is created with (loading)', '100000')
  .option('--metadata <kind>', 'full (ours: vectorMetadata) or none (conversation_id alone)', 'full')
  .option('--ef-construction <n>', 'hnsw ef_construction of a collection it creates (CONFIG.md: 200)', '200')
  .option('--in-flight <n>', 'upserts in flight while loading (2 and 4 load slower than 1: Chroma takes them in turn)', '1')
  .option('--collection <name>', 'measure this collection of --dir, loading nothing')
  .option('--batches <n>', 'batch upserts to time', '5')
  .option('--batch <n>', 'records per timed batch upsert (the projector writes chroma.batch_size)', '2000')
  .option('--recall <n>', 'queries whose top-10 is checked against the exact top-10 of the first --vectors records (0: none)', '0')
  .parse()
  .opts<{ vectors: string; dim: string; dir?: string; loadBatch: string; syncThreshold?: string; hnswBatchSize?: string; numThreads?: string; writes: string; probes: string; skipMeasure?: boolean; metadata: string; loadSyncThreshold: string; collection?: string; batches: string; batch: string; efConstruction: string; inFlight: string; recall: string }>();
if (opts.collection && !opts.dir) throw new Error('--collection names a collection of --dir');

const N = Number(opts.vectors);
const DIM = Number(opts.dim);
const SEED = 42;
const NAME = opts.collection ?? `scale_${DIM}`;
const log = (line: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
const ms = (t: number) => Math.round(performance.now() - t);

const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'sekha-chroma-scale-')));
let chroma: ChromaProcess = await startChroma({ dataDir: dir });
const clientOf = (c: ChromaProcess) => new ChromaClient({ host: '127.0.0.1', port: c.port });
let client = clientOf(chroma);

const shape = (m: Record<string, string | number | boolean>) =>
  opts.metadata === 'none' ? { conversation_id: m.conversation_id! } : m;

/** The records of conversation i: ten corpus messages with our metadata. */
function records(i: number) {
  const c = conversationAt(SEED, i);
  const conversationId = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  const attributes = { label: c.label, folder: c.folder, status: 'active' as const, pinned: false, importance: c.importance_score };
  return c.messages.map((m, j) => ({
    id: `${conversationId}-${j}`,
    vector: fakeVector(m.content, DIM),
    metadata: shape(vectorMetadata({ conversation_id: conversationId, role: m.role, timestamp: m.timestamp }, attributes)),
  }));
}

const upsert = (col: Collection, rs: ReturnType<typeof records>) =>
  col.upsert({ ids: rs.map((r) => r.id), embeddings: rs.map((r) => r.vector), metadatas: rs.map((r) => r.metadata) });

async function load(): Promise<void> {
  const col = await client.getOrCreateCollection({
    name: NAME,
    embeddingFunction: null,
    configuration: { hnsw: { space: 'cosine', ef_construction: Number(opts.efConstruction), ef_search: 100, max_neighbors: 16, sync_threshold: Number(opts.loadSyncThreshold) } },
  });
  const have = await col.count();
  if (have >= N) {
    log(`collection ${NAME} has ${have} vectors`);
    return;
  }
  const batch = Number(opts.loadBatch);
  let conversation = Math.floor(have / 10);
  const inflight: Promise<unknown>[] = [];
  const started = performance.now();
  let window = performance.now();
  let loaded = have;
  let lastLog = have;
  while (conversation * 10 < N) {
    const rs: ReturnType<typeof records> = [];
    while (rs.length < batch && conversation * 10 < N) rs.push(...records(conversation++));
    // The next batch is built while Chroma indexes the one before.
    if (inflight.length >= Number(opts.inFlight)) await inflight.shift();
    inflight.push(upsert(col, rs));
    loaded += rs.length;
    if (loaded - lastLog >= 50_000) {
      log(`  loaded ${loaded} / ${N}: last ${loaded - lastLog} at ${Math.round(((loaded - lastLog) * 1000) / (performance.now() - window))}/s`);
      lastLog = loaded;
      window = performance.now();
    }
  }
  await Promise.all(inflight);
  const seconds = (performance.now() - started) / 1000;
  log(`loaded ${N - have} vectors in ${seconds.toFixed(0)} s: ${Math.round((N - have) / seconds)}/s`);
}

async function restart(): Promise<{ heartbeatMs: number; firstQueryMs: number; secondQueryMs: number }> {
  await chroma.stop();
  const t = performance.now();
  chroma = await startChroma({ dataDir: dir });
  const heartbeatMs = ms(t);
  client = clientOf(chroma);
  const col = await client.getCollection({ name: NAME, embeddingFunction: undefined as never });
  const q = fakeVector('sourdough starter feeding', DIM);
  await col.query({ queryEmbeddings: [q], nResults: 20 });
  const firstQueryMs = ms(t);
  const t2 = performance.now();
  await col.query({ queryEmbeddings: [q], nResults: 20 });
  return { heartbeatMs, firstQueryMs, secondQueryMs: ms(t2) };
}

async function measure(): Promise<void> {
  let col = await client.getCollection({ name: NAME, embeddingFunction: undefined as never });
  const hnsw: Record<string, number> = {};
  if (opts.syncThreshold) hnsw.sync_threshold = Number(opts.syncThreshold);
  if (opts.hnswBatchSize) hnsw.batch_size = Number(opts.hnswBatchSize);
  if (opts.numThreads) hnsw.num_threads = Number(opts.numThreads);
  if (Object.keys(hnsw).length > 0) await col.modify({ configuration: { hnsw } });
  log(`settings: ${JSON.stringify(hnsw)}; configuration now ${JSON.stringify(col.configuration)}`);
  const r = await restart();
  log(`restart: heartbeat after ${r.heartbeatMs} ms, first query answered ${r.firstQueryMs} ms after spawn, next query ${r.secondQueryMs} ms`);
  col = await client.getCollection({ name: NAME, embeddingFunction: undefined as never });
  log(`count ${await col.count()}; configuration ${JSON.stringify(col.configuration)}`);

  // Single upserts, as the projector sends them at the head (one new message each).
  const base = 10_000_000 + Math.floor(Math.random() * 1_000_000) * 100;
  const writes: number[] = [];
  for (let i = 0; i < Number(opts.writes); i++) {
    const [rec] = records(base + i);
    const t = performance.now();
    await upsert(col, [rec!]);
    writes.push(performance.now() - t);
  }
  const w = summarize(writes);
  const slow = writes.map((x, i) => [i, Math.round(x)] as const).filter(([, x]) => x > 200);
  log(`single upserts: p50 ${w.p50} p95 ${w.p95} p99 ${w.p99} max ${Math.round(Math.max(...writes))} ms; over 200 ms: ${slow.length} (${JSON.stringify(slow.slice(0, 12))})`);

  // Write → searchable: upsert one message of a new conversation, query filtered by it until found.
  const lags: number[] = [];
  const upserts: number[] = [];
  for (let p = 0; p < Number(opts.probes); p++) {
    const rs = records(base + 500_000 + p).slice(0, 1);
    const t = performance.now();
    await upsert(col, rs);
    upserts.push(performance.now() - t);
    for (;;) {
      const res = await col.query({ queryEmbeddings: [rs[0]!.vector], nResults: 5, where: { conversation_id: { $eq: rs[0]!.metadata.conversation_id as string } } });
      if (res.ids[0]?.includes(rs[0]!.id)) break;
    }
    lags.push(performance.now() - t);
  }
  const l = summarize(lags);
  const u = summarize(upserts);
  log(`write → searchable (upsert + filtered query): p50 ${l.p50} p95 ${l.p95} ms (upsert alone p50 ${u.p50} p95 ${u.p95}) n ${l.n}`);

  // Batch upserts of new records, one after another, as a catch-up or rebuild sends them.
  const size = Number(opts.batch);
  const batchSeconds: number[] = [];
  for (let b = 0; b < Number(opts.batches); b++) {
    const rs: ReturnType<typeof records> = [];
    for (let i = 0; rs.length < size; i++) rs.push(...records(base + 800_000 + b * size + i));
    const t = performance.now();
    await upsert(col, rs.slice(0, size));
    batchSeconds.push((performance.now() - t) / 1000);
  }
  const total = batchSeconds.reduce((a, x) => a + x, 0);
  log(`batch upserts of ${size}: ${batchSeconds.map((x) => x.toFixed(2)).join(', ')} s; ${Math.round((size * batchSeconds.length) / total)} records/s`);

  const queries: number[] = [];
  const filtered: number[] = [];
  for (let i = 0; i < 30; i++) {
    const q = records(i * 997)[0]!;
    let t = performance.now();
    await col.query({ queryEmbeddings: [q.vector], nResults: 20 });
    queries.push(performance.now() - t);
    t = performance.now();
    await col.query({ queryEmbeddings: [q.vector], nResults: 10, where: { conversation_id: { $eq: q.metadata.conversation_id as string } } });
    filtered.push(performance.now() - t);
  }
  log(`queries: unfiltered top-20 p50 ${summarize(queries).p50} p95 ${summarize(queries).p95} ms; filtered by conversation p50 ${summarize(filtered).p50} p95 ${summarize(filtered).p95} ms`);
}

/**
 * Recall@10 of the HNSW index: for texts not loaded, the share of Chroma's top 10 that are within
 * the exact 10th-nearest distance over the N loaded vectors (ties count as hits, since the synthetic
 * corpus repeats texts). Measures what a lower ef_construction costs in quality.
 */
async function recall(queries: number): Promise<void> {
  const col = await client.getCollection({ name: NAME, embeddingFunction: undefined as never });
  const stored: { id: string; vector: number[] }[] = [];
  for (let i = 0; stored.length < N; i++) stored.push(...records(i));
  stored.length = N;
  let hits = 0;
  for (let q = 0; q < queries; q++) {
    const vector = records(N + 1_000_000 + q * 7919)[q % 10]!.vector;
    // Chroma's cosine distance is 1 − similarity.
    const tenth = 1 - nearestByCosine(vector, stored, 10)[9]!.score;
    const res = await col.query({ queryEmbeddings: [vector], nResults: 10 });
    hits += (res.distances[0] ?? []).filter((d) => d !== null && d <= tenth + 1e-5).length;
  }
  log(`recall@10 over ${queries} queries: ${(hits / (queries * 10)).toFixed(4)} (ef_construction ${opts.efConstruction}, ef_search 100, ${N} vectors)`);
}

try {
  if (!opts.collection) await load();
  if (Number(opts.recall) > 0 && !opts.collection) await recall(Number(opts.recall));
  if (!opts.skipMeasure) await measure();
} finally {
  await chroma.stop();
  if (!opts.dir) await rm(dir, { recursive: true, force: true });
}
