import type pg from 'pg';
import type { Logger } from 'pino';
import type { EmbedderRegistry } from '../embeddings/index.js';
import { VECTORS } from './collections.js';
import type { VectorStore } from './store.js';

/** The warm-up at start: `/ready` answers 200 only once it is done. */
export interface WarmUp {
  /** Readiness: 'ok' when done, else what it waits on. */
  check(): string;
  /** Resolves when done (or stopped). */
  readonly done: Promise<void>;
  /** Stops retrying (service shutdown). */
  stop(): void;
}

interface LiveCollection {
  collection: string;
  model: string;
  dimension: number;
}

/** Collections that answer or will answer queries: the live version's and any being built. */
async function collectionsInUse(pool: pg.Pool): Promise<LiveCollection[]> {
  const { rows } = await pool.query<LiveCollection>(
    `select v.collection, v.model, v.dimension from vector_collections v
       join projection_checkpoints c on c.name = $1 and c.version = v.version and c.state in ('live', 'building')
      where v.dropped_at is null order by c.state, v.version`,
    [VECTORS],
  );
  return rows;
}

/** A unit vector of a dimension, for a collection whose model cannot embed now. */
const probeVector = (dimension: number): number[] => Array.from({ length: dimension }, (_, i) => (i === 0 ? 1 : 0));

const NOT_FOUND = /not.?found|does not exist/i;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

/**
 * One embed per model and one query per collection in use, so that the first search after a start
 * does not pay for loading the embedder and Chroma's HNSW index (seconds at 1M vectors). The query is
 * the one a default search sends (unfiltered, twice the default limit). A model that cannot embed
 * (Ollama down) is logged and its collection queried with a probe vector: the index load is what
 * counts. Chroma not answering is retried with backoff until it does.
 */
export function startWarmUp(deps: { pool: pg.Pool; store: VectorStore; embedders: EmbedderRegistry; logger: Logger }): WarmUp {
  const log = deps.logger.child({ component: 'vector-warm-up' });
  let state = 'warming up';
  let stopped = false;

  async function once(): Promise<void> {
    const started = performance.now();
    const collections = await collectionsInUse(deps.pool);
    const models = [...new Set([deps.embedders.configuredModel, ...collections.map((c) => c.model)])];
    const vectors = new Map<string, number[]>();
    for (const model of models) {
      const t = performance.now();
      try {
        // A text never seen: a cached one would not reach (so not warm) the model.
        const [v] = await deps.embedders.embedderFor(model).embed([`warm-up ${new Date().toISOString()} ${Math.random()}`]);
        vectors.set(model, v!);
        log.info({ model, ms: Math.round(performance.now() - t) }, 'embedder warmed up');
      } catch (e) {
        log.warn({ model, err: { message: (e as Error).message } }, 'embedder not available for the warm-up; going on without it');
      }
    }
    for (const c of collections) {
      const t = performance.now();
      const vector = vectors.get(c.model);
      try {
        await deps.store.query(c.collection, vector?.length === c.dimension ? vector : probeVector(c.dimension), 20, undefined);
      } catch (e) {
        // Not created yet (its projector's setup has not run): nothing to load.
        if (!NOT_FOUND.test((e as Error).message)) throw e;
      }
      log.info({ collection: c.collection, ms: Math.round(performance.now() - t) }, 'vector collection warmed up');
    }
    log.info({ collections: collections.length, ms: Math.round(performance.now() - started) }, 'vector warm-up done');
  }

  const done = (async () => {
    for (let attempt = 0; !stopped; attempt++) {
      try {
        await once();
        state = 'ok';
        return;
      } catch (e) {
        const message = (e as Error).message.slice(0, 200);
        state = `warming up (retrying: ${message})`;
        log.warn({ err: { message }, attempt }, 'vector warm-up failed; retrying');
        await sleep(Math.min(100 * 2 ** attempt, 5000));
      }
    }
  })();

  return {
    check: () => state,
    done,
    stop() {
      stopped = true;
    },
  };
}
