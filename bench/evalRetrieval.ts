/**
 * `npm run eval:retrieval [-- --data ../shared/data/locomo/locomo-dev.json] [-- --dump rows.json]`
 * Retrieval quality on LoCoMo: starts the service (embedded Postgres + Chroma + local embedder, fresh
 * DATA_DIR), loads each sample through the API as a client would (one conversation per session, folder
 * /locomo/<sample_id>, the turn's raw text as content — never a "Speaker:" prefix —, the speaker as the
 * message's `name`, `dia_id` in metadata, the session date as timestamp), then asks every question of
 * categories 1–4 with a folder filter and prints recall@5 / recall@10 of the evidence turns for fts,
 * semantic and hybrid: per category, overall, and on each half of the split (conv-26/30/41 and
 * conv-42/43: a change is kept only if it helps both).
 * The service runs on a config file of its own (a raised rate limit: the eval asks thousands of
 * questions); `--set search.neighbour_weight=0` (repeatable) adds settings to it, to measure what each
 * ranking step adds; `--no-names` sends the speaker in metadata instead of as the message's name.
 * `--dump <file>` writes every question with each mode's ranked list and scores, for offline tuning of
 * fusion and re-ranking without reloading (DumpedQuestion in bench/retrievalRecall.ts).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { recallTable, type DumpedQuestion } from './retrievalRecall.js';
import { startBenchService } from './service.js';

const opts = new Command('eval:retrieval')
  .option('--data <path>', 'LoCoMo JSON', '../shared/data/locomo/locomo-dev.json')
  .option('--dump <file>', 'write every question with its evidence and each mode\'s ranked list with scores (JSON) for offline tuning')
  .option('--depth <n>', 'results asked of each mode per question (the dump\'s depth)', (v) => Number(v), 50)
  .option('--concurrency <n>', 'questions asked at once', (v) => Number(v), 4)
  .option('--set <section.key=value>', "a setting of the service's config (repeatable), e.g. search.fusion=rrf", (v: string, all: string[]) => [...all, v], [] as string[])
  .option('--no-names', "send the speaker in metadata, not as the message's name (what names add)")
  .parse()
  .opts<{ data: string; dump?: string; depth: number; concurrency: number; set: string[]; names: boolean }>();

/** The service's own config file: the eval's rate limit, then the `--set` settings (TOML). */
export function evalConfig(settings: readonly string[]): string {
  const sections = new Map<string, string[]>([['api', ['rate_limit_requests = 100000000', 'rate_limit_burst = 100000']]]);
  for (const s of settings) {
    const m = /^([a-z_]+)\.([a-z_0-9]+)=(.*)$/.exec(s);
    if (!m) throw new Error(`--set ${s}: expected section.key=value`);
    const value = /^-?\d+(\.\d+)?$|^(true|false)$/.test(m[3]!) ? m[3]! : JSON.stringify(m[3]);
    sections.set(m[1]!, [...(sections.get(m[1]!) ?? []).filter((l) => !l.startsWith(`${m[2]} =`)), `${m[2]} = ${value}`]);
  }
  return [...sections].map(([name, lines]) => `[${name}]\n${lines.join('\n')}\n`).join('\n');
}

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


async function main() {
  const samples = JSON.parse(await readFile(resolve(opts.data), 'utf8')) as Sample[];
  const dir = await mkdtemp(join(tmpdir(), 'sekha-eval-'));
  const config = join(dir, 'eval.toml');
  await writeFile(config, evalConfig(opts.set));
  const service = await startBenchService({ DATA_DIR: dir, DATABASE_URL: '', CHROMA_URL: '', OLLAMA_URL: '', EMBEDDING_PROVIDER: 'local', SEKHA_CONFIG: config });
  try {
    const started = Date.now();
    let lastPosition = '';
    let loaded = 0;
    for (const s of samples) {
      const c = s.conversation;
      for (let n = 1; Array.isArray(c[`session_${n}`]); n++) {
        const turns = c[`session_${n}`] as Turn[];
        const date = parseSessionDate(String(c[`session_${n}_date_time`]));
        // A shared image's caption is not part of what the participant wrote: a client sends the text.
        const messages = turns.map((t, i) => ({
          role: 'user',
          ...(opts.names ? { name: t.speaker } : {}),
          content: t.text,
          timestamp: new Date(date.getTime() + i * 1000).toISOString(),
          metadata: opts.names ? { dia_id: t.dia_id } : { dia_id: t.dia_id, speaker: t.speaker },
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

    // Each mode ranked `depth` deep (the dump's candidate lists); a few questions in flight at once.
    const asked: Omit<DumpedQuestion, 'lists'>[] = [];
    for (const s of samples) {
      const turnIds = new Set<string>();
      for (let n = 1; Array.isArray(s.conversation[`session_${n}`]); n++) for (const t of s.conversation[`session_${n}`] as Turn[]) turnIds.add(t.dia_id);
      for (const qa of s.qa) {
        if (qa.category < 1 || qa.category > 4) continue;
        const evidence = evidenceIds(qa.evidence).filter((e) => turnIds.has(e)).map((e) => `${s.sample_id}/${e}`);
        if (evidence.length > 0) asked.push({ sample: s.sample_id, question: qa.question, category: qa.category, evidence: [...new Set(evidence)] });
      }
    }
    const rows: DumpedQuestion[] = new Array(asked.length);
    let next = 0;
    let done = 0;
    const worker = async () => {
      for (let i = next++; i < asked.length; i = next++) {
        const q = asked[i]!;
        const lists = {} as DumpedQuestion['lists'];
        for (const mode of MODES) {
          const r = await api(service.url, 'POST', '/api/v1/query', { query: q.question, mode, limit: opts.depth, filters: { folder: `/locomo/${q.sample}` } });
          if (r.degraded) throw new Error(`degraded answer for ${mode}`);
          lists[mode] = r.results.map((x: { score: number; metadata: { dia_id?: string } }) => ({ key: `${q.sample}/${x.metadata.dia_id}`, score: x.score }));
        }
        rows[i] = { ...q, lists };
        if (++done % 100 === 0) process.stderr.write(`asked ${done} of ${asked.length} questions (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
    const table = recallTable(rows, Object.fromEntries(MODES.map((m) => [m, (q: DumpedQuestion) => q.lists[m].map((h) => h.key)])));
    const settings = [...opts.set, ...(opts.names ? [] : ['no names'])].join(', ') || 'defaults';
    process.stdout.write(`\nLoCoMo dev (${samples.map((s) => s.sample_id).join(', ')}), ${loaded} turns, ${rows.length} questions, ${settings}; recall of evidence turns (%):\n${table}\n`);
    if (opts.dump) {
      await writeFile(resolve(opts.dump), JSON.stringify(rows));
      process.stderr.write(`dumped ${rows.length} questions with their ranked lists to ${opts.dump}\n`);
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
