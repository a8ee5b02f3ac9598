/**
 * Audit query latency at N events (default 1,000,000).
 * Run: npx tsx bench/audit.ts [events]   (uses DATABASE_URL's server, else an embedded PostgreSQL)
 */
import { stringify } from 'smol-toml';
import { resolveConfig } from '../src/config/load.js';
import { benchDatabase } from './database.js';
import { migrate } from '../src/db/migrate.js';
import { createPools } from '../src/db/pools.js';
import { createEventStore } from '../src/eventstore/index.js';
import { createApp } from '../src/app/createApp.js';
import { createLogger } from '../src/logger.js';
import { summarize, timeRuns } from './stats.js';

const total = Number(process.argv[2] ?? 1_000_000);
const database = await benchDatabase('audit');
const embedded = database.embedded;
const url = database.url;

try {
  const config = resolveConfig(stringify({ log_level: 'silent', database: { url } }), {})._unsafeUnwrap();
  const pools = createPools(url, undefined, config.database);
  await migrate(pools.write);
  const started = performance.now();
  // 10,000 conversations of events; 5 actors; 4 event types; created_at spread over 100 days.
  const chunk = 100_000;
  for (let from = 0; from < total; from += chunk) {
    await pools.write.query(
      `insert into events (stream_id, stream_version, event_id, type, data, metadata, created_at)
       select 'conversation-' || md5((g / 100)::text)::uuid, (g % 100) + 1, gen_random_uuid(),
              (array['ConversationStarted','MessagesAppended','ConversationLabeled','ImportanceSet'])[1 + (g % 4)],
              jsonb_build_object('n', g), jsonb_build_object('actor', 'key-' || (g % 5), 'request_id', md5(g::text)),
              now() - interval '100 days' + (g * interval '100 days' / $2::int)
         from generate_series($1::int, $1::int + $3::int - 1) g`,
      [from, total, Math.min(chunk, total - from)],
    );
    process.stdout.write(`\rseeded ${Math.min(from + chunk, total)} / ${total}`);
  }
  await pools.write.query('analyze events');
  console.log(`\nseeded ${total} events in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const app = createApp({ config, pools, store: createEventStore(pools.write), logger: createLogger('silent'), clock: () => new Date(), startedAt: new Date(), version: 'bench' });
  const get = async (path: string) => {
    const res = await app.request(path);
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
    await res.arrayBuffer();
  };
  const streamIds = (await pools.read.query<{ stream_id: string }>('select distinct stream_id from events limit 200')).rows.map((r) => r.stream_id);
  const cases: [string, (i: number) => string][] = [
    ['first page, no filter', () => '/api/v1/audit/events?limit=100'],
    ['deep keyset page', (i) => `/api/v1/audit/events?limit=100&after_position=${Math.floor(((i * 7919) % 100) / 100 * total)}`],
    ['by type', () => '/api/v1/audit/events?type=ConversationLabeled&limit=100'],
    ['by actor, deep', (i) => `/api/v1/audit/events?actor=key-3&limit=100&after_position=${Math.floor(((i * 7919) % 100) / 100 * total)}`],
    ['by stream', (i) => `/api/v1/audit/events?stream=${streamIds[i % streamIds.length]!}&limit=100`],
    ['time range (one day)', (i) => `/api/v1/audit/events?from=${new Date(Date.now() - ((i % 90) + 2) * 86_400_000).toISOString()}&to=${new Date(Date.now() - ((i % 90) + 1) * 86_400_000).toISOString()}&limit=100`],
    ['conversation events', (i) => `/api/v1/conversations/${streamIds[i % streamIds.length]!.slice('conversation-'.length)}/events?limit=100`],
  ];
  console.log(`audit query latency at ${total} events (ms, 200 runs each, in-process app.request):`);
  for (const [label, path] of cases) {
    const runs = await timeRuns(200, (i) => get(path(i)));
    console.log(`  ${label.padEnd(24)} ${JSON.stringify(summarize(runs))}`);
  }
  await pools.close();
} finally {
  await database.drop();
}
