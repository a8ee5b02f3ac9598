/**
 * `npx tsx bench/placementCost.ts <database-url>`: times neighbour smoothing's lookup (rankMessages'
 * placements query: 100 candidate ids by primary key) on a database seeded by bench/scaleSeed.ts and
 * projected by bench/scaleProject.ts, one client, 60 samples.
 */
import pg from 'pg';
const pool = new pg.Pool({ connectionString: process.argv[2], max: 1 });
const { rows: [{ n }] } = await pool.query('select count(*)::int as n from messages');
const times: number[] = [];
for (let i = 0; i < 60; i++) {
  const { rows } = await pool.query<{ id: string }>('select id::text as id from rm_v1_messages tablesample system (0.05) limit 100');
  const t = performance.now();
  await pool.query('select id::text as id, conversation_id::text as conversation_id, seq from messages where id = any($1::uuid[])', [rows.map((r) => r.id)]);
  times.push(performance.now() - t);
}
times.sort((a, b) => a - b);
console.log(`messages ${n}: placements of 100 candidates p50 ${times[30]!.toFixed(2)} ms p95 ${times[56]!.toFixed(2)} ms`);
await pool.end();
