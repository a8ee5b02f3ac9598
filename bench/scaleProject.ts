/**
 * `npx tsx bench/scaleProject.ts <database-url> [--rebuild] [--batch N] [--k1 K1 --b B] [projection…]`: runs the named
 * projections (default read-model and lexical-stats) over a database's event log until each has
 * caught up, and prints each one's time and events/s. With --rebuild it then rebuilds each one
 * blue/green, as `npm run replay` does, and prints the catch-up and the switch apart. For databases
 * seeded in bulk by bench/scaleSeed.ts.
 */
import { Command } from 'commander';
import pg from 'pg';
import { migrate } from '../src/db/migrate.js';
import { createLogger } from '../src/logger.js';
import { createProjectionRuntime } from '../src/projections/index.js';
import { readModelDefinition } from '../src/projections/readModel/index.js';
import { lexicalStatsProjection } from '../src/projections/lexicalStats.js';

const program = new Command()
  .argument('<database-url>')
  .argument('[projection...]', 'read-model, lexical-stats (default: both)')
  .option('--rebuild', 'then rebuild each blue/green and time it')
  .option('--batch <n>', 'events per projector batch (the service default)', '500')
  .option('--k1 <k1>', 'BM25 k1 the lexical postings are ordered under (as [search] bm25_k1)', '0.9')
  .option('--b <b>', 'BM25 b the lexical postings are ordered under (as [search] bm25_b)', '0.3')
  .parse();
const [url, names = []] = program.processedArgs as [string, string[] | undefined];
const { rebuild, batch, k1, b } = program.opts<{ rebuild?: boolean; batch: string; k1: string; b: string }>();
const batchSize = Number(batch);
const all = [readModelDefinition, lexicalStatsProjection({ k1: Number(k1), b: Number(b) })];
const definitions = names.length > 0 ? all.filter((d) => names.includes(d.name)) : all;
const pool = new pg.Pool({ connectionString: url, max: 8 });
// As the service does at start: a database seeded by an older build lacks the newer tables.
await migrate(pool);
const head = Number((await pool.query<{ n: string }>('select coalesce(max(global_position), 0) as n from events')).rows[0]!.n);
const runtime = createProjectionRuntime({ pool, url, logger: createLogger('warn'), batchSize, pollIntervalMs: 200, lease: false }, definitions);
const started = performance.now();
await runtime.start();
const done = new Map<string, number>();
while (done.size < definitions.length) {
  const { rows } = await pool.query<{ name: string; global_position: string }>(`select name, global_position from projection_checkpoints where state = 'live'`);
  for (const r of rows) {
    if (definitions.some((d) => d.name === r.name) && !done.has(r.name) && Number(r.global_position) >= head) {
      done.set(r.name, (performance.now() - started) / 1000);
      process.stdout.write(`${r.name}: ${head} events in ${done.get(r.name)!.toFixed(1)} s (${Math.round(head / done.get(r.name)!)} events/s)\n`);
    }
  }
  process.stdout.write(`${((performance.now() - started) / 1000).toFixed(0)} s: ${rows.map((r) => `${r.name} ${r.global_position}/${head}`).join(', ')}\n`);
  await new Promise((r) => setTimeout(r, 5000));
}
if (rebuild) {
  for (const definition of definitions) {
    const started = performance.now();
    const { version } = await runtime.rebuild(definition.name);
    let caughtUp: number | undefined;
    for (;;) {
      const { rows } = await pool.query<{ state: string; global_position: string }>(
        `select state, global_position from projection_checkpoints where name = $1 and version = $2`, [definition.name, version]);
      const row = rows[0];
      if (caughtUp === undefined && row && Number(row.global_position) >= head) caughtUp = (performance.now() - started) / 1000;
      if (row?.state === 'live') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(`${definition.name} rebuilt (v${version}): ${head} events, caught up in ${caughtUp?.toFixed(1)} s, live after ${seconds.toFixed(1)} s (${Math.round(head / seconds)} events/s)\n`);
  }
}
await runtime.stop();
await pool.end();
