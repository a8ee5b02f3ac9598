import { okAsync } from 'neverthrow';
import type pg from 'pg';
import type { Logger } from 'pino';
import { comparePositions, hasEventsAfter, START, type Position, type RecordedEvent } from '../eventstore/index.js';
import { readAll, type ReadError } from '../eventstore/read.js';
import type { ProgressBus } from './bus.js';
import { advanceCheckpoint, readCheckpoint, saveCheckpoint, saveStatus } from './checkpoints.js';
import type { Lease } from './lease.js';
import type { Projector, ProjectorStatus } from './types.js';
import type { Wakeup } from '../eventstore/wakeup.js';
import { BEGIN_NO_FLUSH_WAIT, withTransaction } from '../db/transaction.js';

export interface RunnerOptions {
  projector: Projector;
  /** The primary pool: events, checkpoints, and the tables of SQL projectors. */
  pool: pg.Pool;
  lease: Lease;
  wakeup: Wakeup;
  bus: ProgressBus;
  logger: Logger;
  batchSize: number;
  pollIntervalMs: number;
  /** How often a standby retries the lease. */
  leaseRetryMs: number;
  /** Warn once when an open transaction has held reads back this long (default 10 s). */
  heldBackWarnMs?: number;
  /**
   * Commit SQL batches without waiting for the WAL flush (BEGIN_NO_FLUSH_WAIT): the batch and its
   * checkpoint are lost or kept together, so a crash costs a re-apply, never an event. Only without
   * a replica: a standby receives WAL once it is flushed, so reads there would see batches later.
   */
  asyncCommit?: boolean;
  /** Called when the version is retired or its row is gone: the runner has stopped. */
  onGone?: () => void;
}

/** One projector version running in this process. */
export interface Runner {
  readonly name: string;
  readonly version: number;
  readonly status: ProjectorStatus;
  readonly position: Position;
  readonly lastError: string | undefined;
  /** Stops after the current batch and lets the lease go. */
  stop(): Promise<void>;
}

type BatchOutcome = 'applied' | 'fenced' | 'gone';

/** Backoff after a failed batch: 100 ms doubling to 30 s. */
export const failureBackoffMs = (failures: number): number => Math.min(100 * 2 ** Math.max(0, failures - 1), 30_000);

/**
 * How long to wait before looking again after `heldBack` looks in a row found events after the
 * checkpoint that the gap-safe read cannot see yet (an append still committing, usually for
 * < 1 ms): 5 ms doubling, never past the slow poll; the slow poll once nothing is held back.
 */
export const heldBackWaitMs = (heldBack: number, pollIntervalMs: number): number =>
  heldBack > 0 ? Math.min(5 * 2 ** (heldBack - 1), pollIntervalMs) : pollIntervalMs;

/**
 * Runs one projector under its lease: read a batch after the checkpoint (gap-safe), apply it, move
 * the checkpoint; wait for a wake-up when at the head; retry with backoff when a batch throws.
 */
export function startRunner(options: RunnerOptions): Runner {
  const { projector, pool, lease, wakeup, bus } = options;
  const { name, version } = projector;
  const log = options.logger.child({ projector: name, version });
  const handles = new Set(projector.handles);
  let status: ProjectorStatus = 'standby';
  let position: Position = START;
  let lastError: string | undefined;
  let stopping = false;
  let wakeStop: () => void = () => {};
  const stopped = new Promise<void>((r) => (wakeStop = r));

  const setStatus = (next: ProjectorStatus, error?: string) => {
    const changed = next !== status || error !== lastError;
    status = next;
    lastError = error;
    if (!changed) return;
    bus.emit('status', { name, version, status: next, ...(error ? { error } : {}) });
    if (lease.held) void saveStatus(pool, name, version, next, error).catch(() => {});
  };
  const pause = (ms: number) =>
    Promise.race([stopped, new Promise<void>((r) => setTimeout(r, ms).unref())]);

  async function setup(): Promise<boolean> {
    if (projector.kind === 'sql') {
      await withTransaction(pool, async (client) => projector.setup?.(client));
    } else {
      await projector.setup?.();
    }
    const row = await readCheckpoint(pool, name, version);
    if (!row || row.state === 'retired') return false;
    position = row.position;
    return true;
  }

  async function applySql(events: RecordedEvent[], to: Position, next: ProjectorStatus): Promise<BatchOutcome> {
    if (projector.kind !== 'sql') throw new Error('not a SQL projector');
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query(options.asyncCommit ? BEGIN_NO_FLUSH_WAIT : 'begin');
      // The fence: a stale leader (lost lease, still mid-batch) finds the row moved and applies nothing.
      const row = await readCheckpoint(client, name, version, true);
      if (!row || row.state === 'retired') {
        await client.query('rollback');
        return 'gone';
      }
      if (comparePositions(row.position, position) !== 0) {
        await client.query('rollback');
        position = row.position;
        return 'fenced';
      }
      const relevant = events.filter((e) => handles.has(e.type));
      if (relevant.length > 0) await projector.apply(relevant, client);
      await saveCheckpoint(client, name, version, to, next);
      await client.query('commit');
      return 'applied';
    } catch (e) {
      broken = e as Error;
      await client.query('rollback').catch(() => {});
      throw e;
    } finally {
      client.release(broken && /terminat|connection/i.test(broken.message) ? broken : undefined);
    }
  }

  async function applyExternal(events: RecordedEvent[], to: Position, next: ProjectorStatus): Promise<BatchOutcome> {
    if (projector.kind !== 'external') throw new Error('not an external projector');
    const relevant = events.filter((e) => handles.has(e.type));
    if (relevant.length > 0) await projector.apply(relevant);
    if (await advanceCheckpoint(pool, name, version, position, to, next)) return 'applied';
    const row = await readCheckpoint(pool, name, version);
    if (!row || row.state === 'retired') return 'gone';
    position = row.position;
    return 'fenced';
  }

  const hasPending = (): Promise<boolean> => hasEventsAfter(pool, position);

  /** How many leading events of a read batch are applied together (an external projector may cut it short). */
  const takeOf = (batch: readonly RecordedEvent[]): number =>
    projector.kind === 'external' && projector.batchLimit && batch.length > 0 ? Math.min(batch.length, Math.max(1, projector.batchLimit(batch))) : batch.length;

  /** Hands the next batch, as it will be applied, to an external projector's `prefetch`. */
  const prefetchNext = (next: readonly RecordedEvent[]): void => {
    if (projector.kind !== 'external' || !projector.prefetch) return;
    try {
      const relevant = next.slice(0, takeOf(next)).filter((e) => handles.has(e.type));
      if (relevant.length > 0) projector.prefetch(relevant);
    } catch (e) {
      // Only a head start: the batch's own apply does the work.
      log.debug({ err: { message: (e as Error).message } }, 'prefetch failed');
    }
  };

  /**
   * Who holds the readers back (for the alert; no query text: it may carry data): the session with
   * the oldest transaction id that is not a registered maintenance transaction (those hold no one).
   */
  async function oldestTransaction(): Promise<unknown> {
    const { rows } = await pool
      .query(
        `select pid, usename, application_name, state, extract(epoch from now() - xact_start)::int as open_seconds
           from pg_stat_activity a
          where backend_xid is not null
            and not exists (select 1 from maintenance_transactions m where xid(m.transaction_id) = a.backend_xid)
          order by age(backend_xid) desc limit 1`,
      )
      .catch(() => ({ rows: [] }));
    return rows[0];
  }

  async function loop(): Promise<void> {
    let ready = false;
    let failures = 0;
    let heldBack = 0;
    let heldBackSince: number | undefined;
    let warned = false;
    // `full`: the rest of a read batch cut short is as full as that read was (a full read means more to come).
    let prefetched: { from: Position; read: ReturnType<typeof readAll>; full?: boolean } | undefined;
    while (!stopping) {
      try {
        if (!lease.held) {
          ready = false;
          setStatus('standby');
          if (!(await lease.acquire())) {
            await pause(options.leaseRetryMs);
            continue;
          }
          log.info('projector lease taken');
        }
        if (!ready) {
          if (!(await setup())) return gone();
          ready = true;
        }
        const generation = wakeup.generation;
        // While catching up, the next batch was read during the last apply; use it if still current.
        const current = prefetched && comparePositions(prefetched.from, position) === 0 ? prefetched : undefined;
        const ahead = current ? await current.read : undefined;
        prefetched = undefined;
        const read = ahead?.isOk() && ahead.value.length > 0 ? ahead : await readAll(pool, position, options.batchSize);
        if (read.isErr()) throw read.error.cause instanceof Error ? read.error.cause : new Error('event store unavailable');
        const batch = read.value;
        const full = (read === ahead ? current?.full : undefined) ?? batch.length >= options.batchSize;
        const take = takeOf(batch);
        const events = take < batch.length ? batch.slice(0, take) : batch;
        if (events.length === 0) {
          setStatus('idle');
          // Events after the checkpoint that readAll cannot see yet wait on an older open
          // transaction: look again soon rather than at the slow poll.
          heldBack = (await hasPending()) ? heldBack + 1 : 0;
          if (heldBack > 0) {
            heldBackSince ??= Date.now();
            const heldMs = Date.now() - heldBackSince;
            // The alert: a long transaction (an idle-in-transaction session, a stuck migration) stalls every projector.
            if (!warned && heldMs >= (options.heldBackWarnMs ?? 10_000)) {
              warned = true;
              log.warn({ heldBackMs: heldMs, oldestTransaction: await oldestTransaction() }, 'projector held back by an old open transaction; events after the checkpoint wait until it ends');
            }
          } else if (heldBackSince !== undefined) {
            if (warned) log.info({ heldBackMs: Date.now() - heldBackSince }, 'projector no longer held back');
            heldBackSince = undefined;
            warned = false;
          }
          await Promise.race([stopped, wakeup.wait(generation, heldBackWaitMs(heldBack, options.pollIntervalMs))]);
          continue;
        }
        const to = events.at(-1)!.position;
        const rest = batch.slice(take);
        const next: ProjectorStatus = rest.length > 0 || full ? 'catching_up' : 'running';
        if (!lease.held) continue;
        // External work can take long (embedding): show it as working, not idle, meanwhile.
        if (projector.kind === 'external' && status === 'idle') setStatus(next);
        // The rest of a batch cut short is the next batch as read (events in order, gap-safe already);
        // a full batch has its successor read while this one is applied.
        if (rest.length > 0) {
          prefetched = { from: to, read: okAsync<RecordedEvent[], ReadError>(rest), full };
          prefetchNext(rest);
        } else if (next === 'catching_up') {
          const read = readAll(pool, to, options.batchSize);
          prefetched = { from: to, read };
          void read.map(prefetchNext);
        }
        const outcome = projector.kind === 'sql' ? await applySql(events, to, next) : await applyExternal(events, to, next);
        if (outcome === 'gone') return gone();
        if (outcome === 'applied') {
          position = to;
          failures = 0;
          setStatus(next);
          bus.emit('progress', { name, version, position: to, events: events.length });
          // Our transaction may have held back other projectors' reads: let them look again.
          wakeup.nudge();
        }
      } catch (e) {
        failures++;
        const message = e instanceof Error ? e.message : String(e);
        log.warn({ err: { message }, failures }, 'projector batch failed; retrying');
        setStatus('failed', message);
        await pause(failureBackoffMs(failures));
      }
    }
  }

  const gone = () => {
    log.info('projector version retired; stopping');
    stopping = true;
    options.onGone?.();
  };

  const done = loop()
    .catch((e: unknown) => log.error({ err: { message: (e as Error).message } }, 'projector loop crashed'))
    .finally(async () => {
      if (lease.held) await saveStatus(pool, name, version, 'stopped').catch(() => {});
      status = 'stopped';
      bus.emit('status', { name, version, status: 'stopped' });
      await lease.release();
    });

  return {
    name,
    version,
    get status() {
      return status;
    },
    get position() {
      return position;
    },
    get lastError() {
      return lastError;
    },
    async stop() {
      stopping = true;
      wakeStop();
      await done;
    },
  };
}
