/**
 * `npm run eval:retrieval [-- --data ../shared/data/locomo/locomo-dev.json] [-- --sweep]`
 * Retrieval quality on LoCoMo: starts the service (embedded Postgres + Chroma + local embedder, fresh
 * DATA_DIR), loads each sample through the API (one conversation per session, folder
 * /locomo/<sample_id>, speaker and dia_id in message metadata, the session date as timestamp), then
 * asks every question of categories 1–4 with a folder filter and prints recall@5 / recall@10 of the
 * evidence turns per category and overall for fts, semantic and hybrid.
 * `--sweep` also fuses the fts and semantic lists client-side for a grid of weights (tuning aid).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import pg from 'pg';
import { DEFAULT_FUSION, fuseRankings } from '../src/queries/searchFusion.js';
import { lexicalTopK, searchFilter } from '../src/queries/lexicalTopK.js';
import { startBenchService } from './service.js';

const opts = new Command('eval:retrieval')
  .option('--data <path>', 'LoCoMo JSON', '../shared/data/locomo/locomo-dev.json')
  .option('--sweep', 'also print hybrid recall for a grid of fusion weights')
  .option('--bm25-grid', 'also print fts and hybrid recall for a grid of BM25 k1 and b (SQL against the service database)')
  .option('--dump <file>', 'write every question with its evidence and both ranked lists (JSON) for offline tuning')
  .parse()
  .opts<{ data: string; sweep?: boolean; bm25Grid?: boolean; dump?: string }>();

interface Turn { speaker: string; dia_id: string; text: string; blip_caption?: string }
interface Sample { sample_id: string; conversation: Record<string, unknown>; qa: { question: string; evidence: string[]; category: number }[] }

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

/** "1:56 pm on 8 May, 2023" → a Date (UTC). */
export function parseSessionDate(text: string): Date {
  const m = /(\d{1,2}):(\d{2})\s*(am|pm)\s+on\s+(\d{1,2})\s+([A-Za-z]+),?\s+(\d{4})/i.exec(text);
  if (!m) throw new Error(`unparsable session date: ${text}`);
  const hour = (Number(m[1]) % 12) + (m[3]!.toLowerCase() === 'pm' ? 12 : 0);
  return new Date(Date.UTC(Number(m[6]), MONTHS.indexOf(m[5]!.toLowerCase()), Number(m[4]), hour, Number(m[2])));
}

/** Evidence ids repaired: "D8:6; D9:17" splits, "D:11:26" → "D11:26", "D30:05" → "D30:5". */
export function evidenceIds(raw: string[]): string[] {
  return raw
    .flatMap((e) => e.split(/[;,\s]+/))
    .map((e) => /^D:?(\d+):0*(\d+)$/.exec(e.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => `D${Number(m[1])}:${Number(m[2])}`);
}

async function api(url: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${url}${path}`, { method, headers: body ? { 'content-type': 'application/json' } : {}, ...(body ? { body: JSON.stringify(body) } : {}) });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

const MODES = ['fts', 'semantic', 'hybrid'] as const;
type Mode = (typeof MODES)[number];

async function main() {
  const samples = JSON.parse(await readFile(resolve(opts.data), 'utf8')) as Sample[];
  const dir = await mkdtemp(join(tmpdir(), 'sekha-eval-'));
  const service = await startBenchService({ DATA_DIR: dir, DATABASE_URL: '', CHROMA_URL: '', OLLAMA_URL: '', EMBEDDING_PROVIDER: 'local', SEKHA_API__RATE_LIMIT_REQUESTS: '100000000', SEKHA_API__RATE_LIMIT_BURST: '100000' });
  try {
    const started = Date.now();
    const messageIds = new Map<string, string>(); // message id → "<sample>/<dia_id>"
    let lastPosition = '';
    let loaded = 0;
    for (const s of samples) {
      const c = s.conversation;
      for (let n = 1; Array.isArray(c[`session_${n}`]); n++) {
        const turns = c[`session_${n}`] as Turn[];
        const date = parseSessionDate(String(c[`session_${n}_date_time`]));
        const messages = turns.map((t, i) => ({
          role: 'user',
          content: `${t.speaker}: ${t.text}${t.blip_caption ? ` [shares ${t.blip_caption}]` : ''}`,
          timestamp: new Date(date.getTime() + i * 1000).toISOString(),
          metadata: { speaker: t.speaker, dia_id: t.dia_id },
        }));
        const conv = await api(service.url, 'POST', '/api/v1/conversations', { label: `${s.sample_id} session ${n}`, folder: `/locomo/${s.sample_id}`, messages });
        lastPosition = conv.position;
        loaded += messages.length;
      }
    }
    process.stderr.write(`loaded ${loaded} turns of ${samples.length} samples in ${((Date.now() - started) / 1000).toFixed(1)} s; waiting for vectors…\n`);
    // Read-your-writes: the query waits for the projections to pass the last write; semantic answers
    // degraded until the vectors have caught up.
    for (;;) {
      const r = await api(service.url, 'POST', `/api/v1/query?min_position=${encodeURIComponent(lastPosition)}&wait_ms=10000`, { query: 'hello', mode: 'semantic', limit: 1 }).catch(
        (e: Error) => (/→ 503/.test(e.message) ? { degraded: true } : Promise.reject(e)),
      );
      if (!r.degraded) break;
    }
    process.stderr.write(`searchable after ${((Date.now() - started) / 1000).toFixed(1)} s\n`);

    const hitsFor = (results: { metadata: { dia_id?: string }; conversation_id: string }[], sample: string) =>
      results.map((r) => `${sample}/${r.metadata.dia_id}`);
    type Row = { folder: string; question: string; category: number; evidence: Set<string>; lists: Record<Mode, string[]>; raw: Record<'fts' | 'semantic', { id: string; score: number; key: string }[]> };
    const rows: Row[] = [];
    for (const s of samples) {
      const turnIds = new Set<string>();
      for (let n = 1; Array.isArray(s.conversation[`session_${n}`]); n++) for (const t of s.conversation[`session_${n}`] as Turn[]) turnIds.add(t.dia_id);
      for (const qa of s.qa) {
        if (qa.category < 1 || qa.category > 4) continue;
        const evidence = new Set(evidenceIds(qa.evidence).filter((e) => turnIds.has(e)).map((e) => `${s.sample_id}/${e}`));
        if (evidence.size === 0) continue;
        const lists = {} as Row['lists'];
        const raw = {} as Row['raw'];
        for (const mode of MODES) {
          const r = await api(service.url, 'POST', '/api/v1/query', { query: qa.question, mode, limit: mode === 'hybrid' ? 10 : 50, filters: { folder: `/locomo/${s.sample_id}` } });
          if (r.degraded) throw new Error(`degraded answer for ${mode}`);
          lists[mode] = hitsFor(r.results, s.sample_id);
          if (mode !== 'hybrid') raw[mode] = r.results.map((x: any) => ({ id: x.message_id, score: x.score, key: `${s.sample_id}/${x.metadata.dia_id}` }));
          for (const x of r.results) messageIds.set(x.message_id, `${s.sample_id}/${x.metadata.dia_id}`);
        }
        rows.push({ folder: `/locomo/${s.sample_id}`, question: qa.question, category: qa.category, evidence, lists, raw });
      }
    }
    const recall = (list: string[], evidence: Set<string>, k: number) => list.slice(0, k).filter((id) => evidence.has(id)).length / evidence.size;
    const pct = (x: number) => `${(100 * x).toFixed(1)}`.padStart(5);
    const groups: [string, (r: Row) => boolean][] = [
      ...[1, 2, 3, 4].map((c): [string, (r: Row) => boolean] => [`cat ${c} ${['', 'multi-hop', 'temporal', 'open-domain', 'single-hop'][c]}`, (r) => r.category === c]),
      ['overall 1-4', () => true],
    ];
    const lines = ['| group | n | fts R@5 | fts R@10 | semantic R@5 | semantic R@10 | hybrid R@5 | hybrid R@10 |', '|---|---|---|---|---|---|---|---|'];
    for (const [name, pick] of groups) {
      const g = rows.filter(pick);
      const mean = (mode: Mode, k: number) => g.reduce((a, r) => a + recall(r.lists[mode], r.evidence, k), 0) / Math.max(g.length, 1);
      lines.push(`| ${name} | ${g.length} | ${MODES.map((m) => `${pct(mean(m, 5))} | ${pct(mean(m, 10))}`).join(' | ')} |`);
    }
    process.stdout.write(`\nLoCoMo dev (${samples.map((s) => s.sample_id).join(', ')}), ${loaded} turns, recall of evidence turns (%):\n${lines.join('\n')}\n`);

    if (opts.dump) {
      const dump = rows.map((r) => ({ category: r.category, evidence: [...r.evidence], fts: r.raw.fts, semantic: r.raw.semantic, hybrid: r.lists.hybrid }));
      await writeFile(resolve(opts.dump), JSON.stringify(dump));
    }
    if (opts.bm25Grid) {
      // The same BM25 SQL the query route runs, with other k1 and b, straight against the service's database.
      const client = new pg.Pool({ connectionString: service.databaseUrl, max: 2 });
      client.on('error', () => {}); // the service stopping ends the connection; queries report their own errors
      const keys = await client.query<{ id: string; key: string }>(`select m.id::text as id, substr(c.folder, length('/locomo/') + 1) || '/' || (m.metadata->>'dia_id') as key from messages m join conversations c on c.id = m.conversation_id`);
      for (const { id, key } of keys.rows) messageIds.set(id, key);
      const fusion = DEFAULT_FUSION['energetic-ai/use-lite-en']!;
      // Two halves of the samples: parameters that win on both are not tuned to one conversation.
      const half = (r: Row) => (samples.findIndex((x) => r.folder === `/locomo/${x.sample_id}`) < 3 ? 0 : 1);
      process.stdout.write(`\nBM25 grid, R@5 (overall 1-4 | samples 1-3 | samples 4-5); hybrid fuses with the semantic lists above (semantic ${fusion.semantic}, k ${fusion.k}):\n`);
      try {
        for (const k1 of [0.4, 0.6, 0.9, 1.2]) {
          for (const b of [0.1, 0.2, 0.3, 0.5, 0.75]) {
            const sums = [0, 0, 0].map(() => ({ f5: 0, h5: 0, h10: 0, n: 0 }));
            for (const r of rows) {
              const lexical = (await lexicalTopK(client, { query: r.question, filter: searchFilter({ folder: r.folder }), scope: { folder: r.folder }, k: 50, params: { k1, b } }))._unsafeUnwrap().hits;
              const fused = fuseRankings(r.raw.semantic, lexical, fusion).map((h) => messageIds.get(h.id)!);
              for (const g of [sums[0]!, sums[1 + half(r)]!]) {
                g.f5 += recall(lexical.map((h) => messageIds.get(h.id)!), r.evidence, 5);
                g.h5 += recall(fused, r.evidence, 5);
                g.h10 += recall(fused, r.evidence, 10);
                g.n++;
              }
            }
            const cell = (g: (typeof sums)[number]) => `fts ${pct(g.f5 / g.n)} hybrid ${pct(g.h5 / g.n)} (@10 ${pct(g.h10 / g.n)})`;
            process.stdout.write(`  k1=${k1} b=${b}: ${sums.map(cell).join(' | ')}\n`);
          }
        }
      } finally {
        await client.end();
      }
    }
    if (opts.sweep) {
      process.stdout.write('\nclient-side fusion sweep (overall 1-4, R@5 / R@10):\n');
      for (const semantic of [0, 0.2, 0.35, 0.5, 0.75, 1]) {
        for (const k of [10, 30, 60]) {
          let r5 = 0;
          let r10 = 0;
          for (const r of rows) {
            const fused = fuseRankings(r.raw.semantic, r.raw.fts, { semantic, lexical: 1, k }).map((h) => messageIds.get(h.id)!);
            r5 += recall(fused, r.evidence, 5);
            r10 += recall(fused, r.evidence, 10);
          }
          process.stdout.write(`  semantic=${semantic} lexical=1 k=${k}: ${pct(r5 / rows.length)} / ${pct(r10 / rows.length)}\n`);
        }
      }
    }
  } catch (e) {
    process.stderr.write(`the service's last output:\n${service.output().slice(-4000)}\n`);
    throw e;
  } finally {
    await service.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
