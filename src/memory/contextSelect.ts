/** A message that may go into a context window, with what scoring needs. */
export interface ContextCandidate {
  message_id: string;
  conversation_id: string;
  seq: number;
  role: string;
  /** The participant's name, when the message has one. */
  name?: string | null;
  content: string;
  metadata: Record<string, unknown>;
  timestamp: string;
  label: string;
  folder: string;
  status: string;
  importance_score: number;
  /** Relevance to the query in [0, 1]; 0 for candidates that came from pins or preferred labels only. */
  similarity: number;
  /** Tokens this message costs (gpt-tokenizer, with per-message overhead). */
  tokens: number;
}

export interface ContextWeights {
  similarity: number;
  importance: number;
  recency: number;
  label: number;
  half_life_days: number;
}

export interface SelectOptions {
  budget: number;
  preferredLabels: readonly string[];
  excludedFolders: readonly string[];
  now: Date;
  weights: ContextWeights;
}

/** Whether `folder` is `prefix` or under it ("/a" covers "/a/b", not "/ab"). */
export const underFolder = (folder: string, prefix: string): boolean => {
  const p = prefix.length > 1 ? prefix.replace(/\/+$/, '') : prefix;
  return p === '/' || folder === p || folder.startsWith(`${p}/`);
};

/** Halves every `half_life_days`: 1 now, 0.5 one half-life ago; future times count as now. */
export const recency = (timestamp: string, now: Date, halfLifeDays: number): number =>
  Math.pow(0.5, Math.max(0, now.getTime() - Date.parse(timestamp)) / 86_400_000 / halfLifeDays);

/** The score of a candidate: weighted similarity, importance (1–10 → 0–1), recency and label preference. */
export function scoreCandidate(c: ContextCandidate, o: Pick<SelectOptions, 'preferredLabels' | 'now' | 'weights'>): number {
  const w = o.weights;
  return (
    w.similarity * c.similarity +
    w.importance * ((c.importance_score - 1) / 9) +
    w.recency * recency(c.timestamp, o.now, w.half_life_days) +
    w.label * (o.preferredLabels.includes(c.label) ? 1 : 0)
  );
}

export interface Selection {
  messages: (ContextCandidate & { score: number })[];
  tokens: number;
  conversations: number;
}

/**
 * Chooses messages for a context window. Pure. Leaves out archived/deleted conversations and excluded
 * folders, removes duplicates, takes the best-scored messages that still fit (greedy with skipping: when
 * it ends, nothing left fits, so the budget is as full as single messages allow), never exceeds the budget.
 * Conversations come best first; a conversation's messages keep their original order.
 * Ties go to preferred labels, then newer messages.
 */
export function selectContext(candidates: readonly ContextCandidate[], o: SelectOptions): Selection {
  const unique = new Map<string, ContextCandidate>();
  for (const c of candidates) {
    if (c.status !== 'active' || o.excludedFolders.some((f) => underFolder(c.folder, f))) continue;
    const seen = unique.get(c.message_id);
    if (!seen || c.similarity > seen.similarity) unique.set(c.message_id, c);
  }
  const preferred = (c: ContextCandidate) => (o.preferredLabels.includes(c.label) ? 1 : 0);
  const scored = [...unique.values()]
    .map((c) => ({ ...c, score: scoreCandidate(c, o) }))
    .sort((a, b) => b.score - a.score || preferred(b) - preferred(a) || Date.parse(b.timestamp) - Date.parse(a.timestamp) || (a.message_id < b.message_id ? -1 : 1));
  let left = o.budget;
  const chosen: typeof scored = [];
  for (const c of scored) {
    if (c.tokens <= left) {
      chosen.push(c);
      left -= c.tokens;
    }
  }
  const best = new Map<string, number>();
  for (const c of chosen) best.set(c.conversation_id, Math.max(best.get(c.conversation_id) ?? -Infinity, c.score));
  chosen.sort((a, b) => (a.conversation_id === b.conversation_id ? a.seq - b.seq : best.get(b.conversation_id)! - best.get(a.conversation_id)! || (a.conversation_id < b.conversation_id ? -1 : 1)));
  return { messages: chosen, tokens: o.budget - left, conversations: best.size };
}
