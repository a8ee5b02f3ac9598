import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load.js';
import { createOllamaEmbedder } from '../../src/embeddings/index.js';
import { createEventStore, START, type RecordedEvent } from '../../src/eventstore/index.js';
import { readAll } from '../../src/eventstore/read.js';
import { VECTOR_EVENTS } from '../../src/projections/vectorPlan.js';
import { vectorProjector } from '../../src/projections/vectors.js';
import type { ExternalProjector } from '../../src/projections/types.js';
import { createVectorStore, type VectorStore } from '../../src/vectors/store.js';
import { startTestChroma, type TestChroma } from '../support/chroma.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeOllama, type FakeOllama } from '../support/ollamaServer.js';
import { seedHistory, silentLogger, until } from './helpers.js';

const config = resolveConfig(undefined, {})._unsafeUnwrap();
const MODEL = 'nomic-embed-text';

describe('vector projector: a batch embedded ahead (prefetch) is applied without embedding again', () => {
  let db: TestDatabase;
  let chroma: TestChroma;
  let ollama: FakeOllama;
  let store: VectorStore;
  let projector: ExternalProjector;
  let batches: RecordedEvent[][];
  const embeddedTexts = () => ollama.requests.flatMap((r) => (Array.isArray(r.input) ? r.input : [r.input]));

  beforeAll(async () => {
    [db, chroma, ollama] = await Promise.all([createTestDatabase(), startTestChroma(), startFakeOllama()]);
    store = createVectorStore(chroma.url, config.chroma);
    const embedder = createOllamaEmbedder({ url: ollama.url, model: MODEL, batchSize: 4 });
    projector = vectorProjector(
      { pool: db.pool, store, embedderFor: () => embedder, configuredModel: MODEL, embedBatchSize: 4, textsPerBatch: 1000, logger: silentLogger },
      1,
    );
    await seedHistory(createEventStore(db.pool), 6);
    const handled = new Set<string>(VECTOR_EVENTS);
    const events = (await readAll(db.pool, START, 10_000))._unsafeUnwrap().filter((e) => handled.has(e.type));
    const third = Math.ceil(events.length / 3);
    batches = [events.slice(0, third), events.slice(third, 2 * third), events.slice(2 * third)];
    await projector.setup!();
  });
  afterAll(async () => {
    await Promise.all([db.drop(), chroma.stop(), ollama.close()]);
  });

  const collection = () => store.collectionName(MODEL, 768, 1);

  it('takes the prefetched vectors of its own batch, keeps another batch’s for later, and embeds what it was not handed', async () => {
    const [first, second, third] = batches as [RecordedEvent[], RecordedEvent[], RecordedEvent[]];
    // The runner hands over batch 2 just before it applies batch 1, which nobody prefetched.
    projector.prefetch!(second);
    await until(() => embeddedTexts().length > 0, 10_000, 'the prefetch to reach the embedder');
    await projector.apply(first);
    const afterFirst = embeddedTexts().length;
    const count1 = await store.count(collection());
    expect(count1).toBeGreaterThan(0);

    // Batch 2 was embedded ahead: applying it asks the embedder for nothing more.
    await projector.apply(second);
    expect(embeddedTexts().length).toBe(afterFirst);
    const count2 = await store.count(collection());
    expect(count2).toBeGreaterThan(count1);

    // Batch 3 without a prefetch embeds its own texts.
    await projector.apply(third);
    expect(embeddedTexts().length).toBeGreaterThan(afterFirst);
    // Every text was sent once (the fake model has no cache in front of it).
    const texts = embeddedTexts();
    expect(new Set(texts).size).toBe(texts.length);
  });
});
