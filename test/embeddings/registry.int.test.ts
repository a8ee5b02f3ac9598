import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'smol-toml';
import { resolveConfig } from '../../src/config/load.js';
import { createEmbedderRegistry } from '../../src/embeddings/index.js';
import { createMetrics } from '../../src/metrics/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeOllama, type FakeOllama } from '../support/ollamaServer.js';

describe('embedder registry with metrics', () => {
  let db: TestDatabase;
  let ollama: FakeOllama;
  beforeAll(async () => {
    db = await createTestDatabase();
    ollama = await startFakeOllama();
  });
  afterAll(async () => {
    await ollama.close();
    await db.drop();
  });

  it('records the latency of real embedder calls, and none for cache hits', async () => {
    const config = resolveConfig(stringify({ embedding: { provider: 'ollama', ollama_url: ollama.url } }), {})._unsafeUnwrap();
    const metrics = createMetrics();
    const registry = createEmbedderRegistry(config, db.pool, metrics);
    const embedder = registry.embedderFor('nomic-embed-text');
    await embedder.embed(['first text', 'second text']);
    await embedder.embed(['first text']);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/sekha_embed_duration_seconds_count\{provider="ollama",model="nomic-embed-text"\} 1\b/);
    expect(ollama.requests).toHaveLength(1);
    await registry.close();
  });
});
