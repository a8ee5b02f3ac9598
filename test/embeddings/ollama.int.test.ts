import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOllamaEmbedder, EmbedderError } from '../../src/embeddings/index.js';
import { freePort } from '../../src/util/freePort.js';
import { startFakeOllama, type FakeOllama } from '../support/ollamaServer.js';

describe('Ollama embedder against a server speaking /api/embed', () => {
  let ollama: FakeOllama;
  beforeAll(async () => {
    ollama = await startFakeOllama({ models: { 'nomic-embed-text': 768 } });
  });
  afterAll(() => ollama.close());
  beforeEach(() => {
    ollama.requests.length = 0;
  });

  it('sends texts as array input in batches of batch_size and keeps their order', async () => {
    const embedder = createOllamaEmbedder({ url: ollama.url, model: 'nomic-embed-text', batchSize: 3 });
    const texts = ['a cat', 'a dog', 'a bird', 'a fish', 'a horse', 'a cow', 'a goat'];
    const vectors = await embedder.embed(texts);
    expect(vectors).toHaveLength(7);
    expect(vectors.every((v) => v.length === 768)).toBe(true);
    expect(embedder.dimension).toBe(768);
    expect(ollama.requests.map((r) => r.input)).toEqual([texts.slice(0, 3), texts.slice(3, 6), texts.slice(6)]);
    // Order is kept: the same text alone gives the vector at its index.
    const [single] = await embedder.embed(['a fish']);
    expect(single).toEqual(vectors[3]);
  });

  it('retries a 503 with backoff and then succeeds', async () => {
    const embedder = createOllamaEmbedder({ url: ollama.url, model: 'nomic-embed-text', backoffMs: 10 });
    ollama.failNext(2);
    const vectors = await embedder.embed(['hello']);
    expect(vectors).toHaveLength(1);
    expect(ollama.requests).toHaveLength(3);
  });

  it('gives up as unavailable after its attempts', async () => {
    const embedder = createOllamaEmbedder({ url: ollama.url, model: 'nomic-embed-text', backoffMs: 5, attempts: 2 });
    ollama.failNext(5);
    const error = await embedder.embed(['hello']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmbedderError);
    expect((error as EmbedderError).code).toBe('unavailable');
    expect(ollama.requests).toHaveLength(2);
    ollama.failNext(0);
  });

  it('says clearly that an unknown model is missing, without retrying', async () => {
    const embedder = createOllamaEmbedder({ url: ollama.url, model: 'no-such-model', backoffMs: 5 });
    const error = (await embedder.embed(['hello']).catch((e: unknown) => e)) as EmbedderError;
    expect(error).toBeInstanceOf(EmbedderError);
    expect(error.code).toBe('model_missing');
    expect(error.message).toMatch(/no model "no-such-model".*ollama pull no-such-model/);
    expect(ollama.requests).toHaveLength(1);
  });

  it('reports a server that does not answer as unavailable', async () => {
    const port = await freePort();
    const embedder = createOllamaEmbedder({ url: `http://127.0.0.1:${port}`, model: 'nomic-embed-text', backoffMs: 5, attempts: 2 });
    const error = (await embedder.embed(['hello']).catch((e: unknown) => e)) as EmbedderError;
    expect(error.code).toBe('unavailable');
  });
});
