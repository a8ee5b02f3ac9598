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
  // LoCoMo dev, categories 1–4, recall@5: BM25 53.7, this model 29.0, fused 54.4 (sweep: eval:retrieval --sweep).
  'energetic-ai/use-lite-en': { semantic: 0.4, lexical: 1, k: 20 },
};
export const FALLBACK_FUSION: FusionWeights = { semantic: 1, lexical: 1, k: 60 };

/** Weighted reciprocal rank fusion (pure): each list adds weight / (k + rank). Best first. */
export function fuseRankings(semantic: Ranking, lexical: Ranking, w: FusionWeights): { id: string; score: number }[] {
  const scores = new Map<string, number>();
  const add = (list: Ranking, weight: number) =>
    list.forEach((hit, i) => scores.set(hit.id, (scores.get(hit.id) ?? 0) + weight / (w.k + i + 1)));
  add(semantic, w.semantic);
  add(lexical, w.lexical);
  return [...scores].map(([id, score]) => ({ id, score })).sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
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
