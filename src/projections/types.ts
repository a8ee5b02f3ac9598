import type pg from 'pg';
import type { RecordedEvent } from '../eventstore/index.js';

/**
 * A projector: a name, a version (a new version builds beside the old one, blue/green), the event
 * types it handles, and how it applies a batch.
 *
 * - `sql` projectors apply a batch inside the transaction that also moves their checkpoint
 *   (exactly-once effect). `apply` must only use `client`.
 * - `external` projectors (vectors) write elsewhere, idempotently; the runtime moves the checkpoint
 *   only after `apply` resolves (at-least-once delivery, exactly-once effect). A thrown error is
 *   retried with backoff and the checkpoint does not move.
 */
export type Projector = SqlProjector | ExternalProjector;

interface ProjectorBase {
  name: string;
  version: number;
  /** Event types this projector wants; others are skipped (but the checkpoint still passes them). */
  handles: readonly string[];
}

export interface SqlProjector extends ProjectorBase {
  kind: 'sql';
  /** Creates what this version needs (tables named for the version); run once before the first batch. */
  setup?(client: pg.PoolClient): Promise<void>;
  apply(events: RecordedEvent[], client: pg.PoolClient): Promise<void>;
}

export interface ExternalProjector extends ProjectorBase {
  kind: 'external';
  setup?(): Promise<void>;
  apply(events: RecordedEvent[]): Promise<void>;
  /**
   * How many leading events of a read batch to apply at once (at least one is). For slow work the
   * checkpoint, the lag and the progress then move every few seconds rather than once per read batch.
   */
  batchLimit?(events: readonly RecordedEvent[]): number;
  /**
   * Starts work on the batch that comes next (the events it handles) while the current one applies:
   * only work that changes nothing, whose result `apply` may take or do again (embedding its texts),
   * so that a slow store's write of one batch and the model's work on the next overlap.
   */
  prefetch?(events: RecordedEvent[]): void;
}

/**
 * A projection with versions: `create(version)` builds the projector of one version (its tables or
 * collection named for it). The runtime runs the live version and any version being rebuilt beside
 * it, switches when the new one has caught up, then drops the old one.
 */
export interface ProjectionDefinition {
  name: string;
  create(version: number): Projector;
  /**
   * Slow work a building version needs before it goes live (an index over everything it built), run
   * once it has caught up and outside the switch: inside it, the switch's locks would hold the live
   * version's projector for as long. Idempotent; `activate` still does it if it was not done.
   */
  prepare?(pool: pg.Pool, version: number): Promise<void>;
  /** Runs inside the switch transaction when `version` becomes live (e.g. re-point views). */
  activate?(client: pg.PoolClient, version: number): Promise<void>;
  /**
   * Why the live version no longer fits this process's settings (it was built under others), or
   * undefined when it does: the runtime then rebuilds it at start, blue/green.
   */
  outdated?(pool: pg.Pool, version: number): Promise<string | undefined>;
  /** Removes what a retired version built, after nobody reads it any more. */
  drop?(client: pg.PoolClient, version: number): Promise<void>;
}

/**
 * What a projector is doing in this process: `standby` (another instance holds its lease),
 * `catching_up` (full batches), `running` (applying, near the head), `idle` (at the head, waiting),
 * `failed` (the last batch threw; retrying with backoff), `stopped`.
 */
export type ProjectorStatus = 'standby' | 'catching_up' | 'running' | 'idle' | 'failed' | 'stopped';

/** Which version a projection row is: live (queries read it), building (a rebuild) or retired. */
export type VersionState = 'live' | 'building' | 'retired';
