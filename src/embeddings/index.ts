import type pg from 'pg';
import type { ResolvedConfig } from '../config/load.js';
import { withEmbeddingCache } from './cache.js';
import { createLocalEmbedder } from './local.js';
import { createOllamaEmbedder } from './ollama.js';
import type { Embedder } from './types.js';

export * from './types.js';
export { withEmbeddingCache } from './cache.js';
export { createLocalEmbedder, LOCAL_MODEL, LOCAL_DIMENSION } from './local.js';
export { createOllamaEmbedder } from './ollama.js';

/**
 * The embedder the configuration asks for (`embedding.provider`, resolved by the config loader),
 * behind the Postgres cache unless `embedding.cache = false`. `model` overrides the configured
 * Ollama model (a rebuild with a new model).
 */
export function createEmbedder(config: ResolvedConfig, pool: pg.Pool | undefined, model?: string): Embedder {
  const e = config.embedding;
  const inner =
    e.provider === 'ollama'
      ? createOllamaEmbedder({ url: e.ollama_url!, model: model ?? e.model, batchSize: e.batch_size })
      : createLocalEmbedder({ workers: e.workers });
  return e.cache && pool ? withEmbeddingCache(inner, pool) : inner;
}
