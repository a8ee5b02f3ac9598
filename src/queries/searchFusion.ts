import { byScoreThenId } from '../util/rank.js';

/** A ranked list of ids from one retriever, best first. */
export type Ranking = readonly { id: string; score: number }[];

export interface FusionWeights {
  semantic: number;
  lexical: number;
  /** The RRF constant: larger flattens the rank curve. */
  k: number;
}

/**
 * Hybrid fusion weights per embedding model. The offline 512-d model is weak on question → turn
 * matching (recall@5 ≈ 25% on LoCoMo against ≈ 55% for BM25), so its vote counts less: measured
 * with `npm run eval:retrieval`, these keep hybrid at least as good as its best part.
 */
export const DEFAULT_FUSION: Record<string, FusionWeights> = {
  // LoCoMo dev loaded as a client would, categories 1–4, recall@5 (eval:retrieval): BM25 over name, text
  // and day 58.1, this model over "name: text" 29.2; convex fusion with a semantic share of 0.3
  // (0.3 / (0.3 + 0.7)), then neighbour smoothing, 63.3 (share 0.2: 62.8, 0.4: 62.6, offline on the
  // same lists). k is RRF's (fusion = "rrf").
  'energetic-ai/use-lite-en': { semantic: 0.3, lexical: 0.7, k: 10 },
};
export const FALLBACK_FUSION: FusionWeights = { semantic: 1, lexical: 1, k: 60 };

/** Weighted reciprocal rank fusion (pure): each list adds weight / (k + rank). Best first. */
export function fuseRankings(semantic: Ranking, lexical: Ranking, w: FusionWeights): { id: string; score: number }[] {
  const scores = new Map<string, number>();
  const add = (list: Ranking, weight: number) =>
    list.forEach((hit, i) => scores.set(hit.id, (scores.get(hit.id) ?? 0) + weight / (w.k + i + 1)));
  add(semantic, w.semantic);
  add(lexical, w.lexical);
  return [...scores].map(([id, score]) => ({ id, score })).sort(byScoreThenId);
}

/** Scores over a list scaled to [0, 1]: by the best (BM25, whose zero means no match) or min–max (cosine). */
function normalised(list: Ranking, how: 'max' | 'minmax'): Map<string, number> {
  let lo = Infinity;
  let hi = -Infinity;
  for (const h of list) {
    lo = Math.min(lo, h.score);
    hi = Math.max(hi, h.score);
  }
  if (how === 'max') lo = 0;
  return new Map(list.map((h) => [h.id, hi > lo ? (h.score - lo) / (hi - lo) : 1]));
}

/**
 * Convex fusion (pure): semantic·s + lexical·l over scores normalised per list (cosine min–max, BM25 by
 * its best), weights as shares of their sum; a message one list missed gets 0 from it. Best first.
 * Unlike reciprocal ranks it keeps how far apart the scores are: a clear BM25 winner stays ahead.
 */
export function fuseScores(semantic: Ranking, lexical: Ranking, w: FusionWeights): { id: string; score: number }[] {
  const total = w.semantic + w.lexical || 1;
  const scores = new Map<string, number>();
  const add = (list: Map<string, number>, weight: number) => {
    for (const [id, s] of list) scores.set(id, (scores.get(id) ?? 0) + (weight / total) * s);
  };
  add(normalised(semantic, 'minmax'), w.semantic);
  add(normalised(lexical, 'max'), w.lexical);
  return [...scores].map(([id, score]) => ({ id, score })).sort(byScoreThenId);
}

/** The weights of a model: configured (`[search] hybrid_weights`), else built in, else 1, 1 and k = 60. */
export function fusionFor(
  model: string | undefined,
  search: { rrf_k?: number | undefined; hybrid_weights: Record<string, { semantic: number; lexical: number; k?: number | undefined }> },
): FusionWeights {
  const configured = model !== undefined ? search.hybrid_weights[model] : undefined;
  const builtIn = (model !== undefined && DEFAULT_FUSION[model]) || FALLBACK_FUSION;
  const w = configured ?? builtIn;
  // k: the model's own, else [search] rrf_k, else the built-in one.
  return { semantic: w.semantic, lexical: w.lexical, k: configured?.k ?? search.rrf_k ?? builtIn.k };
}
