/**
 * `npx tsx bench/appendBaselines.ts [--seconds 5] [--patch bench/results/<run>.json]`
 * The append comparison of `npm run bench` on its own: ours, raw batched INSERTs and the peer (Emmett),
 * 1- and 10-event commands, 1 and 16 writers, on a fresh database of an embedded PostgreSQL (the
 * bench's server) or DATABASE_URL's. The appends do not depend on the corpus (each runs in an empty
 * database of its own), so `--patch` writes these numbers into every corpus of a result and notes it.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { appendBaselines, peerBaseline } from './baselines.js';
import { benchDatabase } from './database.js';
import type { BenchReport } from './report.js';

const opts = new Command('appendBaselines')
  .option('--seconds <n>', 'seconds per case', '5')
  .option('--patch <file>', 'a bench result whose append numbers these replace')
  .parse()
  .opts<{ seconds: string; patch?: string }>();

const database = await benchDatabase('append');
try {
  const append = await appendBaselines(database.url, Number(opts.seconds));
  const peer = await peerBaseline(database.url, Number(opts.seconds), 1000);
  process.stdout.write(`${JSON.stringify({ ours: append.ours, rawInsert: append.rawInsert, peer: peer.append }, null, 2)}\n`);
  if (opts.patch) {
    const report = JSON.parse(await readFile(opts.patch, 'utf8')) as BenchReport;
    for (const size of report.sizes) {
      size.append = append;
      size.peer = { ...size.peer, append: peer.append };
    }
    report.notes = [
      ...(report.notes ?? []),
      `Append rows, with the peer, re-measured on ${new Date().toISOString().slice(0, 10)} with \`npx tsx bench/appendBaselines.ts --seconds ${opts.seconds} --patch\` in a fresh ${database.embedded ? 'embedded PostgreSQL 17' : 'DATABASE_URL'} database; appends do not depend on the corpus, so each corpus shows these numbers.`,
    ];
    await writeFile(opts.patch, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`patched ${opts.patch}\n`);
  }
} finally {
  await database.drop();
}
