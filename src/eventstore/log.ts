import type pg from 'pg';
import { EVENT_COLUMNS, toRecordedEvent, type EventRow } from './rows.js';
import { positionParams, type Position } from './position.js';
import type { RecordedEvent } from './types.js';

/** Whether any event (committed or not yet visible to readAll) lies after `position`. */
export async function hasEventsAfter(db: pg.Pool | pg.PoolClient, position: Position): Promise<boolean> {
  const { rows } = await db.query(`select 1 from events where (transaction_id, global_position) > ($1::text::xid8, $2::bigint) limit 1`, positionParams(position));
  return rows.length > 0;
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
