import type { Embedder } from './types.js';
import type { Metrics } from '../metrics/index.js';

/** Wraps an embedder so each `embed` call (one batch) is observed in `sekha_embed_duration_seconds`. */
export function timedEmbedder(inner: Embedder, metrics: Pick<Metrics, 'embedLatency'>, provider: string): Embedder {
  return {
    get model() {
      return inner.model;
    },
    get dimension() {
      return inner.dimension;
    },
    async embed(texts) {
      const end = metrics.embedLatency.startTimer({ provider, model: inner.model });
      try {
        return await inner.embed(texts);
      } finally {
        end();
      }
    },
    ...(inner.close ? { close: () => inner.close!() } : {}),
  };
}
