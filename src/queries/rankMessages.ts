import { err, ok, type Result } from 'neverthrow';
import type { AppDeps } from '../deps.js';
import type { ApiError } from '../http/errors.js';
import type { VectorHit } from '../vectors/store.js';
import type { MessageFilter } from '../domain/conversation/index.js';
import { toWhere } from '../vectors/where.js';
import { smoothNeighbours, type Placement } from './neighbourSmoothing.js';
import { fuseRankings, fuseScores, fusionFor, type Ranking } from './searchFusion.js';
import { bm25Params } from './bm25.js';
import { lexicalTopK } from './lexicalTopK.js';
import { embedForLive, nearestMessages } from './semantic.js';
import { readQuery } from './sql.js';

export type SearchMode = 'semantic' | 'fts' | 'hybrid';

export interface MessageRanking {
  /** Message ids, best first: the mode's ranking, or BM25 alone when degraded. */
  ranked: Ranking;
  /** The semantic side's hits (cosine similarity), when it answered. */
  semantic: VectorHit[] | undefined;
  /** Semantic was wanted but vectors could not answer (no Chroma, embedder down, not caught up). */
  degraded: boolean;
}

/** The BM25 ranking of the read model's messages: the exact top `depth` (src/queries/lexicalTopK.ts). */
export function lexicalRanking(deps: AppDeps, query: string, filter: MessageFilter, depth: number) {
  return lexicalTopK(deps.pools.read, { query, filter, k: depth, params: bm25Params(deps.config.search) }).map((r) => r.hits);
}

/** The semantic ranking, or undefined when vectors cannot answer now. */
async function semanticRanking(
  deps: AppDeps,
  query: string,
  filter: MessageFilter,
  depth: number,
  vectorsReady: Promise<boolean> | boolean,
): Promise<{ hits: VectorHit[]; model: string } | undefined> {
  if (!deps.vectors || !(await vectorsReady)) return undefined;
  const embedded = await embedForLive(deps, query);
  const hits = embedded && (await nearestMessages(deps, embedded, depth, toWhere(filter)));
  return embedded && hits ? { hits, model: embedded.model } : undefined;
}

/** Where each candidate sits in its conversation (one lookup by primary key of the candidates). */
async function placements(deps: AppDeps, ranked: Ranking): Promise<Result<Map<string, Placement>, ApiError>> {
  const rows = await readQuery<{ id: string } & Placement>(
    deps.pools.read,
    'select id::text as id, conversation_id::text as conversation_id, seq from messages where id = any($1::uuid[])',
    [ranked.map((h) => h.id)],
  );
  return rows.map((r) => new Map(r.map(({ id, ...p }) => [id, p])));
}

/**
 * Ranks messages for a query as POST /api/v1/query does, `depth` deep on each side: semantic (Chroma),
 * fts (BM25 top-k of the lexical index) or hybrid (convex or reciprocal-rank fusion, weights per embedding model); fts and
 * hybrid are then smoothed over neighbouring turns (`[search] neighbour_weight`). When
 * vectors cannot answer, the ranking is BM25's and says degraded. `vectorsReady` resolving false skips
 * the semantic side (the vectors are behind what the caller must see); BM25 runs meanwhile.
 */
export async function rankMessages(
  deps: AppDeps,
  input: { query: string; filter: MessageFilter; depth: number; mode: SearchMode; vectorsReady?: Promise<boolean> | boolean },
): Promise<Result<MessageRanking, ApiError>> {
  const { query, filter, depth, mode } = input;
  const wantsSemantic = mode !== 'fts';
  // Semantic-only asks BM25 only if it has to fall back; the others ask both sides at once.
  const [semantic, lexical] = await Promise.all([
    wantsSemantic ? semanticRanking(deps, query, filter, depth, input.vectorsReady ?? true) : Promise.resolve(undefined),
    mode !== 'semantic' || !deps.vectors ? lexicalRanking(deps, query, filter, depth) : undefined,
  ]);
  const degraded = wantsSemantic && semantic === undefined;
  const lexicalResult = lexical ?? (degraded ? await lexicalRanking(deps, query, filter, depth) : undefined);
  if (lexicalResult?.isErr()) return err(lexicalResult.error);
  const bm25: Ranking = lexicalResult?.isOk() ? lexicalResult.value : [];
  let ranked: Ranking;
  if (degraded || mode === 'fts') ranked = bm25;
  else if (mode === 'semantic') ranked = semantic!.hits;
  else {
    const fuse = deps.config.search.fusion === 'rrf' ? fuseRankings : fuseScores;
    ranked = fuse(semantic!.hits, bm25, fusionFor(semantic!.model, deps.config.search));
  }
  // Rankings with a lexical side are smoothed over neighbouring turns (semantic alone: measured no better).
  const weight = deps.config.search.neighbour_weight;
  if (weight > 0 && ranked.length > 1 && (degraded || mode !== 'semantic')) {
    const placed = await placements(deps, ranked);
    if (placed.isErr()) return err(placed.error);
    ranked = smoothNeighbours(ranked, placed.value, weight);
  }
  return ok({ ranked, semantic: semantic?.hits, degraded });
}
