import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load.js';
import { createOllamaEmbedder } from '../../src/embeddings/index.js';
import { createEventStore, type Position } from '../../src/eventstore/index.js';
import { createProjectionRuntime, type ProjectionRuntime } from '../../src/projections/runtime.js';
import { vectorsDefinition } from '../../src/projections/vectors.js';
import { createVectorStore } from '../../src/vectors/store.js';
import { liveCollection } from '../../src/vectors/collections.js';
import { startTestChroma, type TestChroma } from '../support/chroma.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeOllama, type FakeOllama } from '../support/ollamaServer.js';
import { caughtUp, silentLogger, startConversation } from './helpers.js';

/**
 * While a batch goes into Chroma, the vector projector embeds the next one (the runner hands it the
 * events read after the batch): a backlog is embedded once per text, and the embedding of the second
 * batch has begun before the first batch is applied.
 */
let db: TestDatabase;
let chroma: TestChroma;
let ollama: FakeOllama;
let runtime: ProjectionRuntime | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
  chroma = await startTestChroma();
  ollama = await startFakeOllama({ models: { 'look-model': 32 } });
});
afterAll(async () => {
  await runtime?.stop();
  await ollama.close();
  await chroma.stop();
  await db.drop();
});

describe('the vector projector catching up', () => {
  it('embeds the next batch while the current one is applied, each text once', async () => {
    const store = createEventStore(db.pool);
    // 12 conversations of 5 messages: three batches of 20 texts, all waiting before the runtime starts.
    const texts: string[] = [];
    let last: Position | undefined;
    for (let c = 0; c < 12; c++) {
      const messages = Array.from({ length: 5 }, (_, m) => `conversation ${c} message ${m} about the look-ahead`);
      texts.push(...messages);
      last = (await startConversation(store, { label: `c${c}`, messages })).position;
    }
    const vectorStore = createVectorStore(chroma.url, resolveConfig('', {})._unsafeUnwrap().chroma);
    const embedder = createOllamaEmbedder({ url: ollama.url, model: 'look-model', batchSize: 10 });
    const definition = vectorsDefinition({
      pool: db.pool,
      store: vectorStore,
      embedderFor: () => embedder,
      configuredModel: 'look-model',
      embedBatchSize: 10,
      textsPerBatch: 20,
      logger: silentLogger,
    });
    runtime = createProjectionRuntime({ pool: db.pool, url: db.url, logger: silentLogger, pollIntervalMs: 200, leaseCheckMs: 300 }, [definition]);
    // How many embedder calls had arrived when each batch was applied.
    const callsAtProgress: number[] = [];
    runtime.bus.on('progress', (p) => p.name === 'vectors' && callsAtProgress.push(ollama.requests.length));
    await runtime.start();
    await caughtUp(db.pool, last!, 'vectors');

    const embedded = ollama.requests.flatMap((r) => (Array.isArray(r.input) ? r.input : [r.input])).filter((t) => t !== 'dimension probe');
    expect([...embedded].sort()).toEqual([...texts].sort());
    // The first batch takes two calls of 10 texts; more had arrived by the time it was applied: the
    // second batch's, started when the first began.
    expect(callsAtProgress.length).toBeGreaterThanOrEqual(3);
    expect(callsAtProgress[0]).toBeGreaterThan(2 + ollama.requests.filter((r) => r.input === 'dimension probe' || (Array.isArray(r.input) && r.input[0] === 'dimension probe')).length);
    const live = (await liveCollection(db.pool))!;
    expect(await vectorStore.count(live.collection)).toBe(60);
  });
});
