import type { Logger } from 'pino';
import type { ResolvedConfig } from '../config/load.js';
import type { Pools } from '../db/pools.js';
import type { AppendNotifier } from '../eventstore/index.js';
import type { ProgressBus } from './bus.js';
import { lexicalStatsProjection, REFERENCE, type PostingOrder } from './lexicalStats.js';
import { readModelDefinition } from './readModel/index.js';
import { createProjectionRuntime, type ProjectionRuntime } from './runtime.js';
import type { ProjectionDefinition } from './types.js';
import { ensureLiveVersion } from './versions.js';

export * from './types.js';
export * from './bus.js';
export { createProjectionRuntime, type ProjectionRuntime, type RuntimeOptions, type LocalStatus } from './runtime.js';
export { requestRebuild } from './versions.js';
export { liveCheckpoint, listCheckpoints, type CheckpointRow } from './checkpoints.js';
export { readModelDefinition, READ_MODEL } from './readModel/index.js';

export interface StartProjectionsOptions {
  config: ResolvedConfig;
  pools: Pools;
  /** The primary's URL (LISTEN and leases connect to it directly). */
  url: string;
  logger: Logger;
  /** The projections to run (the composition root's registry lists them). */
  definitions: ProjectionDefinition[];
  bus?: ProgressBus;
  /** This process's appends, to wake its projectors at once (the event store's notifier). */
  appends?: AppendNotifier;
}

/**
 * Starts the projection runtime with `definitions` on the primary, configured from
 * `[projections]`. Stop it with `runtime.stop()` before closing the pools: it finishes the batch in flight.
 */
export async function startProjections(options: StartProjectionsOptions): Promise<ProjectionRuntime> {
  const p = options.config.projections;
  const runtime = createProjectionRuntime(
    {
      pool: options.pools.write,
      url: options.url,
      logger: options.logger,
      batchSize: p.batch_size,
      pollIntervalMs: p.poll_interval_ms,
      lease: p.lease,
      leaseCheckMs: p.lease_check_ms,
      // A replica receives WAL once flushed: without one, batches need not wait for the disk.
      asyncCommit: !options.pools.separateRead,
      ...(options.bus ? { bus: options.bus } : {}),
      ...(options.appends ? { appends: options.appends } : {}),
    },
    options.definitions,
  );
  await runtime.start();
  return runtime;
}

/**
 * Makes sure the read model and the lexical projection have a live version (their views exist)
 * without running projectors: for `--role api` instances, so that queries answer (empty) before any
 * projector instance has started. A lexical version made here is ordered under `order` (the configured k1 and b).
 */
export async function prepareReadModel(pools: Pools, order: PostingOrder = REFERENCE): Promise<void> {
  await ensureLiveVersion(pools.write, readModelDefinition);
  await ensureLiveVersion(pools.write, lexicalStatsProjection(order));
}
