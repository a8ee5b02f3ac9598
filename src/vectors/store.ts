import { ChromaClient, type Collection, type Metadata, type Where } from 'chromadb';
import type { ResolvedConfig } from '../config/load.js';
import { chromaCollectionPost } from './chromaHttp.js';
import { byScoreThenId } from '../util/rank.js';

export interface VectorRecord {
  id: string;
  vector: number[];
  metadata: Metadata;
}

export interface VectorHit {
  id: string;
  /** Cosine similarity (1 − distance): higher is better. */
  score: number;
  metadata: Metadata;
}

/** The Chroma side of the vector projection: collections of one (model, dimension, version) each. */
export interface VectorStore {
  readonly url: string;
  /** Name of the collection of a (model, dimension, projector version); two models never share one. */
  collectionName(model: string, dimension: number, version: number): string;
  heartbeat(): Promise<void>;
  ensure(name: string, meta: { model: string; dimension: number }): Promise<void>;
  upsert(name: string, records: VectorRecord[]): Promise<void>;
  /** Sets metadata keys on every vector of a conversation. */
  updateConversation(name: string, conversationId: string, metadata: Metadata): Promise<number>;
  deleteConversation(name: string, conversationId: string): Promise<void>;
  /**
   * The `limit` nearest vectors that pass `where`. Without `metadata` (true by default) the hits carry
   * none: Chroma fetches metadata row by row, which at 100,000 vectors costs more than the search
   * (200 hits: 80 ms with, 10 ms without).
   */
  query(name: string, vector: number[], limit: number, where: Where | undefined, options?: { metadata?: boolean }): Promise<VectorHit[]>;
  /** The stored vectors of these ids (those that have one), for ranking a few candidates exactly (`nearestByCosine`). */
  vectorsOf(name: string, ids: readonly string[]): Promise<{ id: string; vector: number[] }[]>;
  count(name: string): Promise<number>;
  drop(name: string): Promise<void>;
}

/**
 * The `limit` candidates nearest to `vector` by cosine similarity, exactly (what a Chroma cosine
 * collection answers, without its approximation). Pure.
 */
export function nearestByCosine(vector: readonly number[], candidates: readonly { id: string; vector: readonly number[] }[], limit: number): VectorHit[] {
  const norm = (v: readonly number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  const q = norm(vector);
  return candidates
    .map((c) => {
      const n = q * norm(c.vector);
      const dot = c.vector.reduce((s, x, i) => s + x * vector[i]!, 0);
      return { id: c.id, score: n > 0 ? dot / n : 0, metadata: {} };
    })
    .sort(byScoreThenId)
    .slice(0, limit);
}

/** The HNSW settings that may change on an existing collection (config keys [chroma] sync_threshold, hnsw_batch_size, num_threads). */
export function hnswTunables(config: ResolvedConfig['chroma']): { sync_threshold: number; batch_size?: number; num_threads?: number } {
  return {
    sync_threshold: config.sync_threshold,
    ...(config.hnsw_batch_size !== undefined ? { batch_size: config.hnsw_batch_size } : {}),
    ...(config.num_threads !== undefined ? { num_threads: config.num_threads } : {}),
  };
}

/** The tunables that differ from a collection's configuration, or undefined when none does. */
export function changedTunables(current: Record<string, unknown>, wanted: Record<string, number>): Record<string, number> | undefined {
  const changed = Object.fromEntries(Object.entries(wanted).filter(([k, v]) => current[k] !== v));
  return Object.keys(changed).length > 0 ? changed : undefined;
}

/** A vector as Chroma's base64 wire form takes it: its float32 values' bytes (little-endian), in base64. */
export function vectorToBase64(vector: readonly number[]): string {
  const floats = Float32Array.from(vector);
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString('base64');
}

const slug = (s: string) => s.replace(/[^a-zA-Z0-9]+/g, '-').replace(/^-+|-+$/g, '').toLowerCase();

export function createVectorStore(url: string, config: ResolvedConfig['chroma']): VectorStore {
  const u = new URL(url);
  const client = new ChromaClient({ host: u.hostname, port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)), ssl: u.protocol === 'https:' });
  const handles = new Map<string, Promise<Collection>>();
  const batch = config.batch_size;
  const tunable = hnswTunables(config);
  const post = chromaCollectionPost(url);

  // Handles are cached; a failed lookup is forgotten so that the next call tries again.
  const collection = (name: string, meta?: { model: string; dimension: number }): Promise<Collection> => {
    let handle = handles.get(name);
    if (!handle) {
      handle = meta
        ? client.getOrCreateCollection({
            name,
            embeddingFunction: null,
            metadata: { model: meta.model, dimension: meta.dimension },
            configuration: { hnsw: { space: config.space, ef_construction: config.construction_ef, ef_search: config.search_ef, max_neighbors: config.m, ...tunable } },
          })
        : client.getCollection({ name, embeddingFunction: undefined as never });
      handles.set(name, handle);
      handle.catch(() => handles.delete(name));
    }
    return handle;
  };
  const withHandle = async <T>(name: string, fn: (c: Collection) => Promise<T>): Promise<T> => {
    try {
      return await fn(await collection(name));
    } catch (e) {
      handles.delete(name);
      throw e;
    }
  };

  return {
    url,
    collectionName: (model, dimension, version) => `${config.collection_prefix}_${slug(model)}_${dimension}_v${version}`.slice(0, 500),
    async heartbeat() {
      await client.heartbeat();
    },
    async ensure(name, meta) {
      handles.delete(name);
      const c = await collection(name, meta);
      // A collection made before (or with other settings) gets the configured tunables; Chroma uses
      // them from its next load of the collection.
      const changed = changedTunables((c.configuration as { hnsw?: Record<string, unknown> | null } | undefined)?.hnsw ?? {}, tunable);
      // A server that cannot change them keeps its own: they tune speed, never results.
      if (changed) await c.modify({ configuration: { hnsw: changed } }).catch(() => {});
    },
    upsert: (name, records) =>
      withHandle(name, async (c) => {
        const base64 = await client.supportsBase64Encoding();
        for (let i = 0; i < records.length; i += batch) {
          const chunk = records.slice(i, i + batch);
          // Vectors in base64 as the client sends them to a server that takes it, but encoded with
          // Buffer: the client builds each one a character at a time, which took ~30% of the service's
          // CPU in a vector rebuild (1.8 of 6.1 s for 10,000 texts, --cpu-prof).
          const embeddings = chunk.map((r) => (base64 ? vectorToBase64(r.vector) : r.vector));
          await post(c, 'upsert', { ids: chunk.map((r) => r.id), embeddings, metadatas: chunk.map((r) => r.metadata) });
        }
      }),
    updateConversation: (name, conversationId, metadata) =>
      withHandle(name, async (c) => {
        const { ids } = await c.get({ where: { conversation_id: { $eq: conversationId } }, include: [] });
        for (let i = 0; i < ids.length; i += batch) {
          const chunk = ids.slice(i, i + batch);
          await c.update({ ids: chunk, metadatas: chunk.map(() => metadata) });
        }
        return ids.length;
      }),
    deleteConversation: (name, conversationId) =>
      withHandle(name, async (c) => {
        await c.delete({ where: { conversation_id: { $eq: conversationId } } });
      }),
    query: (name, vector, limit, where, options) =>
      withHandle(name, async (c) => {
        const include = options?.metadata === false ? ['distances'] : ['distances', 'metadatas'];
        const r = await post<{ ids: string[][]; distances?: (number | null)[][] | null; metadatas?: (Metadata | null)[][] | null }>(c, 'query', {
          query_embeddings: [vector],
          n_results: limit,
          include,
          ...(where ? { where } : {}),
        });
        const ids = r.ids[0] ?? [];
        return ids.map((id, i) => ({ id, score: 1 - (r.distances?.[0]?.[i] ?? 1), metadata: r.metadatas?.[0]?.[i] ?? {} }));
      }),
    vectorsOf: (name, ids) =>
      withHandle(name, async (c) => {
        const found: { id: string; vector: number[] }[] = [];
        for (let i = 0; i < ids.length; i += batch) {
          const r = await c.get({ ids: ids.slice(i, i + batch), include: ['embeddings'] as never });
          r.ids.forEach((id, j) => {
            const vector = r.embeddings?.[j];
            if (vector) found.push({ id, vector: Array.from(vector) });
          });
        }
        return found;
      }),
    count: (name) => withHandle(name, (c) => c.count()),
    async drop(name) {
      handles.delete(name);
      try {
        await client.deleteCollection({ name });
      } catch (e) {
        if (!/not.?found|does not exist/i.test((e as Error).message)) throw e;
      }
    },
  };
}
