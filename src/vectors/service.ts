import { join, resolve } from 'node:path';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../config/load.js';
import { createEmbedderRegistry, type EmbedderRegistry } from '../embeddings/index.js';
import type { Metrics } from '../metrics/index.js';
import { startChroma, type ChromaProcess } from './chromaProcess.js';
import { createVectorStore, type VectorStore } from './store.js';

/** Vectors and embeddings of one process: the Chroma store and the embedders (the composition root builds the vector projection from them). */
export interface VectorService {
  store: VectorStore;
  embedders: EmbedderRegistry;
  /** The embedded Chroma child process, when CHROMA_URL is not set. */
  chroma?: ChromaProcess;
  stop(): Promise<void>;
}

/**
 * Connects to CHROMA_URL, or starts Chroma as a child process under DATA_DIR/chroma, and builds the
 * embedders. `pool` is the primary (the embedding cache).
 */
export async function startVectorService(
  config: ResolvedConfig,
  pool: pg.Pool,
  logger: Logger,
  options: { chromaUrl?: string; metrics?: Pick<Metrics, 'embedLatency'> } = {},
): Promise<VectorService> {
  let chroma: ChromaProcess | undefined;
  let url = options.chromaUrl ?? config.chroma.url;
  if (!url) {
    const dataDir = join(resolve(config.data_dir), 'chroma');
    chroma = await startChroma({ dataDir, port: config.chroma.embedded_port, onLog: (line) => logger.trace({ component: 'embedded-chroma' }, line.trim()) });
    url = chroma.url;
    logger.info({ component: 'embedded-chroma', port: chroma.port, data_dir: dataDir }, 'started embedded Chroma');
  }
  const store = createVectorStore(url, config.chroma);
  const embedders = createEmbedderRegistry(config, pool, options.metrics);
  return {
    store,
    embedders,
    ...(chroma ? { chroma } : {}),
    async stop() {
      await embedders.close();
      await chroma?.stop();
    },
  };
}
