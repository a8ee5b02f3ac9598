/**
 * `npx tsx bench/readPath.ts <service-url> [--seconds N] [--passes N] [--seed N]`: the read path's
 * rows (bench/readRows.ts) against a running service, one client, each row for N seconds, in
 * several passes (the first warms caches): p50/p95/p99 per row and pass. For A/B runs of two
 * builds on one kept corpus (an API-only service on its data dir), interleaved.
 */
import { Command } from 'commander';
import { readRows } from './readRows.js';
import { runLoad } from './runLoad.js';

const program = new Command()
  .argument('<url>', 'service URL, e.g. http://127.0.0.1:8080')
  .option('--seconds <n>', 'seconds per row and pass', '10')
  .option('--passes <n>', 'passes over the rows', '2')
  .option('--seed <n>', 'corpus seed', '42')
  .parse();
const [url] = program.args as [string];
const opts = program.opts<{ seconds: string; passes: string; seed: string }>();
for (let pass = 1; pass <= Number(opts.passes); pass++) {
  for (const { name, requests } of readRows(Number(opts.seed))) {
    const r = await runLoad({ url, connections: 1, durationSeconds: Number(opts.seconds), requests });
    process.stdout.write(`pass ${pass} ${name.padEnd(24)} n ${String(r.requests).padStart(5)} p50 ${r.p50} p95 ${r.p95} p99 ${r.p99} ms non2xx ${r.non2xx + r.errors}\n`);
  }
}
