import type pg from 'pg';
import { ResultAsync } from 'neverthrow';
import { EVENT_COLUMNS, toRecordedEvent, type EventRow } from './rows.js';
import { positionParams, type Position } from './position.js';
import type { RecordedEvent } from './types.js';

export type ReadError = { type: 'store_unavailable'; cause: unknown };
const unavailable = (cause: unknown): ReadError => ({ type: 'store_unavailable', cause });

/** The events of one stream in version order, optionally after a version and up to one. */
export function readStream(
  db: pg.Pool | pg.PoolClient,
  streamId: string,
  options: { afterVersion?: number; toVersion?: number; limit?: number } = {},
): ResultAsync<RecordedEvent[], ReadError> {
  return ResultAsync.fromPromise(
    db
      .query<EventRow>(
        `select ${EVENT_COLUMNS} from events
          where stream_id = $1 and stream_version > $2 and stream_version <= $3
          order by stream_version limit $4`,
        [streamId, options.afterVersion ?? 0, options.toVersion ?? 2_147_483_647, options.limit ?? null],
      )
      .then((r) => r.rows.map(toRecordedEvent)),
    unavailable,
  );
}

/**
 * The gap-safe horizon, as an SQL expression: the oldest transaction still running that may write
 * events, or the snapshot's xmax when none is. Every event below it is committed and visible. A
 * registered maintenance transaction (`withMaintenanceTransaction`) writes none and is not waited for;
 * without one this is the snapshot's xmin.
 */
export const SAFE_HORIZON_SQL = `(select coalesce(
     (select min(x) from pg_snapshot_xip(s.snap) as x where not exists (select 1 from maintenance_transactions m where m.transaction_id = x)),
     pg_snapshot_xmax(s.snap))
   from (select pg_current_snapshot() as snap) s)`;

/**
 * Events of all streams after `after`, in (transaction_id, global_position) order.
 * Only transactions below the oldest still running (that may write events) are read, so an event
 * written by a transaction that commits later is never skipped: a reader waits for it instead.
 */
export function readAll(db: pg.Pool | pg.PoolClient, after: Position, limit: number): ResultAsync<RecordedEvent[], ReadError> {
  return ResultAsync.fromPromise(
    db
      .query<EventRow>(
        `select ${EVENT_COLUMNS} from events
          where (transaction_id, global_position) > ($1::text::xid8, $2::bigint)
            and transaction_id < ${SAFE_HORIZON_SQL}
          -- Qualified: a bare name would sort by the text alias of EVENT_COLUMNS ('1000' < '999').
          order by events.transaction_id, events.global_position
          limit $3`,
        [...positionParams(after), limit],
      )
      .then((r) => r.rows.map(toRecordedEvent)),
    unavailable,
  );
}

/**
 * Where "now" is for a reader of `readAll`: every event at or before it is committed and visible.
 * Transactions still running that may write events all have ids at or above the horizon, so reading
 * after (horizon, 0) skips nothing that commits later (at worst a few events committed just before it come too).
 */
export function readHorizon(db: pg.Pool | pg.PoolClient): ResultAsync<Position, ReadError> {
  return ResultAsync.fromPromise(
    db
      .query<{ xmin: string }>(`select ${SAFE_HORIZON_SQL}::text as xmin`)
      .then((r) => ({ transactionId: BigInt(r.rows[0]!.xmin), globalPosition: 0 })),
    unavailable,
  );
}

/** The position of the newest committed event visible now (the head projectors chase), or undefined. */
export function readHead(db: pg.Pool | pg.PoolClient): ResultAsync<{ position: Position; createdAt: Date } | undefined, ReadError> {
  return ResultAsync.fromPromise(
    db
      .query<{ transaction_id: string; global_position: number; created_at: Date }>(
        `select transaction_id::text as transaction_id, global_position, created_at from events
          order by events.transaction_id desc, events.global_position desc limit 1`,
      )
      .then((r) => {
        const row = r.rows[0];
        return row
          ? { position: { transactionId: BigInt(row.transaction_id), globalPosition: Number(row.global_position) }, createdAt: row.created_at }
          : undefined;
      }),
    unavailable,
  );
}

/** One event by id. */
export function readEvent(db: pg.Pool | pg.PoolClient, eventId: string): ResultAsync<RecordedEvent | undefined, ReadError> {
  return ResultAsync.fromPromise(
    db.query<EventRow>(`select ${EVENT_COLUMNS} from events where event_id = $1`, [eventId]).then((r) => {
      const row = r.rows[0];
      return row ? toRecordedEvent(row) : undefined;
    }),
    unavailable,
  );
}
