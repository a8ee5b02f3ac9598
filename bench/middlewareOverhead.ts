/**
 * What auth + rate limiting + metrics (+ CORS/compression checks) cost per request: p50 latency of
 * GET /health and of the list query GET /api/v1/conversations, on two apps built from the same deps
 * in this process, one bare (createApp) and one with the platform middleware (as `npm start` serves),
 * measured in the same run. autocannon runs as a separate process so it does not share this event loop.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/middlewareOverhead.ts
 * Without DATABASE_URL an embedded PostgreSQL is started. Options (env): DURATION seconds per autocannon run (8), CONNECTIONS (10), ROUNDS (3), IN_PROCESS requests (3000).
 * Also measured in process (app.request, no sockets): the middleware's own cost in microseconds, which
 * autocannon's 1 ms resolution and a shared 2-core machine cannot resolve.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { serve, type ServerType } from '@hono/node-server';
import pg from 'pg';
import { resolveConfig } from '../src/config/load.js';
import { startEmbeddedPostgres } from '../src/db/embeddedPostgres.js';
import { migrate } from '../src/db/migrate.js';
import { createPools } from '../src/db/pools.js';
import { createEventStore } from '../src/eventstore/index.js';
import { createApp } from '../src/app/createApp.js';
import type { AppDeps } from '../src/deps.js';
import { platformExtras } from '../src/app/platform.js';
import { createLogger } from '../src/logger.js';
import { readModelDefinition, startProjections } from '../src/projections/index.js';
import { freePort } from '../src/util/freePort.js';
import { VERSION } from '../src/version.js';

const run = promisify(execFile);
const SECONDS = Number(process.env.DURATION ?? 8);
const IN_PROCESS = Number(process.env.IN_PROCESS ?? 3000);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 10);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const KEY = randomBytes(32).toString('base64url');

async function database(): Promise<{ url: string; stop(): Promise<void> }> {
  const name = `sekha_bench_mw_${randomBytes(4).toString('hex')}`;
  let server = process.env.DATABASE_URL;
  let embedded: Awaited<ReturnType<typeof startEmbeddedPostgres>> | undefined;
  let dir: string | undefined;
  if (!server) {
    dir = await mkdtemp(join(tmpdir(), 'sekha-bench-pg-'));
    embedded = await startEmbeddedPostgres({ dataDir: join(dir, 'pg') });
    server = embedded.url;
  }
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async stop() {
      const c = new pg.Client({ connectionString: server });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
      await embedded?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

function listen(fetch: Parameters<typeof serve>[0]['fetch']): Promise<{ server: ServerType; url: string }> {
  return freePort().then(
    (port) =>
      new Promise((resolve) => {
        const server = serve({ fetch, hostname: '127.0.0.1', port }, () => resolve({ server, url: `http://127.0.0.1:${port}` }));
      }),
  );
}

async function p50(url: string, headers: Record<string, string>): Promise<{ p50: number; p99: number; rps: number; non2xx: number }> {
  const args = ['-j', '-c', String(CONNECTIONS), '-d', String(SECONDS), ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}=${v}`]), url];
  const { stdout } = await run(join(import.meta.dirname, '..', 'node_modules', '.bin', 'autocannon'), args, { maxBuffer: 16 << 20 });
  const r = JSON.parse(stdout) as { latency: { p50: number; p99: number }; requests: { average: number }; non2xx: number };
  return { p50: r.latency.p50, p99: r.latency.p99, rps: r.requests.average, non2xx: r.non2xx };
}

async function main(): Promise<void> {
  const db = await database();
  const toml = `log_level = "silent"\n[database]\nurl = "${db.url}"\nmin_connections = 0\n[api]\nrate_limit_requests = 100000000\nrate_limit_burst = 1000\n[[api.keys]]\nname = "bench"\nkey = "${KEY}"\nscopes = ["read", "write"]\n`;
  const config = resolveConfig(toml, {})._unsafeUnwrap();
  const logger = createLogger('silent');
  const pools = createPools(db.url, undefined, config.database);
  await migrate(pools.write);
  const deps: AppDeps = { config, pools, store: createEventStore(pools.write), logger, clock: () => new Date(), startedAt: new Date(), version: VERSION };
  const projections = await startProjections({ config, pools, url: db.url, logger, definitions: [readModelDefinition] });
  deps.projections = projections;
  deps.progress = projections.bus;
  const bare = await listen(createApp(deps).fetch);
  const withPlatform = await listen(createApp({ ...deps }, platformExtras({ ...deps })).fetch);
  const auth = { authorization: `Bearer ${KEY}` };

  // 200 conversations so the list query reads a real page; wait until the read model has them.
  let position = '';
  for (let i = 0; i < 200; i++) {
    const res = await fetch(`${withPlatform.url}/api/v1/conversations`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ label: `bench ${i}`, folder: `/bench/${i % 10}`, messages: [{ role: 'user', content: `message ${i}` }] }),
    });
    position = ((await res.json()) as { position: string }).position;
  }
  const caught = await fetch(`${bare.url}/api/v1/conversations?page_size=20&min_position=${position}`);
  const total = ((await caught.json()) as { total: number }).total;
  process.stdout.write(`seeded: ${total} conversations; ${SECONDS}s per run, ${CONNECTIONS} connections, ${ROUNDS} round(s), alternating\n`);

  const targets = [
    { name: 'GET /health', path: '/health' },
    { name: 'GET /api/v1/conversations?page_size=20', path: '/api/v1/conversations?page_size=20' },
  ];
  const results: Record<string, { bare: number[]; platform: number[]; rpsBare: number[]; rpsPlatform: number[] }> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const t of targets) {
      const r = (results[t.name] ??= { bare: [], platform: [], rpsBare: [], rpsPlatform: [] });
      // Alternate which goes first so warm-up and drift do not favour one side.
      const order = round % 2 === 0 ? (['bare', 'platform'] as const) : (['platform', 'bare'] as const);
      for (const side of order) {
        const m = side === 'bare' ? await p50(bare.url + t.path, {}) : await p50(withPlatform.url + t.path, auth);
        if (m.non2xx > 0) throw new Error(`${side} ${t.name}: ${m.non2xx} non-2xx answers`);
        (side === 'bare' ? r.bare : r.platform).push(m.p50);
        (side === 'bare' ? r.rpsBare : r.rpsPlatform).push(m.rps);
      }
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  process.stdout.write('\nroute | p50 bare (ms) | p50 with auth+rate limit+metrics (ms) | overhead (ms) | req/s bare | req/s with\n---|---|---|---|---|---\n');
  for (const [name, r] of Object.entries(results)) {
    const b = median(r.bare);
    const p = median(r.platform);
    process.stdout.write(`${name} | ${b} | ${p} | ${(p - b).toFixed(2)} | ${Math.round(median(r.rpsBare))} | ${Math.round(median(r.rpsPlatform))}\n`);
  }
  process.stdout.write(`(p50 per run: ${JSON.stringify(results)})\n`);

  // In process: alternate blocks of 100 requests on each app, time each request.
  const bareApp = createApp(deps);
  const platformApp = createApp({ ...deps }, platformExtras({ ...deps }));
  process.stdout.write('\nin process (app.request) | p50 bare (µs) | p50 with (µs) | overhead (µs)\n---|---|---|---\n');
  for (const t of targets) {
    const times = { bare: [] as number[], platform: [] as number[] };
    for (let block = 0; block < IN_PROCESS / 100; block++) {
      for (const side of block % 2 === 0 ? (['bare', 'platform'] as const) : (['platform', 'bare'] as const)) {
        const app = side === 'bare' ? bareApp : platformApp;
        const headers = side === 'bare' ? {} : auth;
        for (let i = 0; i < 100; i++) {
          const started = performance.now();
          const res = await app.request(t.path, { headers }, { incoming: { socket: { remoteAddress: '127.0.0.1' } } });
          await res.arrayBuffer();
          times[side].push((performance.now() - started) * 1000);
          if (res.status !== 200) throw new Error(`${side} ${t.path}: ${res.status}`);
        }
      }
    }
    const b = median(times.bare);
    const p = median(times.platform);
    process.stdout.write(`${t.name} | ${b.toFixed(0)} | ${p.toFixed(0)} | ${(p - b).toFixed(0)}\n`);
  }

  await new Promise<void>((r) => bare.server.close(() => r()));
  await new Promise<void>((r) => withPlatform.server.close(() => r()));
  await projections.stop();
  await pools.close();
  await db.stop();
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
