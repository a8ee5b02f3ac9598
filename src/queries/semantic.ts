import type { Where } from 'chromadb';
import type { AppDeps } from '../deps.js';
import { liveCollection } from '../vectors/collections.js';
import type { VectorHit, VectorStore } from '../vectors/store.js';
import { isBroad, passesBroad } from '../vectors/where.js';

/** Rejects when `p` takes longer than `ms`: a hung embedder or Chroma must not hang a request. */
export const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> =>
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

/** How deep a broad filter's unfiltered search goes: twice the hits asked for. */
const unfilteredDepth = (limit: number) => limit * 2;

/**
 * What an unfiltered search of `depth` answers for a broad filter: its first `limit` passing hits, exact
 * whenever that many pass (a nearer passing vector would be among them) or the search found every vector
 * there is; undefined when too few pass (Chroma must filter first).
 */
export const passingOfUnfiltered = (hits: readonly VectorHit[], passing: VectorHit[], limit: number, depth: number): VectorHit[] | undefined =>
  passing.length >= limit || hits.length < depth ? passing.slice(0, limit) : undefined;

/**
 * The `limit` nearest vectors that pass `where`. A broad filter (the default "not archived", say) is
 * applied to an unfiltered search of twice the depth (`passingOfUnfiltered`); only when too few pass
 * does Chroma filter first.
 */
export async function queryVectors(store: VectorStore, collection: string, vector: number[], limit: number, where: Where | undefined): Promise<VectorHit[]> {
  if (where === undefined || !isBroad(where)) return store.query(collection, vector, limit, where);
  const depth = unfilteredDepth(limit);
  const hits = await store.query(collection, vector, depth, undefined);
  return passingOfUnfiltered(hits, hits.filter((h) => passesBroad(h.metadata, where)), limit, depth) ?? store.query(collection, vector, limit, where);
}

/**
 * The nearest vectors for a caller that applies the filter itself (in the read model), without
 * metadata: a broad filter's search runs unfiltered and twice as deep (`unchecked`: the caller drops
 * what fails, with `passingOfUnfiltered`, and calls `filteredVectors` when that answers undefined); any
 * other filter is applied by Chroma.
 */
export async function uncheckedVectors(store: VectorStore, collection: string, vector: number[], limit: number, where: Where | undefined): Promise<{ hits: VectorHit[]; unchecked: boolean; depth: number }> {
  if (where === undefined || !isBroad(where)) return { hits: await store.query(collection, vector, limit, where, { metadata: false }), unchecked: false, depth: limit };
  const depth = unfilteredDepth(limit);
  return { hits: await store.query(collection, vector, depth, undefined, { metadata: false }), unchecked: true, depth };
}

/** Chroma's own filtered search, without metadata: the fallback of `uncheckedVectors`. */
export const filteredVectors = (store: VectorStore, collection: string, vector: number[], limit: number, where: Where | undefined): Promise<VectorHit[]> =>
  store.query(collection, vector, limit, where, { metadata: false });

/** Runs a Chroma call with the timeout of every vector search; undefined (logged) when Chroma cannot answer. */
export async function guardedVectors<T>(deps: AppDeps, call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await withTimeout(call(), 10_000);
  } catch (e) {
    deps.logger.warn({ err: { message: (e as Error).message } }, 'vector search unavailable');
    return undefined;
  }
}

/** Nearest messages to a vector in the live collection (cosine similarity); undefined when Chroma cannot answer. */
export const nearestMessages = (deps: AppDeps, embedded: { vector: number[]; collection: string }, limit: number, where: Where | undefined): Promise<VectorHit[] | undefined> =>
  guardedVectors(deps, () => queryVectors(deps.vectors!.store, embedded.collection, embedded.vector, limit, where));
