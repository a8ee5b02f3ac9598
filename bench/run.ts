/**
 * `npm run bench [-- --quick] [-- --sizes 1000,10000,100000] [-- --seconds 15]`
 * Starts the service on embedded defaults in a fresh DATA_DIR per corpus size, seeds a deterministic
 * corpus through the API, waits for projections, drives load with autocannon from another process,
 * and writes bench/results/<date>-<sha>.json, BENCHMARKS.md and bench/results/latency.svg.
 */
import { execSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import pg from 'pg';
import { BENCH_EMBEDDING_MODEL } from './embedderServer.js';
import { appendBaselines, bareHonoBaseline, peerBaseline } from './baselines.js';
import { conversationAt, queryAt } from './corpus.js';
import { readRows } from './readRows.js';
import { benchDatabase } from './database.js';
import type { LoadResult, LoadSpec } from './load.js';
import { writeReport, type BenchReport, type SizeReport } from './report.js';
import { runLoad, warmUp, type WarmUp } from './runLoad.js';
import { startBenchService, type BenchService } from './service.js';
import { summarize } from './stats.js';
import { firstSearchAfterReady, rebuildVectors } from './vectorBench.js';

const program = new Command('bench')
  .option('--quick', 'one small corpus, short runs (about 2 minutes)')
  .option('--sizes <list>', 'corpus sizes in conversations, comma-separated', '1000,10000')
  .option('--seconds <n>', 'seconds per load row', '10')
  .option('--connections <n>', 'concurrent connections per load row', '10')
  .option('--warm-seconds <n>', "seconds each row's requests are sent by one client, untimed, after the first-touch pass and before timing", '5')
  .option('--seed <n>', 'corpus seed', '42')
  .option('--embedder <kind>', 'local (the offline model), trigram (bench/embedderServer.ts over Ollama\'s wire format) or auto: local up to 1,000 conversations, trigram above', 'auto')
  .option('--cpu-prof <dir>', 'run the service with --cpu-prof, writing .cpuprofile files to this directory (open in Chrome DevTools)')
  .option('--catch-up-timeout <s>', 'seconds to wait for the projections after seeding', '900')
  .option('--skip <parts>', 'leave out slow parts, comma-separated: peer (the Emmett baselines), vector-rebuild; part@size leaves it out at one corpus size only (vector-rebuild@100000)', '')
  .option('--service-dir <dir>', 'run the service from another checkout (with its own node_modules) under this harness: an A/B of two builds; writes the result JSON only, never BENCHMARKS.md')
  .option('--keep-data <dir>', 'keep each seeded corpus under this directory and reuse it in later runs (same size, seed and embedder): seeding 100,000 conversations takes most of an hour')
  .parse();
const opts = program.opts<{ quick?: boolean; sizes: string; seconds: string; connections: string; warmSeconds: string; seed: string; embedder: string; cpuProf?: string; catchUpTimeout: string; skip: string; keepData?: string; serviceDir?: string }>();
const skipped = new Set(opts.skip.split(',').filter(Boolean));
for (const part of skipped) if (!/^(peer|vector-rebuild)(@\d+)?$/.test(part)) program.error(`--skip takes peer and vector-rebuild, each optionally @size, not ${part}`);
/** Whether `part` is left out at corpus `size`. */
const skips = (part: string, size: number) => skipped.has(part) || skipped.has(`${part}@${size}`);
if (!['local', 'trigram', 'auto'].includes(opts.embedder)) program.error(`--embedder must be local, trigram or auto, not ${opts.embedder}`);
// `npm run bench --quick` reaches us as npm_config_quick, `npm run bench -- --quick` as a flag.
const quick = Boolean(opts.quick) || process.env.npm_config_quick === 'true';
const sizes = quick ? [100] : opts.sizes.split(',').map(Number);
const seconds = quick ? 3 : Number(opts.seconds);
const connections = Number(opts.connections);
const warmSeconds = quick ? 1 : Number(opts.warmSeconds);
if (!Number.isInteger(warmSeconds) || warmSeconds < 0) program.error(`--warm-seconds takes a whole number of seconds, not ${opts.warmSeconds}`);
const seed = Number(opts.seed);

const log = (line: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

/**
 * A seeding write that survives a dropped connection ("other side closed" under load): retried with
 * the same Idempotency-Key, so a write that did commit is answered, not written twice.
 */
async function postOnce(url: string, body: unknown, key: string, attempts = 5): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await post(url, body, { 'idempotency-key': key });
    } catch (e) {
      if (attempt >= attempts) throw e;
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}

/** Seeds `count` conversations of the corpus, `concurrency` at a time; returns seconds taken. */
async function seedCorpus(svc: BenchService, count: number, concurrency = 16): Promise<number> {
  const started = performance.now();
  let next = 0;
  let lastPrinted = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) {
        const res = await postOnce(`${svc.url}/api/v1/conversations`, conversationAt(seed, i), `bench-seed-${seed}-${i}`);
        if (res.status !== 201) throw new Error(`seeding failed: ${res.status} ${await res.text()}`);
        await res.arrayBuffer();
        if (i - lastPrinted >= 5000) {
          lastPrinted = i;
          log(`  seeded ${i} / ${count}`);
        }
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

interface ProjectionRow { name: string; version: number; lag_events: number; status: string; position: string }

async function projections(svc: BenchService): Promise<ProjectionRow[] | undefined> {
  const res = await fetch(`${svc.url}/api/v1/projections`);
  if (res.status === 404) return undefined;
  if (!res.ok) return [];
  const body = (await res.json()) as { projections?: ProjectionRow[] } | ProjectionRow[];
  return Array.isArray(body) ? body : (body.projections ?? []);
}

/** Waits until every projector has no lag; returns seconds per projector name (undefined if it did not catch up). */
async function waitForCatchUp(svc: BenchService, timeoutSeconds: number): Promise<Record<string, number | undefined>> {
  const started = performance.now();
  const done: Record<string, number | undefined> = {};
  const deadline = Date.now() + timeoutSeconds * 1000;
  let lastLog = 0;
  for (;;) {
    const rows = await projections(svc);
    if (!rows) return done; // no projections route: nothing to wait for
    for (const r of rows) if (r.lag_events === 0 && done[r.name] === undefined) done[r.name] = (performance.now() - started) / 1000;
    if (rows.length > 0 && rows.every((r) => r.lag_events === 0)) return done;
    if (Date.now() > deadline) {
      for (const r of rows) done[r.name] ??= undefined;
      return done;
    }
    if (Date.now() - lastLog > 10_000) {
      lastLog = Date.now();
      log(`  waiting for projections: ${rows.map((r) => `${r.name} lag ${r.lag_events}`).join(', ')}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Runs a load row unless its route is missing (then says so instead of measuring a 404). */
async function row(svc: BenchService, name: string, requests: LoadSpec['requests']): Promise<(LoadResult & { single: LoadResult; warm_up: WarmUp }) | { unavailable: string }> {
  // Each request once, untimed (its first answer also tells a missing route): a kept corpus's pages
  // may be cold after the restart or an idle spell (the kernel reclaims idle page cache), and the
  // row measures the service in steady use.
  const warm = await warmUp(svc.url, requests);
  if ('missing' in warm) return { unavailable: `${requests[0]!.method} ${requests[0]!.path} answered ${warm.missing}` };
  // Then steady traffic, untimed: the first seconds of reads on a service that has not served them
  // yet run slower, on PostgreSQL's side and the service's own. On the 100,000 corpus after a restart
  // of the service alone, full-text p95 read 59.9 ms in its first 4 s and 35.2–40.1 after.
  if (warmSeconds > 0) await runLoad({ url: svc.url, connections: 1, durationSeconds: warmSeconds, requests });
  // One client first: the latency of a request on an otherwise idle service, which the guide's
  // targets are about; then `connections` clients: latency under saturation, and throughput.
  const single = await runLoad({ url: svc.url, connections: 1, durationSeconds: Math.max(2, Math.round(seconds / 2)), requests });
  const result = await runLoad({ url: svc.url, connections, durationSeconds: seconds, requests });
  log(`  ${name.padEnd(26)} warm-up ${warm.ms} ms (slowest ${warm.max}) | 1 client p50 ${single.p50} p95 ${single.p95} p99 ${single.p99} ms | ${connections} clients p50 ${result.p50} p95 ${result.p95} p99 ${result.p99} ms ${result.rps} req/s non2xx ${result.non2xx + single.non2xx}`);
  return { ...result, single, warm_up: warm };
}

/** Time from a write's answer until a search finds it, `n` times. */
async function writeToSearchable(svc: BenchService, n: number, mode: 'fts' | 'semantic'): Promise<{ p50: number; p95: number; n: number } | { unavailable: string }> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const token = `zq${Math.random().toString(36).slice(2, 10)}`;
    const created = await post(`${svc.url}/api/v1/conversations`, { label: 'lag-probe', folder: '/bench/lag', messages: [{ role: 'user', content: `probe ${token} about sourdough starters` }] });
    const { id } = (await created.json()) as { id: string };
    const started = performance.now();
    const deadline = Date.now() + 120_000;
    for (;;) {
      const res =
        mode === 'fts'
          ? await post(`${svc.url}/api/v1/search/fts`, { query: token, limit: 5 })
          : await post(`${svc.url}/api/v1/query`, { query: `probe ${token} about sourdough starters`, mode: 'semantic', limit: 5, filters: { conversation_id: id } });
      if (res.status === 404) return { unavailable: `${mode} search route missing` };
      const body = (await res.json()) as { results?: { conversation_id: string }[]; degraded?: boolean };
      if (body.results?.some((r) => r.conversation_id === id) && !body.degraded) break;
      if (Date.now() > deadline) return { unavailable: `${mode}: a write was not searchable within 120 s` };
      await new Promise((r) => setTimeout(r, 5));
    }
    samples.push(performance.now() - started);
  }
  const s = summarize(samples);
  return { p50: s.p50, p95: s.p95, n: s.n };
}

// The default rate limit (100/min per client) would measure 429s: the benchmark lifts it.
const BENCH_ENV = { SEKHA_API__RATE_LIMIT_REQUESTS: '100000000', SEKHA_API__RATE_LIMIT_BURST: '1000000' };
const launch = (env: Record<string, string>) =>
  startBenchService({ ...BENCH_ENV, ...env }, { nodeArgs: opts.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProf] : [], cwd: opts.serviceDir });

/** Times a blue/green rebuild of the read model from the whole event log. */
async function rebuildReadModel(svc: BenchService): Promise<SizeReport['rebuild']> {
  const before = (await projections(svc))?.find((p) => p.name === 'read-model');
  if (!before) return undefined;
  const events = Number(before.position.split(':')[1] ?? 0);
  const started = performance.now();
  const res = await post(`${svc.url}/api/v1/projections/read-model/rebuild`, {});
  if (res.status !== 202) return undefined;
  const { version } = (await res.json()) as { version: number };
  for (;;) {
    const rows = (await projections(svc)) ?? [];
    const live = rows.filter((p) => p.name === 'read-model');
    if (live.length === 1 && live[0]!.version === version && live[0]!.lag_events === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const seconds = (performance.now() - started) / 1000;
  return { events, seconds: Math.round(seconds * 10) / 10, events_per_second: Math.round(events / seconds) };
}

/**
 * Times a blue/green replay of the lexical projection (postings, documents, statistics) from the
 * whole log, as `npm run replay -- lexical-stats` does, apart from seeding: messages/s is the rate
 * a rebuild reaches, not the rate writes arrived at.
 */
async function rebuildLexical(svc: BenchService): Promise<SizeReport['lexical_rebuild']> {
  const before = (await projections(svc))?.find((p) => p.name === 'lexical-stats');
  if (!before || !svc.databaseUrl) return undefined;
  const events = Number(before.position.split(':')[1] ?? 0);
  const started = performance.now();
  const res = await post(`${svc.url}/api/v1/projections/lexical-stats/rebuild`, {});
  if (res.status !== 202) return undefined;
  const { version } = (await res.json()) as { version: number };
  for (;;) {
    const live = ((await projections(svc)) ?? []).filter((p) => p.name === 'lexical-stats');
    if (live.length === 1 && live[0]!.version === version && live[0]!.lag_events === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const seconds = (performance.now() - started) / 1000;
  const messages = Number((await withDatabase(svc.databaseUrl, (db) => db.query<{ docs: string }>('select docs from lexical_totals'))).rows[0]!.docs);
  return { events, messages, seconds: Math.round(seconds * 10) / 10, messages_per_second: Math.round(messages / seconds) };
}

async function withDatabase<T>(url: string, fn: (db: pg.Client) => Promise<T>): Promise<T> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    return await fn(db);
  } finally {
    await db.end();
  }
}

/** On-disk size (MiB, indexes and TOAST included) of the live postings and lexical documents beside the read model's messages. */
async function storageSizes(svc: BenchService): Promise<Record<string, number> | undefined> {
  if (!svc.databaseUrl) return undefined;
  return withDatabase(svc.databaseUrl, async (db) => {
    const live = async (name: string) => (await db.query<{ version: number }>(`select version from projection_checkpoints where name = $1 and state = 'live'`, [name])).rows[0]?.version;
    const lexical = await live('lexical-stats');
    const readModel = await live('read-model');
    // A build measured with --service-dir may lack a table (an older one had no postings): left out.
    const mib = async (table: string) => {
      const n = (await db.query<{ n: string | null }>('select pg_total_relation_size(to_regclass($1)) as n', [table])).rows[0]!.n;
      return n === null ? undefined : Math.round(Number(n) / 2 ** 20);
    };
    const sizes = {
      lexical_postings: await mib(`lex_v${lexical}_postings`),
      lexical_documents: await mib(`lex_v${lexical}_docs`),
      messages: await mib(`rm_v${readModel}_messages`),
    };
    return Object.fromEntries(Object.entries(sizes).filter((e): e is [string, number] => e[1] !== undefined));
  });
}

/** Starts bench/embedderServer.ts as its own process; resolves its URL and a stop function. */
async function startTrigramEmbedder(): Promise<{ env: Record<string, string>; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/embedderServer.ts'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [url] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  // An interrupted run exits from the services' signal handler: the embedder goes with it, not orphaned.
  const killOnExit = () => void child.kill('SIGTERM');
  process.once('exit', killOnExit);
  return {
    env: { EMBEDDING_PROVIDER: 'ollama', OLLAMA_URL: url, EMBEDDING_MODEL: BENCH_EMBEDDING_MODEL },
    stop: async () => {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function benchSize(size: number): Promise<SizeReport> {
  const embedderKind = opts.embedder === 'auto' ? (size <= 1000 ? 'local' : 'trigram') : (opts.embedder as 'local' | 'trigram');
  log(`corpus of ${size} conversations × 10 messages, ${embedderKind} embedder`);
  const kept = opts.keepData ? join(opts.keepData, `${size}-seed${seed}-${embedderKind}`) : undefined;
  const dataDir = kept ?? (await mkdtemp(join(tmpdir(), 'sekha-bench-')));
  if (kept) await mkdir(kept, { recursive: true, mode: 0o755 });
  const embedder = embedderKind === 'trigram' ? await startTrigramEmbedder() : { env: {}, stop: async () => {} };
  let svc = await launch({ DATA_DIR: dataDir, ...embedder.env }).catch(async (e: unknown) => {
    await embedder.stop();
    throw e;
  });
  try {
    const seeding = await seededBefore(kept);
    if (seeding) log(`  reusing the corpus in ${kept} (seeded in ${seeding.seedSeconds} s by an earlier run)`);
    const seedSeconds = seeding?.seedSeconds ?? (await seedCorpus(svc, size));
    if (!seeding) log(`  seeded in ${seedSeconds.toFixed(1)} s (${Math.round(size / seedSeconds)} conversations/s through the API)`);
    const caughtUp = await waitForCatchUp(svc, quick ? Math.min(300, Number(opts.catchUpTimeout)) : Number(opts.catchUpTimeout));
    log(`  projections caught up: ${JSON.stringify(caughtUp)}`);
    // A reused corpus reports the catch-up its seeding run measured, not this run's wait.
    const catchUp = seeding?.catchUp ?? caughtUp;
    if (kept && !seeding && Object.values(catchUp).every((v) => v !== undefined)) {
      await writeFile(join(kept, SEEDED_MARKER), JSON.stringify({ seedSeconds: Math.round(seedSeconds * 10) / 10, catchUp }));
    }
    const events = size * 2;
    const q = (i: number) => queryAt(seed, i);
    const report: SizeReport = {
      size,
      embedder: embedderKind === 'trigram' ? `${BENCH_EMBEDDING_MODEL} (bench/embedderServer.ts, Ollama wire format)` : 'local (energetic-ai/use-lite-en)',
      seed_seconds: Math.round(seedSeconds * 10) / 10,
      catch_up_seconds: catchUp,
      catch_up_events_per_second: Object.fromEntries(
        Object.entries(catchUp).map(([k, v]) => [k, v === undefined ? undefined : Math.round(events / Math.max(v + seedSeconds, 0.001))]),
      ),
      rows: {},
      ...(seeding ? { corpus_reused: true } : {}),
      conversations_measured: await storedConversations(svc),
    };
    report.rows['health check'] = await row(svc, 'health check', [{ method: 'GET', path: '/health' }]);
    report.rows['list conversations'] = await row(svc, 'list conversations', [{ method: 'GET', path: '/api/v1/conversations?page_size=20' }]);
    for (const { name, requests } of readRows(seed)) report.rows[name] = await row(svc, name, requests);
    report.rows['create conversation'] = await row(svc, 'create conversation', [
      { method: 'POST', path: '/api/v1/conversations', body: { label: 'bench', folder: '/bench/writes', messages: [{ role: 'user', content: 'a new conversation from the benchmark' }] } },
    ]);
    // The create row leaves the projectors a backlog (thousands of conversations at once); write to
    // searchable is the lag of one write, so it is measured once they have caught up again.
    const drained = await waitForCatchUp(svc, Number(opts.catchUpTimeout));
    log(`  after the create row, projections caught up: ${JSON.stringify(drained)}`);
    report.write_to_searchable = {
      fts: await writeToSearchable(svc, quick ? 10 : 30, 'fts'),
      semantic: await writeToSearchable(svc, quick ? 5 : 20, 'semantic'),
    };
    log(`  write-to-searchable: ${JSON.stringify(report.write_to_searchable)}`);
    report.rebuild = await rebuildReadModel(svc);
    log(`  read-model rebuild: ${JSON.stringify(report.rebuild)}`);
    report.lexical_rebuild = await rebuildLexical(svc);
    log(`  lexical rebuild: ${JSON.stringify(report.lexical_rebuild)}`);
    report.storage_mib = await storageSizes(svc);
    log(`  storage (MiB): ${JSON.stringify(report.storage_mib)}`);
    report.peak_rss_mib = svc.peakRss();
    if (svc.databaseUrl) {
      // Same PostgreSQL server as the service, a database of their own: the service's projectors
      // must not project the baselines' events while they are timed.
      const sibling = await benchDatabase('baselines', svc.databaseUrl);
      try {
        report.append = await appendBaselines(sibling.url, quick ? 2 : 5);
        log(`  append (events/s): ours ${JSON.stringify(report.append.ours)}; raw INSERT ${JSON.stringify(report.append.rawInsert)}`);
        if (!skips('peer', size)) {
          report.peer = await peerBaseline(sibling.url, quick ? 2 : 5, report.rebuild?.events ?? size * 2);
          log(`  peer (Emmett): ${JSON.stringify(report.peer)}`);
        }
      } finally {
        await sibling.drop();
      }
    }
    if (!skips('vector-rebuild', size)) {
      report.vector_rebuild = await rebuildVectors(svc.url, undefined, log);
      log(`  vector rebuild: ${JSON.stringify(report.vector_rebuild)}`);
    }
    // First search after a restart, once /ready says ready (the warm-up has loaded the model and Chroma's index).
    await svc.stop();
    const restart = await firstSearchAfterReady(() => launch({ DATA_DIR: dataDir, ...embedder.env }), q(0));
    svc = restart.svc;
    report.first_search_after_start_ms = restart.result.first_search_after_ready_ms;
    report.ready_after_start_ms = restart.result.ready_after_start_ms;
    log(`  restart: ready after ${report.ready_after_start_ms} ms; first semantic search after ready: ${report.first_search_after_start_ms} ms`);
    return report;
  } finally {
    await svc.stop();
    await embedder.stop();
    if (!kept) await rm(dataDir, { recursive: true, force: true });
  }
}

const SEEDED_MARKER = 'bench-seeded.json';

async function storedConversations(svc: BenchService): Promise<number | undefined> {
  const res = await fetch(`${svc.url}/api/v1/stats`);
  return res.ok ? ((await res.json()) as { total_conversations?: number }).total_conversations : undefined;
}

/** What an earlier run recorded when it seeded the kept corpus and the projections caught up, if it did. */
async function seededBefore(kept: string | undefined): Promise<{ seedSeconds: number; catchUp: Record<string, number | undefined> } | undefined> {
  if (!kept) return undefined;
  try {
    return JSON.parse(await readFile(join(kept, SEEDED_MARKER), 'utf8')) as { seedSeconds: number; catchUp: Record<string, number | undefined> };
  } catch {
    return undefined;
  }
}

const shaOf = (cwd?: string) => {
  try {
    return execSync('git rev-parse --short HEAD', { encoding: 'utf8', cwd }).trim();
  } catch {
    return 'unknown';
  }
};
const harnessSha = shaOf();
const report: BenchReport = {
  date: new Date().toISOString(),
  // The build measured: the service's checkout.
  git_sha: shaOf(opts.serviceDir),
  ...(opts.serviceDir ? { harness_sha: harnessSha } : {}),
  command: `npm run bench${quick ? ' -- --quick' : ` -- --sizes ${sizes.join(',')} --seconds ${seconds} --embedder ${opts.embedder}${opts.skip ? ` --skip ${opts.skip}` : ''}`}${opts.serviceDir ? ` --service-dir ${opts.serviceDir}` : ''}`,
  machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model ?? 'unknown', memory_gib: Math.round(totalmem() / 2 ** 30), node: process.version },
  settings: { seconds_per_row: seconds, connections, seed, warm_seconds: warmSeconds },
  http_ceiling: await bareHonoBaseline(seconds, connections),
  sizes: [],
};
log(`bare Hono ceiling: p50 ${report.http_ceiling.p50} ms, ${report.http_ceiling.rps} req/s`);
for (const size of sizes) {
  report.sizes.push(await benchSize(size));
  // Written after every corpus: a long run that fails at its largest size keeps what it measured.
  const files = await writeReport(report, { quick, markdown: !quick && !opts.serviceDir });
  log(`wrote ${files.join(', ')}`);
}
