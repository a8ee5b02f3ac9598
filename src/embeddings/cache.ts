import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Embedder } from './types.js';

/** The cache key of a text (with the model): its SHA-256. */
const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** A vector as the cache keeps it: its float4 values' bytes, big-endian (PostgreSQL's float4send order). */
export function vectorToBytes(vector: readonly number[]): Buffer {
  const bytes = Buffer.allocUnsafe(vector.length * 4);
  vector.forEach((x, i) => bytes.writeFloatBE(x, i * 4));
  return bytes;
}

/** The vector of cached bytes (`vectorToBytes`). */
export function vectorFromBytes(bytes: Buffer): number[] {
  const vector = new Array<number>(bytes.length / 4);
  for (let i = 0; i < vector.length; i++) vector[i] = bytes.readFloatBE(i * 4);
  return vector;
}

/** Forgets every model's cached vector of these texts (a purge: a vector is content too). */
export async function forgetCachedTexts(db: pg.Pool | pg.PoolClient, texts: readonly string[]): Promise<void> {
  if (texts.length === 0) return;
  await db.query('delete from embedding_cache where text_hash = any($1::bytea[])', [[...new Set(texts)].map(sha256)]);
}

/**
 * Wraps an embedder with the Postgres cache keyed by (model, sha256(text)): only texts never seen
 * by this model reach the embedder, each once per call even when repeated. A cache that cannot be
 * read or written is skipped, never a failure.
 */
export function withEmbeddingCache(inner: Embedder, pool: pg.Pool): Embedder {
  return {
    get model() {
      return inner.model;
    },
    get dimension() {
      return inner.dimension;
    },
    close: inner.close?.bind(inner),
    async embed(texts) {
      if (texts.length === 0) return [];
      const hashes = texts.map(sha256);
      const keys = hashes.map((h) => h.toString('hex'));
      const found = new Map<string, number[]>();
      try {
        const rows = await pool.query<{ key: string; vector_bytes: Buffer }>(
          `select encode(text_hash, 'hex') as key, vector_bytes from embedding_cache where model = $1 and text_hash = any($2::bytea[])`,
          [inner.model, [...new Set(keys)].map((k) => Buffer.from(k, 'hex'))],
        );
        for (const r of rows.rows) found.set(r.key, vectorFromBytes(r.vector_bytes));
      } catch {
        // The cache is an optimisation; without it we embed everything.
      }
      const missing = new Map<string, string>();
      keys.forEach((k, i) => {
        if (!found.has(k) && !missing.has(k)) missing.set(k, texts[i]!);
      });
      if (missing.size > 0) {
        const missingKeys = [...missing.keys()];
        const vectors = await inner.embed([...missing.values()]);
        missingKeys.forEach((k, i) => found.set(k, vectors[i]!));
        try {
          await pool.query(
            `insert into embedding_cache (model, text_hash, vector_bytes)
             select $1, decode(k, 'hex'), v from unnest($2::text[], $3::bytea[]) as t(k, v)
             on conflict do nothing`,
            [inner.model, missingKeys, missingKeys.map((k) => vectorToBytes(found.get(k)!))],
          );
        } catch {
          // Not cached this time; the next call embeds again.
        }
      }
      return keys.map((k) => found.get(k)!);
    },
  };
}
