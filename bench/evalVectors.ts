/**
 * `npm run eval:vectors [-- --vectors 100000] [-- --writes 40]`
 * Measures, on this machine: (1) local embedding throughput, one text per call vs batches, through
 * the worker-thread embedder (no cache); (2) semantic query latency against a Chroma collection of
 * N vectors (the collection is filled with random unit vectors and real-shaped metadata, because
 * embedding 100,000 texts here takes longer than the run; query text is embedded for real);
 * (3) write-to-searchable latency through the API: from a write's answer until POST /api/v1/query
 * (semantic, conversation filter) returns the message.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { resolveConfig } from '../src/config/load.js';
import { createLocalEmbedder } from '../src/embeddings/index.js';
import { startChroma } from '../src/vectors/chromaProcess.js';
import { vectorMetadata } from '../src/vectors/metadata.js';
import { createVectorStore } from '../src/vectors/store.js';
import { toWhere } from '../src/vectors/where.js';
import { queryVectors } from '../src/queries/semantic.js';
import { startBenchService } from './service.js';

const opts = new Command('eval:vectors')
  .option('--vectors <n>', 'vectors in the collection for the query latency', '100000')
  .option('--queries <n>', 'queries for the latency', '200')
  .option('--writes <n>', 'writes for write-to-searchable', '40')
  .option('--texts <n>', 'texts for the throughput', '256')
  .parse()
  .opts<{ vectors: string; queries: string; writes: string; texts: string }>();

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const ms = (x: number) => `${x.toFixed(1)} ms`;
const words = 'memory river project budget garden music travel kitchen doctor meeting python engine invoice weekend family movie coffee deadline'.split(' ');
const sentence = (i: number) => Array.from({ length: 12 }, (_, j) => words[(i * 7 + j * 3 + ((i * j) % 5)) % words.length]).join(' ') + ` ${i}`;

async function throughput() {
  const embedder = createLocalEmbedder({ workers: 1 });
  const n = Number(opts.texts);
  const texts = Array.from({ length: n }, (_, i) => sentence(i));
  await embedder.embed(['warm up']);
  const out: string[] = [];
  let t = performance.now();
  for (const text of texts) await embedder.embed([text]);
  out.push(`one at a time: ${(n / ((performance.now() - t) / 1000)).toFixed(1)} texts/s`);
  for (const size of [16, 64, 100]) {
    t = performance.now();
    for (let i = 0; i < n; i += size) await embedder.embed(texts.slice(i, i + size));
    out.push(`batches of ${size}: ${(n / ((performance.now() - t) / 1000)).toFixed(1)} texts/s`);
  }
  await embedder.close?.();
  return out;
}

async function queryLatency() {
  const n = Number(opts.vectors);
  const dir = await mkdtemp(join(tmpdir(), 'sekha-eval-vectors-'));
  const chroma = await startChroma({ dataDir: dir });
  const config = resolveConfig(undefined, {})._unsafeUnwrap();
  const store = createVectorStore(chroma.url, config.chroma);
  const embedder = createLocalEmbedder({ workers: 1 });
  try {
    const name = store.collectionName('bench', 512, 1);
    await store.ensure(name, { model: 'bench', dimension: 512 });
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    const unit = () => {
      const v = Array.from({ length: 512 }, rand);
      const norm = Math.hypot(...v);
      return v.map((x) => x / norm);
    };
    const t0 = performance.now();
    for (let i = 0; i < n; i += 500) {
      const records = Array.from({ length: Math.min(500, n - i) }, (_, j) => {
        const k = i + j;
        return {
          id: `m${k}`,
          vector: unit(),
          metadata: vectorMetadata(
            { conversation_id: `c${Math.floor(k / 10)}`, role: k % 2 ? 'assistant' : 'user', timestamp: new Date(1.7e12 + k * 60_000).toISOString() },
            { label: `label-${k % 50}`, folder: `/f${k % 20}/g${k % 7}`, status: k % 13 === 0 ? 'archived' : 'active', pinned: k % 17 === 0, importance: (k % 10) + 1 },
          ),
        };
      });
      await store.upsert(name, records);
      if ((i / 500) % 20 === 0) process.stderr.write(`  filled ${i + records.length}/${n}\r`);
    }
    const fill = (performance.now() - t0) / 1000;
    const chromaOnly: number[] = [];
    const prefiltered: number[] = [];
    const endToEnd: number[] = [];
    const filtered: number[] = [];
    const q = Number(opts.queries);
    for (let i = 0; i < q; i++) {
      const t = performance.now();
      const [v] = await embedder.embed([`question ${i} about ${sentence(i * 13)}`]);
      const t1 = performance.now();
      // As the service asks: the default "not archived" filter applied after an unfiltered search.
      await queryVectors(store, name, v!, 10, toWhere({ status: 'active' }));
      const t2 = performance.now();
      chromaOnly.push(t2 - t1);
      endToEnd.push(t2 - t);
      const t2b = performance.now();
      await store.query(name, v!, 10, toWhere({ status: 'active' }));
      prefiltered.push(performance.now() - t2b);
      const t3 = performance.now();
      await store.query(name, v!, 10, toWhere({ status: 'active', folderTree: `/f${i % 20}`, importanceMin: 3 }));
      filtered.push(performance.now() - t3);
    }
    return [
      `collection of ${n} vectors (512-d, cosine HNSW M=${config.chroma.m}, ef_search=${config.chroma.search_ef}) filled in ${fill.toFixed(0)} s`,
      `semantic query, Chroma top-10, not archived (unfiltered search, then filtered): p50 ${ms(pct(chromaOnly, 50))}, p95 ${ms(pct(chromaOnly, 95))}`,
      `  the same through Chroma's metadata pre-filter: p50 ${ms(pct(prefiltered, 50))}, p95 ${ms(pct(prefiltered, 95))}`,
      `semantic query, embed + Chroma top-10: p50 ${ms(pct(endToEnd, 50))}, p95 ${ms(pct(endToEnd, 95))}`,
      `semantic query with folder prefix + importance filters: p50 ${ms(pct(filtered, 50))}, p95 ${ms(pct(filtered, 95))}`,
    ];
  } finally {
    await embedder.close?.();
    await chroma.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function writeToSearchable() {
  const dir = await mkdtemp(join(tmpdir(), 'sekha-eval-wts-'));
  const service = await startBenchService({ DATA_DIR: dir, DATABASE_URL: '', CHROMA_URL: '', OLLAMA_URL: '', EMBEDDING_PROVIDER: 'local', SEKHA_API__RATE_LIMIT_REQUESTS: '100000000', SEKHA_API__RATE_LIMIT_BURST: '100000' });
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${service.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return (await res.json()) as any;
  };
  try {
    const latencies: number[] = [];
    for (let i = 0; i < Number(opts.writes); i++) {
      const text = `write number ${i}: ${sentence(i * 31)} ${Math.random()}`;
      const created = await post('/api/v1/conversations', { label: `w${i}`, messages: [{ role: 'user', content: text }] });
      const t = performance.now();
      for (;;) {
        const r = await post('/api/v1/query', { query: text, mode: 'semantic', limit: 1, filters: { conversation_id: created.id } });
        if (!r.degraded && r.results?.length === 1) break;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      latencies.push(performance.now() - t);
    }
    return [`write-to-searchable (semantic) over ${latencies.length} writes: p50 ${ms(pct(latencies, 50))}, p95 ${ms(pct(latencies, 95))}`];
  } finally {
    await service.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function main() {
  const lines = [...(await throughput()), ...(await writeToSearchable()), ...(await queryLatency())];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
