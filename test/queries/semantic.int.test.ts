import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load.js';
import { queryVectors } from '../../src/queries/semantic.js';
import { vectorMetadata } from '../../src/vectors/metadata.js';
import { createVectorStore, nearestByCosine, type VectorStore } from '../../src/vectors/store.js';
import type { Where } from 'chromadb';
import { isBroad, toWhere } from '../../src/vectors/where.js';
import { rng } from '../../bench/corpus.js';
import { startTestChroma, type TestChroma } from '../support/chroma.js';

// A search ef above the collection's size makes HNSW's answers exact: both sides of each comparison
// below search approximately otherwise, and at the default ef a deep page now and then differed by a vector.
const config = resolveConfig('[chroma]\nsearch_ef = 1000\n', {})._unsafeUnwrap();
const DIM = 16;

describe('queryVectors: a broad filter applied after an unfiltered search', () => {
  let chroma: TestChroma;
  let store: VectorStore;
  const name = 'test_semantic_v1';
  const random = rng(7);
  const vector = () => Array.from({ length: DIM }, () => random() - 0.5);
  const conversation = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

  beforeAll(async () => {
    chroma = await startTestChroma();
    store = createVectorStore(chroma.url, config.chroma);
    await store.ensure(name, { model: 'm', dimension: DIM });
    // 400 vectors in 40 conversations; one in ten conversations archived, one (conversation 0) holding
    // the vectors nearest to the probe below, archived too.
    await store.upsert(
      name,
      Array.from({ length: 400 }, (_, i) => {
        const c = Math.floor(i / 10);
        return {
          id: `v${i}`,
          vector: c === 0 ? Array.from({ length: DIM }, (_, j) => (j === 0 ? 1 : 0.01 * (i + 1))) : vector(),
          metadata: vectorMetadata(
            { conversation_id: conversation(c), role: i % 2 ? 'assistant' : 'user', timestamp: '2024-01-01T00:00:00Z' },
            { label: 'l', folder: '/f', status: c % 10 === 0 ? 'archived' : 'active', pinned: false, importance: 5 },
          ),
        };
      }),
    );
  });
  afterAll(() => chroma.stop());

  it('tells broad filters from selective ones', () => {
    expect(isBroad(toWhere({ status: 'active' })!)).toBe(true);
    expect(isBroad({ $and: [{ conversation_id: { $ne: 'x' } }, { status: { $eq: 'active' } }] })).toBe(true);
    expect(isBroad(toWhere({ status: 'active', folderTree: '/f' })!)).toBe(false);
    expect(isBroad(toWhere({ status: 'archived' })!)).toBe(false);
    expect(isBroad(toWhere({ status: 'active', role: 'user' })!)).toBe(false);
  });

  it('answers what Chroma’s own filtered search answers, for broad filters and deep pages', async () => {
    const probe = Array.from({ length: DIM }, (_, j) => (j === 0 ? 1 : 0));
    const wheres: Where[] = [toWhere({ status: 'active' })!, { $and: [{ conversation_id: { $ne: conversation(3) } }, { status: { $eq: 'active' } }] }];
    for (const where of wheres) {
      for (const q of [probe, vector(), vector()]) {
        for (const limit of [1, 5, 50, 300, 400]) {
          const ours = await queryVectors(store, name, q, limit, where);
          const chromas = await store.query(name, q, limit, where);
          expect(ours.map((h) => h.id)).toEqual(chromas.map((h) => h.id));
        }
      }
    }
    // The probe's ten nearest are archived: the unfiltered depth holds too few active ones at first.
    const top = await queryVectors(store, name, probe, 10, toWhere({ status: 'active' })!);
    expect(top).toHaveLength(10);
    expect(top.every((h) => h.metadata.status === 'active')).toBe(true);
  });

  it('ranks a narrow filter’s vectors, fetched by id, as Chroma’s filtered search does', async () => {
    for (const c of [0, 3, 17]) {
      const ids = Array.from({ length: 10 }, (_, i) => `v${c * 10 + i}`);
      const stored = await store.vectorsOf(name, [...ids, 'no-such-vector']);
      expect(stored.map((v) => v.id).sort()).toEqual([...ids].sort());
      for (const q of [vector(), vector()]) {
        for (const limit of [1, 4, 10]) {
          const ours = nearestByCosine(q, stored, limit);
          const chromas = await store.query(name, q, limit, { conversation_id: { $eq: conversation(c) } });
          expect(ours.map((h) => h.id)).toEqual(chromas.map((h) => h.id));
          ours.forEach((h, i) => expect(h.score).toBeCloseTo(chromas[i]!.score, 5));
        }
      }
    }
  });
});
