import type pg from 'pg';
import { EVENT_COLUMNS, toRecordedEvent, type EventRow } from './rows.js';
import type { Position } from './position.js';
import { SAFE_HORIZON_SQL } from './read.js';
import type { RecordedEvent } from './types.js';

const after = (p: Position) => [p.transactionId.toString(), p.globalPosition];

/** Whether any event (committed or not yet visible to readAll) lies after `position`. */
export async function hasEventsAfter(db: pg.Pool | pg.PoolClient, position: Position): Promise<boolean> {
  const { rows } = await db.query(`select 1 from events where (transaction_id, global_position) > ($1::text::xid8, $2::bigint) limit 1`, after(position));
  return rows.length > 0;
}

/** How many events lie after `position`, and the age in seconds of the oldest of them (null when none). */
export async function countEventsAfter(db: pg.Pool | pg.PoolClient, position: Position): Promise<{ count: number; oldestSeconds: number | null }> {
  const { rows } = await db.query<{ n: string; seconds: number | null }>(
    `select count(*)::bigint as n, extract(epoch from now() - min(created_at))::float8 as seconds
       from events where (transaction_id, global_position) > ($1::text::xid8, $2::bigint)`,
    after(position),
  );
  return { count: Number(rows[0]?.n ?? 0), oldestSeconds: rows[0]?.seconds ?? null };
}

/** Per database handle and (type, field): the items of every event below `upTo`, a gap-safe horizon. */
const settledItems = new WeakMap<object, Map<string, { upTo: bigint; items: number }>>();

/**
 * The number of items in the array `field` of every event of `type`, over the whole log. Events below
 * the gap-safe horizon are summed once per handle and remembered (their arrays never change length: a
 * purge redacts items in place), so a call reads only what was appended since the horizon it last saw.
 * A rebuild's progress is polled: summing a million-message log took seconds of database CPU per poll.
 */
export async function countArrayItems(db: pg.Pool | pg.PoolClient, type: string, field: string): Promise<number> {
  let counts = settledItems.get(db);
  if (!counts) settledItems.set(db, (counts = new Map()));
  const key = `${type}\u0000${field}`;
  const known = counts.get(key) ?? { upTo: 0n, items: 0 };
  const { rows } = await db.query<{ horizon: string; settled: string; open: string }>(
    `with horizon as (select ${SAFE_HORIZON_SQL} as h)
     select (select h from horizon)::text as horizon,
            coalesce(sum(jsonb_array_length(data->$2)) filter (where transaction_id < (select h from horizon)), 0)::bigint as settled,
            coalesce(sum(jsonb_array_length(data->$2)) filter (where transaction_id >= (select h from horizon)), 0)::bigint as open
       from events where type = $1 and (transaction_id, global_position) > ($3::text::xid8, 0)`,
    [type, field, known.upTo.toString()],
  );
  const horizon = BigInt(rows[0]!.horizon);
  const settled = known.items + Number(rows[0]!.settled);
  // Events at or above the horizon may still be joined by ones that commit later: counted, not remembered.
  if (horizon > known.upTo) counts.set(key, { upTo: horizon, items: settled });
  return settled + Number(rows[0]!.open);
}

/**
 * Forget: inside the caller's transaction, locks the stream's events before `beforeVersion` and
 * replaces the data of each one `redact` returns new data for. Answers the events as they were, so
 * the caller can forget what they held elsewhere. The only way the log's events ever change.
 */
export async function redactStream(
  client: pg.PoolClient,
  streamId: string,
  beforeVersion: number,
  redact: (event: RecordedEvent) => unknown,
): Promise<RecordedEvent[]> {
  const { rows } = await client.query<EventRow>(
    `select ${EVENT_COLUMNS} from events where stream_id = $1 and stream_version < $2 order by stream_version for update`,
    [streamId, beforeVersion],
  );
  const events = rows.map(toRecordedEvent);
  const changed: { position: number; data: unknown }[] = [];
  for (const event of events) {
    const data = redact(event);
    if (data !== undefined) changed.push({ position: event.position.globalPosition, data });
  }
  if (changed.length > 0) {
    await client.query(
      `update events e set data = c.data from unnest($1::bigint[], $2::jsonb[]) as c(position, data) where e.global_position = c.position`,
      [changed.map((c) => c.position), changed.map((c) => JSON.stringify(c.data))],
    );
  }
  return events;
}
