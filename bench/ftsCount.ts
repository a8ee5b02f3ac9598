/**
 * `npx tsx bench/ftsCount.ts <database-url> [probe-cost…]`: times the full-text count up to the cap
 * (src/queries/ftsCount.ts) for the bench's queries straight against a database, one client: the
 * service's count at each probe cost given (default: the service's), interleaved with the count
 * through the GIN index (a probe cost so high that only a rarest term of at most 64 postings is
 * walked: none of the bench's), and prints p50/p95 with each query's path and document frequencies.
 */
import pg from 'pg';
import { queryAt } from './corpus.js';
import { summarize } from './stats.js';
import { ftsCountSql, PROBE_COST } from '../src/queries/ftsCount.js';

const [url, ...costs] = process.argv.slice(2);
if (!url) throw new Error('usage: ftsCount.ts <database-url> [probe-cost…]');
const pool = new pg.Pool({ connectionString: url, max: 1 });
const INDEX_ONLY = Number.MAX_SAFE_INTEGER;
const variants = [...(costs.length ? costs.map(Number) : [PROBE_COST]), INDEX_ONLY];
const samples = new Map<number, number[]>(variants.map((v) => [v, []]));
const detail = new Map<string, string[]>();
const UP_TO = 1000;
for (let round = 0; round < 4; round++) {
  for (let i = 0; i < 20; i++) {
    const query = queryAt(42, i);
    for (const cost of variants) {
      const sql = ftsCountSql({ status: 'any' }, query, UP_TO, cost);
      const started = performance.now();
      const row = (await pool.query<{ n: number; path: string }>(sql.text, sql.values)).rows[0]!;
      const ms = performance.now() - started;
      // The first round warms the caches.
      if (round > 0) samples.get(cost)!.push(ms);
      if (round === 3) detail.set(query, [...(detail.get(query) ?? []), `${cost === INDEX_ONLY ? 'index' : `cost ${cost}`}: ${row.n} ${row.path} ${ms.toFixed(1)} ms`]);
    }
  }
}
const dfs = await pool.query<{ term: string; df: number }>(
  `select t.lexeme as term, coalesce(lt.df, 0) as df from unnest(to_tsvector('english', $1)) as t left join lexical_terms lt on lt.term = t.lexeme order by 2`,
  [[...detail.keys()].join(' ')],
);
process.stdout.write(`document frequencies: ${dfs.rows.map((r) => `${r.term} ${r.df}`).join(', ')}\n`);
for (const [query, lines] of detail) process.stdout.write(`${query}: ${lines.join(' | ')}\n`);
for (const cost of variants) {
  const s = summarize(samples.get(cost)!);
  process.stdout.write(`${cost === INDEX_ONLY ? 'index only' : `probe cost ${cost}`}: p50 ${s.p50.toFixed(1)} ms p95 ${s.p95.toFixed(1)} ms (n ${s.n})\n`);
}
await pool.end();
