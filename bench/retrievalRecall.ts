/** Recall of LoCoMo evidence turns, per category, overall and per half of the dev split (eval and offline tuning share it). */

/** The fixed split: a ranking change is kept only if it raises recall on both halves. */
export const FIRST_HALF = new Set(['conv-26', 'conv-30', 'conv-41']);

export interface JudgedQuestion {
  sample: string;
  category: number;
  /** "<sample>/<dia_id>" of the evidence turns. */
  evidence: string[];
}

/** A question as `eval:retrieval --dump` writes it: its evidence and each mode's ranked list ("<sample>/<dia_id>" with score). */
export interface DumpedQuestion extends JudgedQuestion {
  question: string;
  lists: Record<'fts' | 'semantic' | 'hybrid', { key: string; score: number }[]>;
}

/** Share of a question's evidence among the first k of a ranked list of "<sample>/<dia_id>" keys. */
export function recallAt(list: readonly string[], evidence: readonly string[], k: number): number {
  const top = new Set(list.slice(0, k));
  return evidence.filter((e) => top.has(e)).length / evidence.length;
}

const CATEGORY = ['', 'multi-hop', 'temporal', 'open-domain', 'single-hop'];

/** The groups the report has rows for: each category, overall, each half. */
export const GROUPS: [string, (q: JudgedQuestion) => boolean][] = [
  ...[1, 2, 3, 4].map((c): [string, (q: JudgedQuestion) => boolean] => [`cat ${c} ${CATEGORY[c]}`, (q) => q.category === c]),
  ['overall 1-4', () => true],
  ['half A (conv-26/30/41)', (q) => FIRST_HALF.has(q.sample)],
  ['half B (conv-42/43)', (q) => !FIRST_HALF.has(q.sample)],
];

/** Mean recall@k of each group for one ranking per question. */
export function groupRecall<Q extends JudgedQuestion>(questions: readonly Q[], ranked: (q: Q) => readonly string[], k: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, pick] of GROUPS) {
    const g = questions.filter(pick);
    out.set(name, g.reduce((a, q) => a + recallAt(ranked(q), q.evidence, k), 0) / Math.max(g.length, 1));
  }
  return out;
}

export const pct = (x: number) => `${(100 * x).toFixed(1)}`.padStart(5);

/** A markdown table: one row per group, R@5 and R@10 for each named ranking. */
export function recallTable<Q extends JudgedQuestion>(questions: readonly Q[], rankings: Record<string, (q: Q) => readonly string[]>): string {
  const names = Object.keys(rankings);
  const at = Object.fromEntries(names.map((n) => [n, [groupRecall(questions, rankings[n]!, 5), groupRecall(questions, rankings[n]!, 10)]]));
  const lines = [
    `| group | n | ${names.map((n) => `${n} R@5 | ${n} R@10`).join(' | ')} |`,
    `|---|---|${names.map(() => '---|---|').join('')}`,
  ];
  for (const [name, pick] of GROUPS) {
    lines.push(`| ${name} | ${questions.filter(pick).length} | ${names.map((n) => `${pct(at[n]![0]!.get(name)!)} | ${pct(at[n]![1]!.get(name)!)}`).join(' | ')} |`);
  }
  return lines.join('\n');
}
