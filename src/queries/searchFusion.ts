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
  // LoCoMo dev, categories 1–4, recall@5 / @10: BM25 (k1 0.9, b 0.3) 57.3 / 64.2, this model 29.0 / 40.5,
  // fused 57.4 / 65.0; with a semantic weight of 0.5 or more, or k ≥ 30, fusion falls below BM25 alone
  // (sweep: npm run eval:retrieval -- --sweep).
  'energetic-ai/use-lite-en': { semantic: 0.2, lexical: 1, k: 10 },
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
