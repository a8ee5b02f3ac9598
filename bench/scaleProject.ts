/**
 * `npx tsx bench/scaleProject.ts <database-url> [projection…]`: runs the named projections (default
 * read-model and lexical-stats) over a database's event log until each has caught up, and prints
 * each one's time and events/s. For databases seeded in bulk by bench/scaleSeed.ts.
 */
import pg from 'pg';
import { createLogger } from '../src/logger.js';
import { createProjectionRuntime } from '../src/projections/index.js';
import { readModelDefinition } from '../src/projections/readModel/index.js';
import { lexicalStatsDefinition } from '../src/projections/lexicalStats.js';

const [url, ...names] = process.argv.slice(2);
if (!url) throw new Error('usage: scaleProject.ts <database-url> [projection…]');
const all = [readModelDefinition, lexicalStatsDefinition];
const definitions = names.length > 0 ? all.filter((d) => names.includes(d.name)) : all;
const pool = new pg.Pool({ connectionString: url, max: 8 });
const head = Number((await pool.query<{ n: string }>('select coalesce(max(global_position), 0) as n from events')).rows[0]!.n);
const runtime = createProjectionRuntime({ pool, url, logger: createLogger('warn'), batchSize: 1000, pollIntervalMs: 200, lease: false }, definitions);
const started = performance.now();
await runtime.start();
const done = new Map<string, number>();
while (done.size < definitions.length) {
  const { rows } = await pool.query<{ name: string; global_position: string }>(`select name, global_position from projection_checkpoints where state = 'live'`);
  for (const r of rows) {
    if (!done.has(r.name) && Number(r.global_position) >= head) {
      done.set(r.name, (performance.now() - started) / 1000);
      process.stdout.write(`${r.name}: ${head} events in ${done.get(r.name)!.toFixed(1)} s (${Math.round(head / done.get(r.name)!)} events/s)\n`);
    }
  }
  process.stdout.write(`${((performance.now() - started) / 1000).toFixed(0)} s: ${rows.map((r) => `${r.name} ${r.global_position}/${head}`).join(', ')}\n`);
  await new Promise((r) => setTimeout(r, 5000));
}
await runtime.stop();
await pool.end();
