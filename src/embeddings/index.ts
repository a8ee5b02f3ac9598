import type pg from 'pg';
import type { ResolvedConfig } from '../config/load.js';
import { withEmbeddingCache } from './cache.js';
import { createLocalEmbedder, LOCAL_MODEL as LOCAL_MODEL_NAME } from './local.js';
import { createOllamaEmbedder } from './ollama.js';
import { EmbedderError, type Embedder } from './types.js';
import type { Metrics } from '../metrics/index.js';
import { timedEmbedder } from './timedEmbedder.js';

export * from './types.js';
export { withEmbeddingCache } from './cache.js';
export { createLocalEmbedder, LOCAL_MODEL, LOCAL_DIMENSION } from './local.js';
export { createOllamaEmbedder } from './ollama.js';

/**
 * The embedder the configuration asks for (`embedding.provider`, resolved by the config loader),
 * behind the Postgres cache unless `embedding.cache = false`. `model` overrides the configured
 * Ollama model (a rebuild with a new model).
 */
export function createEmbedder(
  config: ResolvedConfig,
  pool: pg.Pool | undefined,
  model?: string,
  metrics?: Pick<Metrics, 'embedLatency'>,
): Embedder {
  const e = config.embedding;
  const provider =
    e.provider === 'ollama'
      ? createOllamaEmbedder({ url: e.ollama_url!, model: model ?? e.model, batchSize: e.batch_size })
      : createLocalEmbedder({ workers: e.workers });
  // Timed inside the cache: the metric is the latency of real embedder calls, not of cache hits.
  const inner = metrics ? timedEmbedder(provider, metrics, e.provider) : provider;
  return e.cache && pool ? withEmbeddingCache(inner, pool) : inner;
}

/** Embedders by model, made on demand and kept: the configured one, and others a rebuild asks for. */
export interface EmbedderRegistry {
  /** The model the configuration asks for (the local model when the provider is local). */
  readonly configuredModel: string;
  /** The embedder of a model; throws when this provider cannot serve it. */
  embedderFor(model: string): Embedder;
  /** Whether this provider can serve a model (a rebuild checks before it starts). */
  supports(model: string): boolean;
  close(): Promise<void>;
}

export function createEmbedderRegistry(
  config: ResolvedConfig,
  pool: pg.Pool | undefined,
  metrics?: Pick<Metrics, 'embedLatency'>,
): EmbedderRegistry {
  const configuredModel = config.embedding.provider === 'local' ? LOCAL_MODEL_NAME : config.embedding.model;
  const made = new Map<string, Embedder>();
  const supports = (model: string) => config.embedding.provider === 'ollama' || model === LOCAL_MODEL_NAME;
  return {
    configuredModel,
    supports,
    embedderFor(model) {
      if (!supports(model)) throw new EmbedderError('model_missing', `the local provider has only the model "${LOCAL_MODEL_NAME}", not "${model}"`);
      let e = made.get(model);
      if (!e) {
        e = createEmbedder(config, pool, model, metrics);
        made.set(model, e);
      }
      return e;
    },
    async close() {
      await Promise.all([...made.values()].map((e) => e.close?.()));
      made.clear();
    },
  };
}
