import { ChromaClient } from 'chromadb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load.js';
import { conversationMetadata, vectorMetadata, type ConversationAttributes } from '../../src/vectors/metadata.js';
import { createVectorStore, vectorToBase64, type VectorStore } from '../../src/vectors/store.js';
import type { MessageFilter } from '../../src/domain/conversation/index.js';
import { toWhere } from '../../src/vectors/where.js';
import { startTestChroma, type TestChroma } from '../support/chroma.js';

const config = resolveConfig(undefined, {})._unsafeUnwrap();
const unit = (i: number, dim = 4) => Array.from({ length: dim }, (_, j) => (j === i ? 1 : 0.1));

describe('vector store against a real Chroma server', () => {
  let chroma: TestChroma;
  let store: VectorStore;
  const name = 'test_collection_v1';
  const attrs = (over: Partial<ConversationAttributes> = {}): ConversationAttributes => ({
    label: 'work',
    folder: '/projects/alpha',
    status: 'active',
    pinned: false,
    importance: 5,
    ...over,
  });
  const c1 = '00000000-0000-4000-8000-000000000001';
  const c2 = '00000000-0000-4000-8000-000000000002';

  beforeAll(async () => {
    chroma = await startTestChroma();
    store = createVectorStore(chroma.url, config.chroma);
    await store.ensure(name, { model: 'm', dimension: 4 });
    await store.upsert(name, [
      { id: 'a', vector: unit(0), metadata: vectorMetadata({ conversation_id: c1, role: 'user', timestamp: '2024-01-01T00:00:00Z' }, attrs()) },
      { id: 'b', vector: unit(1), metadata: vectorMetadata({ conversation_id: c1, role: 'assistant', timestamp: '2024-02-01T00:00:00Z' }, attrs()) },
      {
        id: 'c',
        vector: unit(2),
        metadata: vectorMetadata({ conversation_id: c2, role: 'user', timestamp: '2024-03-01T00:00:00Z' }, attrs({ label: 'home', folder: '/projects/alphabet', importance: 9 })),
      },
    ]);
  });
  afterAll(() => chroma.stop());

  it('names one collection per model, dimension and version', () => {
    expect(store.collectionName('nomic-embed-text:latest', 768, 2)).toBe('sekha_messages_nomic-embed-text-latest_768_v2');
    expect(store.collectionName('a', 768, 1)).not.toBe(store.collectionName('b', 768, 1));
  });

  it('queries by cosine similarity, higher is better', async () => {
    const hits = await store.query(name, unit(1), 3, undefined);
    expect(hits[0]!.id).toBe('b');
    expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);
    expect(hits[0]!.score).toBeCloseTo(1, 5);
  });

  it('filters by folder prefix on path segments, importance and time', async () => {
    const ids = async (f: Omit<MessageFilter, 'status'>) => (await store.query(name, unit(0), 10, toWhere({ status: 'active', ...f }))).map((h) => h.id).sort();
    expect(await ids({ folderTree: '/projects/alpha' })).toEqual(['a', 'b']);
    expect(await ids({ folderTree: '/projects' })).toEqual(['a', 'b', 'c']);
    expect(await ids({ importanceMin: 8 })).toEqual(['c']);
    expect(await ids({ from: { at: '2024-01-15T00:00:00Z', inclusive: true }, to: { at: '2024-02-15T00:00:00Z', inclusive: true } })).toEqual(['b']);
    expect(await ids({ role: 'user', label: 'work' })).toEqual(['a']);
  });

  it('updates the metadata of all of a conversation’s vectors, keeping per-message keys', async () => {
    const n = await store.updateConversation(name, c1, conversationMetadata(attrs({ status: 'archived', folder: '/x' })));
    expect(n).toBe(2);
    const hits = await store.query(name, unit(0), 10, toWhere({ status: 'any', folderTree: '/x' }));
    expect(hits.map((h) => h.id).sort()).toEqual(['a', 'b']);
    expect(hits.find((h) => h.id === 'a')!.metadata.role).toBe('user');
    expect((await store.query(name, unit(0), 10, toWhere({ status: 'active' }))).map((h) => h.id)).toEqual(['c']);
    expect((await store.query(name, unit(0), 10, toWhere({ status: 'active', folderTree: '/projects' }))).map((h) => h.id)).toEqual(['c']);
    // Stored without empty keys, the old folder's deeper key (fp2 = /projects/alpha) is cleared by the update.
    expect((await store.query(name, unit(0), 10, toWhere({ status: 'any', folderTree: '/projects/alpha' }))).map((h) => h.id)).toEqual([]);
  });

  it('deletes a conversation’s vectors and counts', async () => {
    await store.deleteConversation(name, c1);
    expect(await store.count(name)).toBe(1);
    const fresh = createVectorStore(chroma.url, config.chroma);
    expect(await fresh.count(name)).toBe(1);
  });

  it('creates collections with the configured HNSW tunables and applies changed ones to an existing collection', async () => {
    const hnswOf = async (collection: string) => {
      const u = new URL(chroma.url);
      const c = await new ChromaClient({ host: u.hostname, port: Number(u.port) }).getCollection({ name: collection, embeddingFunction: undefined as never });
      return (c.configuration as { hnsw: Record<string, unknown> }).hnsw;
    };
    const tuned = (keys: string) => resolveConfig(keys, {})._unsafeUnwrap().chroma;
    const first = createVectorStore(chroma.url, tuned('[chroma]\nsync_threshold = 1234'));
    await first.ensure('tuned_v1', { model: 'm', dimension: 4 });
    expect(await hnswOf('tuned_v1')).toMatchObject({ sync_threshold: 1234, space: config.chroma.space, max_neighbors: config.chroma.m });

    const second = createVectorStore(chroma.url, tuned('[chroma]\nsync_threshold = 5678'));
    await second.ensure('tuned_v1', { model: 'm', dimension: 4 });
    expect(await hnswOf('tuned_v1')).toMatchObject({ sync_threshold: 5678 });
    // Still usable after the change.
    await second.upsert('tuned_v1', [{ id: 'x', vector: unit(3), metadata: { conversation_id: c1 } }]);
    expect((await second.query('tuned_v1', unit(3), 1, undefined))[0]!.id).toBe('x');
  });
  it('stores upserted vectors as float32, exactly, with their metadata (the base64 upsert)', async () => {
    const vector = [0.1, -0.2, 0.3, -0.4];
    await store.ensure('wire_v1', { model: 'm', dimension: 4 });
    await store.upsert('wire_v1', [{ id: 'w', vector, metadata: { conversation_id: c2, label: 'x', importance: 7, pinned: true } }]);
    // Chroma answers float32 values in their shortest decimal form: 0.1 reads back as 0.1.
    expect(await store.vectorsOf('wire_v1', ['w'])).toEqual([{ id: 'w', vector }]);
    const hit = (await store.query('wire_v1', vector, 1, undefined))[0]!;
    expect(hit.metadata).toMatchObject({ conversation_id: c2, label: 'x', importance: 7, pinned: true });
  });

  it('a Chroma error from an upsert is thrown with its status (the projector retries the batch)', async () => {
    await expect(store.upsert('wire_v1', [{ id: 'bad', vector: [1, 2], metadata: {} }])).rejects.toThrow(/Chroma upsert answered 4\d\d/);
  });
});

describe('vector store: a collection dropped by another process', () => {
  it('answers its queries with an error that says it is not there (the warm-up skips such a collection)', async () => {
    const chroma = await startTestChroma();
    try {
      const [mine, theirs] = [createVectorStore(chroma.url, config.chroma), createVectorStore(chroma.url, config.chroma)];
      await mine.ensure('gone_v1', { model: 'm', dimension: 4 });
      await mine.upsert('gone_v1', [{ id: 'g', vector: unit(0), metadata: {} }]);
      expect((await mine.query('gone_v1', unit(0), 1, undefined))[0]!.id).toBe('g');
      await theirs.drop('gone_v1');
      await expect(mine.query('gone_v1', unit(0), 1, undefined)).rejects.toThrow(/not.?found|does not exist/i);
    } finally {
      await chroma.stop();
    }
  });
});

describe('vectorToBase64', () => {
  it('is the little-endian float32 bytes of the vector', () => {
    const bytes = Buffer.from(vectorToBase64([1, -0.5, 1 / 3]), 'base64');
    expect(bytes.length).toBe(12);
    expect([bytes.readFloatLE(0), bytes.readFloatLE(4), bytes.readFloatLE(8)]).toEqual([1, -0.5, Math.fround(1 / 3)]);
  });
});
