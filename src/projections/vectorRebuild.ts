import type pg from 'pg';
import type { Logger } from 'pino';
import { countArrayItems } from '../eventstore/index.js';
import { requestRebuild } from './versions.js';
import type { ProjectionRuntime } from './runtime.js';
import { collectionByJob, collectionOfVersion, liveCollection, registerVersion, setNextModel, VECTORS, type VectorCollectionRow } from '../vectors/collections.js';
import type { VectorService } from '../vectors/service.js';

export type RebuildError = { type: 'model_unsupported'; model: string; message: string };

/**
 * Starts building a new vector version (a new collection) from the event log with `model` (default:
 * the configured one) beside the live one; the runtime switches reads to it once it has caught up
 * and drops the old collection after. An existing rebuild is answered instead of starting another.
 */
export async function requestVectorRebuild(
  pool: pg.Pool,
  vectors: VectorService,
  runtime: ProjectionRuntime | undefined,
  model?: string,
): Promise<{ ok: VectorCollectionRow } | { err: RebuildError }> {
  const wanted = model ?? vectors.embedders.configuredModel;
  if (!vectors.embedders.supports(wanted)) {
    return { err: { type: 'model_unsupported', model: wanted, message: `this embedding provider cannot serve model "${wanted}"` } };
  }
  await setNextModel(pool, wanted);
  const { version } = runtime ? await runtime.rebuild(VECTORS) : await requestRebuild(pool, VECTORS);
  const existing = await collectionOfVersion(pool, version);
  if (existing) return { ok: existing };
  // Register the version's collection now so that the answer can name it; its setup finds it.
  const embedder = vectors.embedders.embedderFor(wanted);
  const dimension = embedder.dimension || (await embedder.embed(['dimension probe']))[0]!.length;
  return { ok: await registerVersion(pool, { version, model: wanted, dimension, collection: vectors.store.collectionName(wanted, dimension, version) }) };
}

export interface RebuildStatus {
  job_id: string;
  collection: string;
  model: string;
  status: 'running' | 'completed' | 'superseded';
  processed: number;
  total: number;
  /** Messages embedded per second since the job started. */
  rate: number;
  eta_seconds: number | null;
}

/** Progress of a rebuild job: messages embedded by its version against the messages in the log. */
export async function rebuildStatus(pool: pg.Pool, jobId: string, now = new Date()): Promise<RebuildStatus | undefined> {
  const row = await collectionByJob(pool, jobId);
  if (!row) return undefined;
  const total = await countArrayItems(pool, 'MessagesAppended', 'messages');
  const status = row.state === 'live' ? 'completed' : row.state === 'building' ? 'running' : row.activated_at ? 'superseded' : 'running';
  const processed = status === 'running' ? Math.min(row.processed, total) : total;
  const seconds = Math.max((now.getTime() - row.created_at.getTime()) / 1000, 0.001);
  const end = status === 'running' ? seconds : Math.max(((row.activated_at ?? now).getTime() - row.created_at.getTime()) / 1000, 0.001);
  const rate = processed / end;
  return {
    job_id: row.job_id,
    collection: row.collection,
    model: row.model,
    status,
    processed,
    total,
    rate: Math.round(rate * 10) / 10,
    eta_seconds: status === 'running' ? (rate > 0 ? Math.ceil((total - processed) / rate) : null) : 0,
  };
}

/** At start: when the configured model differs from the live collection's, rebuild with it (once). */
export async function startVectorModel(runtime: ProjectionRuntime, pool: pg.Pool, vectors: VectorService, logger: Logger): Promise<void> {
  const live = await liveCollection(pool);
  const configured = vectors.embedders.configuredModel;
  if (!live || live.model === configured) return;
  const result = await requestVectorRebuild(pool, vectors, runtime, configured);
  if ('ok' in result) logger.info({ from: live.model, to: configured, job_id: result.ok.job_id, collection: result.ok.collection }, 'embedding model changed: rebuilding vectors');
  else logger.warn({ model: configured }, result.err.message);
}
