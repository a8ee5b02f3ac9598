import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { errAsync, okAsync, ResultAsync } from 'neverthrow';
import type { AppendNotifier } from './notifier.js';
import { EVENT_COLUMNS, toRecordedEvent, type EventRow } from './rows.js';
import type { AppendError, AppendResult, EventMetadata, ExpectedVersion, NewEvent, WithinAppend } from './types.js';

const UNIQUE_VIOLATION = '23505';

/** Events already stored under these ids, in stream order. */
async function findByIds(client: pg.Pool | pg.PoolClient, ids: string[]): Promise<EventRow[]> {
  const { rows } = await client.query<EventRow>(
    `select ${EVENT_COLUMNS} from events where event_id = any($1::uuid[]) order by stream_version`,
    [ids],
  );
  return rows;
}

type Attempt = { ok: AppendResult } | { fail: AppendError } | { retry: true };

function duplicateOf(streamId: string, ids: string[], found: EventRow[]): Attempt {
  if (found.length === ids.length && found.every((r) => r.stream_id === streamId)) {
    const events = found.map(toRecordedEvent);
    const last = events.at(-1)!;
    return { ok: { nextVersion: last.streamVersion, position: last.position, events, duplicate: true } };
  }
  return {
    fail: { type: 'idempotency_mismatch', streamId, message: 'some of these event ids are already stored for a different append' },
  };
}

// One statement, so one round trip and its own transaction: read the stream's version and insert only
// if it is the expected one (-1: any). No NOTIFY in here: the notifier sends one after the commit.
// `current_version` comes back even when nothing was inserted, to name the conflict.
const APPEND_SQL = `
  with cur as (
    select coalesce(max(stream_version), 0)::int as v from events where stream_id = $1
  ), ins as (
    insert into events (stream_id, stream_version, event_id, type, data, metadata)
    select $1, cur.v + e.ord::int, e.id, e.type, e.data, $6::jsonb
      from cur cross join unnest($3::uuid[], $4::text[], $5::jsonb[]) with ordinality as e(id, type, data, ord)
     where $2::int < 0 or cur.v = $2::int
    returning ${EVENT_COLUMNS}
  )
  select cur.v as current_version, ins.*
    from cur left join ins on true`;

type AppendRow = Partial<EventRow> & { current_version: number };

async function attempt(
  pool: pg.Pool,
  streamId: string,
  expected: ExpectedVersion,
  events: Required<NewEvent>[],
  metadata: EventMetadata,
  idsGiven: boolean,
  withinAppend?: WithinAppend,
): Promise<Attempt> {
  const ids = events.map((e) => e.eventId);
  if (idsGiven) {
    const found = await findByIds(pool, ids);
    if (found.length > 0) return duplicateOf(streamId, ids, found);
  }
  // With more work to do in the transaction, an explicit one on a dedicated client; else one statement.
  const client = withinAppend ? await pool.connect() : undefined;
  try {
    if (client) await client.query('begin');
    const { rows } = await (client ?? pool).query<AppendRow>(APPEND_SQL, [
      streamId,
      expected === 'any' ? -1 : expected,
      ids,
      events.map((e) => e.type),
      events.map((e) => JSON.stringify(e.data)),
      JSON.stringify(metadata),
    ]);
    if (rows[0]?.global_position === null || rows[0]?.global_position === undefined) {
      if (client) await client.query('rollback');
      return { fail: { type: 'version_conflict', streamId, expected, actual: rows[0]?.current_version ?? 0 } };
    }
    const recorded = (rows as EventRow[]).map(toRecordedEvent).sort((a, b) => a.streamVersion - b.streamVersion);
    const last = recorded.at(-1)!;
    if (client && withinAppend) {
      await withinAppend(client, recorded);
      await client.query('commit');
    }
    return { ok: { nextVersion: last.streamVersion, position: last.position, events: recorded, duplicate: false } };
  } catch (e) {
    if (client) await client.query('rollback').catch(() => {});
    const pgError = e as { code?: string; constraint?: string };
    if (pgError.code === UNIQUE_VIOLATION && pgError.constraint === 'events_event_id_key') {
      return duplicateOf(streamId, ids, await findByIds(pool, ids));
    }
    if (pgError.code === UNIQUE_VIOLATION) {
      // Another writer took the next version first.
      if (expected === 'any') return { retry: true };
      const actual = (
        await pool.query<{ version: number }>('select coalesce(max(stream_version), 0)::int as version from events where stream_id = $1', [streamId])
      ).rows[0]!.version;
      return { fail: { type: 'version_conflict', streamId, expected, actual } };
    }
    throw e;
  } finally {
    client?.release();
  }
}

/**
 * Appends events to a stream in one transaction (one statement unless `withinAppend` adds work), then
 * tells the notifier. A stale `expected` version is a `version_conflict`, never a duplicate row;
 * events whose ids are all stored already make a `duplicate` result and write nothing.
 */
export function appendToStream(
  pool: pg.Pool,
  notifier: AppendNotifier,
  streamId: string,
  expected: ExpectedVersion,
  events: NewEvent[],
  metadata: EventMetadata,
  withinAppend?: WithinAppend,
): ResultAsync<AppendResult, AppendError> {
  if (events.length === 0) return errAsync({ type: 'store_unavailable', cause: new Error('append of no events') });
  const idsGiven = events.some((e) => e.eventId !== undefined);
  const withIds = events.map((e) => ({ ...e, eventId: e.eventId ?? randomUUID() }));
  const run = async (): Promise<Attempt> => {
    for (let tries = 0; ; tries++) {
      const result = await attempt(pool, streamId, expected, withIds, metadata, idsGiven, withinAppend);
      if (!('retry' in result) || tries >= 10) return result;
    }
  };
  return ResultAsync.fromPromise(run(), (cause): AppendError => ({ type: 'store_unavailable', cause })).andThen((r) => {
    if ('ok' in r) {
      if (!r.ok.duplicate) notifier.committed(r.ok.position);
      return okAsync(r.ok);
    }
    if ('fail' in r) return errAsync(r.fail);
    return errAsync<AppendResult, AppendError>({ type: 'version_conflict', streamId, expected, actual: -1 });
  });
}
