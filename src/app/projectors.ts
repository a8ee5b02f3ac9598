import type pg from 'pg';
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../config/load.js';
import { lexicalStatsProjection } from '../projections/lexicalStats.js';
import { bm25Params } from '../queries/bm25.js';
import { readModelDefinition } from '../projections/readModel/index.js';
import { summariesDefinition } from '../projections/summaries.js';
import type { ProjectionDefinition } from '../projections/types.js';
import { vectorsDefinition } from '../projections/vectors.js';
import type { VectorService } from '../vectors/service.js';

export interface ProjectorWiring {
  config: ResolvedConfig;
  /** The primary: projector tables and the embedding cache. */
  pool: pg.Pool;
  logger: Logger;
  /** Chroma and the embedders; without them the vector projection is not run here. */
  vectors?: VectorService;
}

/**
 * Every projection the service runs, registered here and nowhere else: the read model, the vectors
 * (when this process has Chroma and embedders), the lexical statistics (postings ordered under the
 * configured BM25 parameters) and the summaries.
 */
export function projectionDefinitions({ config, pool, logger, vectors }: ProjectorWiring): ProjectionDefinition[] {
  const vectorProjection = vectors
    ? [
        vectorsDefinition({
          pool,
          store: vectors.store,
          embedderFor: (model) => vectors.embedders.embedderFor(model),
          configuredModel: vectors.embedders.configuredModel,
          embedBatchSize: config.embedding.batch_size,
          textsPerBatch: config.chroma.batch_size,
          logger,
        }),
      ]
    : [];
  return [readModelDefinition, ...vectorProjection, lexicalStatsProjection(bm25Params(config.search)), summariesDefinition];
}
