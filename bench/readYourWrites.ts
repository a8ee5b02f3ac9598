/**
 * What read-your-writes by default costs a read: p50/p99 of GET /api/v1/conversations/{id} from one client
 * over HTTP (keep-alive), in four cases measured in the same run on the same server (the first three
 * take turns read by read):
 *   eventual          X-Sekha-Consistency: eventual (no lookup at all; the baseline)
 *   nothing pending   an actor (another key) that has no remembered write
 *   reached           the actor's last write is remembered and already known projected (the common case)
 *   pending write     a label change immediately before each read (the read waits for the projector)
 * With REDIS_URL the remembered writes live in Redis (one GET per read), else in process.
 *
 *   npx tsx bench/readYourWrites.ts            (an embedded PostgreSQL; or DATABASE_URL's server)
 *   REDIS_URL=redis://127.0.0.1:6379 npx tsx bench/readYourWrites.ts
 * Env: READS per case (1000).
 */
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { serve, type ServerType } from '@hono/node-server';
import { Redis } from 'ioredis';
import { createApp } from '../src/app/createApp.js';
import { platformExtras } from '../src/app/platform.js';
import { resolveConfig } from '../src/config/load.js';
import { migrate } from '../src/db/migrate.js';
import { createPools } from '../src/db/pools.js';
import type { AppDeps } from '../src/deps.js';
import { createEventStore } from '../src/eventstore/index.js';
import { createLogger } from '../src/logger.js';
import { readModelDefinition, startProjections } from '../src/projections/index.js';
import { freePort } from '../src/util/freePort.js';
import { VERSION } from '../src/version.js';
import { benchDatabase } from './database.js';

const READS = Number(process.env.READS ?? 1000);
const KEY = randomBytes(32).toString('base64url');
// A second actor that never writes: its reads have nothing pending.
const IDLE_KEY = randomBytes(32).toString('base64url');

async function main() {
  const db = await benchDatabase('ryw');
  const url = new URL(db.url);
  const config = resolveConfig(
    `log_level = "silent"\n[database]\nurl = "${url}"\n[api]\nrate_limit_requests = 1000000\nrate_limit_burst = 100000\n[[api.keys]]\nname = "bench"\nkey = "${KEY}"\nscopes = ["read", "write"]\n[[api.keys]]\nname = "idle"\nkey = "${IDLE_KEY}"\nscopes = ["read"]\n`,
    {},
  )._unsafeUnwrap();
  const pools = createPools(url.toString(), undefined, config.database);
  await migrate(pools.write);
  const logger = createLogger('silent');
  const deps: AppDeps = { config, pools, store: createEventStore(pools.write), logger, clock: () => new Date(), startedAt: new Date(), version: VERSION };
  const projections = await startProjections({ config, pools, url: url.toString(), logger, definitions: [readModelDefinition] });
  deps.progress = projections.bus;
  deps.projections = projections;
  const redis = process.env.REDIS_URL ? new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: 1 }) : undefined;
  const app = createApp(deps, platformExtras(deps, redis ? { redis, lastWritesPrefix: `bench_ryw_${randomBytes(3).toString('hex')}` } : {}));
  const port = await freePort();
  const http: ServerType = await new Promise((r) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port }, () => r(s));
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; body: any }>((resolve, reject) => {
      const text = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        { host: '127.0.0.1', port, method, path, agent, headers: { authorization: `Bearer ${KEY}`, ...(text ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) } : {}), ...headers } },
        (res) => {
          let data = '';
          res.on('data', (d) => (data += d));
          res.on('end', () => resolve({ status: res.statusCode!, body: data ? JSON.parse(data) : undefined }));
        },
      );
      req.on('error', reject);
      req.end(text);
    });

  const created = await call('POST', '/api/v1/conversations', { label: 'bench', messages: [{ role: 'user', content: 'hello' }] });
  const id = created.body.id as string;
  const get = `/api/v1/conversations/${id}`;
  // Projected, and known so (the first read after the write learns it).
  await call('GET', get);

  const notOk = new Map<number, number>();
  const quantiles = (ms: number[]) => {
    ms.sort((a, b) => a - b);
    const q = (p: number) => ms[Math.min(ms.length - 1, Math.floor((p / 100) * ms.length))]!;
    return { p50: q(50), p99: q(99) };
  };
  const timed = async (headers: Record<string, string>) => {
    const t0 = performance.now();
    const res = await call('GET', get, undefined, headers);
    if (res.status !== 200) notOk.set(res.status, (notOk.get(res.status) ?? 0) + 1);
    return performance.now() - t0;
  };
  // The writer's last write, remembered and known projected (the common case).
  await call('PUT', `${get}/label`, { label: 'bench reached' });
  await call('GET', get);
  // The cases without a write in between take turns, read by read, so that warming up and the
  // machine's load drift weigh on each alike.
  const cases: [string, Record<string, string>][] = [
    ['eventual', { 'x-sekha-consistency': 'eventual' }],
    ['nothing pending', { authorization: `Bearer ${IDLE_KEY}` }],
    ['reached', {}],
  ];
  const samples = new Map<string, number[]>(cases.map(([name]) => [name, []]));
  for (let i = 0; i < 300; i++) for (const [, headers] of cases) await call('GET', get, undefined, headers); // warm-up
  for (let i = 0; i < READS; i++) for (const [name, headers] of cases) samples.get(name)!.push(await timed(headers));
  const results: Record<string, { p50: number; p99: number }> = Object.fromEntries([...samples].map(([name, ms]) => [name, quantiles(ms)]));
  // A label change immediately before each read: the read waits for the projector.
  const pending: number[] = [];
  let lastLabel = '';
  for (let i = 0; i < READS; i++) {
    lastLabel = `bench ${i}`;
    await call('PUT', `${get}/label`, { label: lastLabel });
    pending.push(await timed({}));
  }
  results['pending write'] = quantiles(pending);
  const final = await call('GET', get, undefined, { 'x-sekha-position': '0:0' });
  if (final.status === 200 && final.body.label !== lastLabel) console.warn('the last read did not see its write');

  const base = results.eventual!;
  console.log(`read-your-writes cost, ${READS} reads per case, one client, store ${redis ? 'redis' : 'in process'}`);
  if (notOk.size) console.log(`  non-200 reads (503 = the projector did not catch up within api.read_wait_default_ms): ${JSON.stringify(Object.fromEntries(notOk))}`);
  for (const [name, r] of Object.entries(results)) {
    console.log(`  ${name.padEnd(16)} p50 ${r.p50.toFixed(3)} ms  p99 ${r.p99.toFixed(3)} ms  (p50 ×${(r.p50 / base.p50).toFixed(2)} of eventual)`);
  }

  await new Promise<void>((r) => http.close(() => r()));
  agent.destroy();
  redis?.disconnect();
  await projections.stop();
  await pools.close();
  await db.drop();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
