import type { Logger } from 'pino';
import type { Metrics } from './metrics/index.js';
import type { ResolvedConfig } from './config/load.js';
import type { Pools } from './db/pools.js';
import type { EventStore, Position } from './eventstore/index.js';
import type { ProgressBus } from './projections/bus.js';
import type { Wakeup } from './eventstore/wakeup.js';
import type { ProjectionRuntime } from './projections/runtime.js';
import type { VectorService } from './vectors/service.js';

/**
 * The position of each actor's last acknowledged write, so that the actor's next reads wait for it
 * (read-your-writes for clients that cannot send `min_position`). Entries expire after `ttlMs`.
 */
export interface LastWrites {
  /** Remembers `position` for `actor` unless a later one is already remembered. */
  remember(actor: string, position: Position): Promise<void>;
  /** The actor's last write position, if one is remembered and not expired. */
  pending(actor: string): Promise<Position | undefined> | Position | undefined;
  /** The highest position each projection is known to have reached as the read pool sees it (monotonic). */
  readonly reached: Map<string, Position>;
}

/** A health or readiness check: `'ok'` when fine, otherwise a short reason. */
export type Check = () => Promise<string> | string;

/** Everything routes need, passed in (never imported as singletons) so tests build apps from real parts. */
export interface AppDeps {
  config: ResolvedConfig;
  pools: Pools;
  store: EventStore;
  logger: Logger;
  /** The clock; commands take their time from it. */
  clock: () => Date;
  startedAt: Date;
  version: string;
  /** Projection progress in this process (read-your-writes wakes on it); absent when no runtime runs here. */
  progress?: ProgressBus;
  /** The projection runtime of this process (role all/projector), for rebuilds and status. */
  projections?: ProjectionRuntime;
  /** Chroma, embedders and the vector projections; absent when this process has none (search then answers degraded). */
  vectors?: VectorService;
  /** This app's metrics (own registry): record projection lag and embed latency into it. */
  metrics?: Metrics;
  /** Wakes live event streams when events are appended (LISTEN), and tells them the service is stopping. */
  events?: { wakeup: Wakeup; closing: AbortSignal };
  /** Each actor's last acknowledged write (read-your-writes without tokens); in process when absent, Redis-shared with REDIS_URL (src/queries/lastWrites.ts). */
  lastWrites?: LastWrites;
  /** More GET /ready checks (name → check); the database and the local projectors are built in. */
  readiness?: Record<string, Check>;
}
