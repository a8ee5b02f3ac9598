/**
 * `npx tsx bench/scaleQuery.ts <database-url> [--fts] [k…]`: times the lexical top-k (src/queries/lexicalTopK.ts)
 * for the bench's queries straight against a database (no HTTP), one client, and prints p50/p95
 * with the work each query did (postings read, messages resolved, rounds). By default as hybrid
 * search and context assembly ask (the query's words, archived conversations left out); with --fts
 * as full-text search asks (web-search syntax, every conversation).
 */
import { Command } from 'commander';
import pg from 'pg';
import { queryAt } from './corpus.js';
import { summarize } from './stats.js';
import { lexicalTopK } from '../src/queries/lexicalTopK.js';

const program = new Command()
  .argument('<database-url>')
  .argument('[k...]', 'k values (default: 10 50 100)')
  .option('--fts', 'as full-text search asks: web-search syntax, every conversation')
  .parse();
const [url, ks = []] = program.processedArgs as [string, string[] | undefined];
const { fts } = program.opts<{ fts?: boolean }>();
const pool = new pg.Pool({ connectionString: url, max: 2 });
const params = { k1: 0.9, b: 0.3 };
for (const k of (ks.length ? ks : ['10', '50', '100']).map(Number)) {
  const samples: number[] = [];
  const work: string[] = [];
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 20; i++) {
      const query = queryAt(42, i);
      const started = performance.now();
      const r = (await lexicalTopK(pool, fts ? { query, syntax: 'websearch', filter: { status: 'any' }, k, params } : { query, filter: { status: 'active' }, k, params }))._unsafeUnwrap();
      samples.push(performance.now() - started);
      if (round === 2) work.push(`${query}: ${r.path} read ${r.postingsRead} resolved ${r.resolved} rounds ${r.rounds} ${(performance.now() - started).toFixed(1)} ms`);
    }
  }
  const s = summarize(samples);
  process.stdout.write(`k ${k}: p50 ${s.p50.toFixed(1)} ms p95 ${s.p95.toFixed(1)} ms (n ${s.n})\n  ${work.join('\n  ')}\n`);
}
await pool.end();
