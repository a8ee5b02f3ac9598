import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withEmbeddingCache, type Embedder } from '../../src/embeddings/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { fakeVector } from '../support/ollamaServer.js';

/** A real (deterministic) embedder that counts the texts it was asked for. */
function countingEmbedder(model: string): Embedder & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    model,
    dimension: 16,
    calls,
    async embed(texts) {
      calls.push(texts);
      return texts.map((t) => fakeVector(t, 16));
    },
  };
}

describe('embedding cache in Postgres', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('embeds the same text twice with one embedder call', async () => {
    const inner = countingEmbedder('m1');
    const cached = withEmbeddingCache(inner, db.pool);
    const first = await cached.embed(['the same text']);
    const second = await cached.embed(['the same text']);
    expect(inner.calls).toEqual([['the same text']]);
    expect(second[0]!.map((x) => Number(x.toFixed(5)))).toEqual(first[0]!.map((x) => Number(x.toFixed(5))));
  });

  it('sends only unseen texts, each once, and answers in input order', async () => {
    const inner = countingEmbedder('m2');
    const cached = withEmbeddingCache(inner, db.pool);
    await cached.embed(['alpha']);
    const out = await cached.embed(['beta', 'alpha', 'beta', 'gamma']);
    expect(inner.calls).toEqual([['alpha'], ['beta', 'gamma']]);
    expect(out).toHaveLength(4);
    expect(out[0]).toEqual(out[2]);
    expect(out[1]![0]).toBeCloseTo(fakeVector('alpha', 16)[0]!, 5);
  });

  it('gives back the float4 value of every element, as PostgreSQL reads the stored bytes', async () => {
    const inner = countingEmbedder('m3');
    const vector = [0.1, -1 / 3, 1e-30, -0, 65504.123, 1e38];
    const odd: Embedder = { model: 'm3', dimension: vector.length, embed: async (texts) => texts.map(() => vector) };
    await withEmbeddingCache(odd, db.pool).embed(['odd']);
    expect(await withEmbeddingCache(inner, db.pool).embed(['odd'])).toEqual([vector.map(Math.fround)]);
    expect(inner.calls).toEqual([]);
    const stored = await db.pool.query(`select array(select get_byte(vector_bytes, i) from generate_series(0, 3) i) as b from embedding_cache where model = 'm3'`);
    // float4send's order: 0.1 as a float4 is 0x3dcccccd.
    expect(stored.rows[0].b).toEqual([0x3d, 0xcc, 0xcc, 0xcd]);
  });

  it('keys by model: another model embeds the text again', async () => {
    const a = countingEmbedder('model-a');
    const b = countingEmbedder('model-b');
    await withEmbeddingCache(a, db.pool).embed(['shared']);
    await withEmbeddingCache(b, db.pool).embed(['shared']);
    expect(a.calls).toHaveLength(1);
    expect(b.calls).toHaveLength(1);
    const rows = await db.pool.query(`select model from embedding_cache where model in ('model-a','model-b') order by model`);
    expect(rows.rows.map((r) => r.model)).toEqual(['model-a', 'model-b']);
  });
});
