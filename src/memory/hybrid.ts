import type { Where } from 'chromadb';
import { err, ok } from 'neverthrow';
import type { AppDeps } from '../http/deps.js';
import { fuseRankings, fusionFor, type Ranking } from '../queries/searchFusion.js';
import { bm25Sql } from '../queries/searchLexical.js';
import { readQuery } from '../queries/sql.js';
import { liveCollection } from '../vectors/collections.js';
import type { VectorHit } from '../vectors/store.js';
import { toWhere, type SearchFilters } from '../vectors/where.js';

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms).unref())]);

/** Embeds a text with the live collection's model; undefined when vectors are not available now. */
export async function embedForLive(deps: AppDeps, text: string): Promise<{ vector: number[]; collection: string; model: string } | undefined> {
  const vectors = deps.vectors;
  if (!vectors) return undefined;
  try {
    const live = await liveCollection(deps.pools.read);
    if (!live) return undefined;
    const [vector] = await withTimeout(vectors.embedders.embedderFor(live.model).embed([text]), 10_000);
    return { vector: vector!, collection: live.collection, model: live.model };
  } catch (e) {
    deps.logger.warn({ err: { message: (e as Error).message } }, 'embedding unavailable');
    return undefined;
  }
}

/** Nearest messages to a vector in the live collection (cosine similarity); [] when Chroma cannot answer. */
export async function nearestMessages(deps: AppDeps, embedded: { vector: number[]; collection: string }, limit: number, where: Where | undefined): Promise<VectorHit[]> {
  try {
    return await withTimeout(deps.vectors!.store.query(embedded.collection, embedded.vector, limit, where), 10_000);
  } catch (e) {
    deps.logger.warn({ err: { message: (e as Error).message } }, 'vector search unavailable');
    return [];
  }
}

/**
 * Hybrid ranking of messages for a query, as POST /api/v1/query ranks them (the same BM25 SQL, Chroma
 * query and weighted reciprocal-rank fusion), with each message's semantic similarity kept aside.
 * Without vectors it is the BM25 ranking alone.
 */
export async function hybridRanking(deps: AppDeps, query: string, filters: SearchFilters, depth: number) {
  const embedded = await embedForLive(deps, query);
  const { text, values } = bm25Sql(query, filters, depth);
  const [semantic, lexical] = await Promise.all([embedded ? nearestMessages(deps, embedded, depth, toWhere(filters)) : Promise.resolve([] as Ranking), readQuery<{ id: string; score: number }>(deps.pools.read, text, values)]);
  if (lexical.isErr()) return err(lexical.error);
  const ranked: Ranking = embedded ? fuseRankings(semantic, lexical.value, fusionFor(embedded.model, deps.config.search)) : lexical.value;
  return ok({ ranked, cosine: new Map(semantic.map((h) => [h.id, h.score])), degraded: !embedded });
}
