import type pg from 'pg';
import { errAsync, okAsync, ResultAsync } from 'neverthrow';
import type { AppendNotifier } from './notifier.js';
import { timeOrderedUuid } from './timeOrderedUuid.js';
import { EVENT_COLUMNS, toRecordedEvent, type EventRow } from './rows.js';
import type { AppendError, AppendResult, EventMetadata, ExpectedVersion, NewEvent, WithinAppend } from './types.js';

const UNIQUE_VIOLATION = '23505';

/** One append as the statements take it: its events' ids, types and data already spelled as stored. */
export interface AppendCommand {
  streamId: string;
  expected: ExpectedVersion;
  ids: string[];
  types: string[];
  /** Each event's data as the JSON text stored (what a read parses back). */
  datas: string[];
  metadataJson: string;
  /** The caller gave event ids: the append may be a retry, so stored events under them are looked for. */
  idsGiven: boolean;
}

/** The expected version as the statements spell it: -1 for 'any'. */
export const expectedParam = (expected: ExpectedVersion): number => (expected === 'any' ? -1 : expected);

/** Events already stored under these ids, in stream order. */
async function findByIds(client: pg.Pool | pg.PoolClient, ids: string[]): Promise<EventRow[]> {
  const { rows } = await client.query<EventRow>(
    `select ${EVENT_COLUMNS} from events where event_id = any($1::uuid[]) order by stream_version`,
    [ids],
  );
  return rows;
}

export type Attempt = { ok: AppendResult } | { fail: AppendError } | { retry: true };

function duplicateOf(streamId: string, ids: string[], found: EventRow[]): Attempt {
  if (found.length === ids.length && found.every((r) => r.stream_id === streamId)) {
    const events = found.map(toRecordedEvent).sort((a, b) => a.streamVersion - b.streamVersion);
    const last = events.at(-1)!;
    return { ok: { nextVersion: last.streamVersion, position: last.position, events, duplicate: true } };
  }
  return {
    fail: { type: 'idempotency_mismatch', streamId, message: 'some of these event ids are already stored for a different append' },
  };
}

/** The columns a written event comes back with: data and metadata left out (the writer has them). */
export const WRITTEN_COLUMNS = EVENT_COLUMNS.replace('data, metadata', 'null::jsonb as data, null::jsonb as metadata');

// One statement, one round trip. With ids given ($7), events already stored under them (`known`) make
// it write nothing. Else it moves the stream's row in `streams` from the expected version (-1: any; 0:
// no row yet) to the new one and inserts the events behind it. A concurrent writer of the same stream
// waits on that row's lock and then finds the version moved: an empty answer, not an error.
// When nothing was written, `kept_version` (its row) and `stored_version` (its events) are the stream's
// version as the statement began, to name the conflict. Written events come back without their data
// and metadata (the caller has them; sending them back would cost both sides a JSON round trip).
// `known` reads $7 and $3 through sub-selects: then a custom plan (one for the values given) cannot prune
// it and looks no cheaper than the generic one, so PostgreSQL keeps the generic plan instead of planning
// the statement at every execution, which cost more than running it (a 1-event append: about half of
// its backend's CPU time).
export const APPEND_SQL = `
  with known as (
    select ${EVENT_COLUMNS} from events where (select $7::bool) and event_id = any((select $3::uuid[])::uuid[])
  ), created as (
    insert into streams as s (stream_id, version)
    select $1, cardinality($3::uuid[]) where $2::int <= 0 and not exists (select from known)
    on conflict (stream_id) do update set version = s.version + excluded.version where $2::int < 0
    returning s.version
  ), moved as (
    update streams set version = version + cardinality($3::uuid[])
     where $2::int > 0 and stream_id = $1 and version = $2::int and not exists (select from known)
    returning version
  ), next as (
    select version from created union all select version from moved
  ), ins as (
    insert into events (stream_id, stream_version, event_id, type, data, metadata)
    select $1, next.version - cardinality($3::uuid[]) + e.ord::int, e.id, e.type, e.data, $6::jsonb
      from next cross join rows from (unnest($3::uuid[]), unnest($4::text[]), jsonb_array_elements($5::jsonb)) with ordinality as e(id, type, data, ord)
    returning ${WRITTEN_COLUMNS}
  )
  select (select version from streams where stream_id = $1) as kept_version,
         case when r.inserted is null then (select max(stream_version) from events where stream_id = $1) end as stored_version,
         r.*
    from (select true as inserted, ins.* from ins union all select false, known.* from known) r right join (select) one on true`;

/** An append statement's rows for one append: its events (written or found), or one row saying why neither. */
export type AppendRow = Partial<EventRow> & { kept_version: number | null; stored_version: number | null; inserted: boolean | null };

/** What an append statement's rows for one append say. */
export type Outcome =
  | { written: EventRow[] }
  | { known: EventRow[] }
  | { nothing: { kept: number; stored: number } };

export function outcomeOf(rows: AppendRow[]): Outcome {
  const first = rows[0]!;
  if (first.inserted === true) return { written: rows as EventRow[] };
  if (first.inserted === false) return { known: rows as EventRow[] };
  return { nothing: { kept: first.kept_version ?? 0, stored: first.stored_version ?? 0 } };
}

/**
 * The answer to written events, as a read would give them: the JSON that was stored, parsed. The i-th
 * event in stream order is the i-th given (its version is the base plus its ordinality), whatever
 * spelling of its id was given.
 */
export function writtenResult(command: AppendCommand, written: EventRow[]): AppendResult {
  const recorded = [...written]
    .sort((a, b) => a.stream_version - b.stream_version)
    .map((row, i) =>
      toRecordedEvent({ ...row, data: JSON.parse(command.datas[i]!) as unknown, metadata: JSON.parse(command.metadataJson) as EventMetadata }),
    );
  const last = recorded.at(-1)!;
  return { nextVersion: last.streamVersion, position: last.position, events: recorded, duplicate: false };
}

/** The answer to an append that wrote nothing: its duplicate, its conflict, or a retry after catching up. */
export async function unwrittenAttempt(pool: pg.Pool, command: AppendCommand, outcome: Exclude<Outcome, { written: EventRow[] }>): Promise<Attempt> {
  const { streamId, expected, ids } = command;
  if ('known' in outcome) return duplicateOf(streamId, ids, outcome.known);
  const { kept, stored } = outcome.nothing;
  if (stored > kept) return catchUpStream(pool, streamId);
  if (kept !== expected) return { fail: { type: 'version_conflict', streamId, expected, actual: kept } };
  // The version was the expected one when the statement began: another writer took it meanwhile,
  // maybe this append's own original (a retry that waited on its lock), whose events are its answer.
  if (command.idsGiven) {
    const found = await findByIds(pool, ids);
    if (found.length > 0) return duplicateOf(streamId, ids, found);
  }
  return { fail: { type: 'version_conflict', streamId, expected, actual: await keptVersion(pool, streamId) } };
}

/**
 * Events' data as the statements take it: one JSON array of them, not a jsonb[] (whose text form
 * escapes every quote in every event for the client to write and the server to read back).
 */
export const dataArray = (datas: string[]): string => `[${datas.join(',')}]`;

/** The append statement's parameters for one append. */
const appendParams = (c: AppendCommand) => [c.streamId, expectedParam(c.expected), c.ids, c.types, dataArray(c.datas), c.metadataJson, c.idsGiven];

/** One append in a transaction of its own (one statement unless `withinAppend` adds work). */
export async function appendAlone(pool: pg.Pool, command: AppendCommand, withinAppend?: WithinAppend): Promise<Attempt> {
  // With more work to do in the transaction, an explicit one on a dedicated client; else one statement.
  const client = withinAppend ? await pool.connect() : undefined;
  try {
    if (client) await client.query('begin');
    const { rows } = await (client ?? pool).query<AppendRow>({ name: 'sekha-append', text: APPEND_SQL, values: appendParams(command) });
    const outcome = outcomeOf(rows);
    if (!('written' in outcome)) {
      if (client) await client.query('rollback');
      return await unwrittenAttempt(pool, command, outcome);
    }
    const result = writtenResult(command, outcome.written);
    if (client && withinAppend) {
      await withinAppend(client, result.events);
      await client.query('commit');
    }
    return { ok: result };
  } catch (e) {
    if (client) await client.query('rollback').catch(() => {});
    const pgError = e as { code?: string; constraint?: string };
    if (pgError.code === UNIQUE_VIOLATION && pgError.constraint === 'events_event_id_key') {
      // A concurrent append with the same ids committed first.
      return duplicateOf(command.streamId, command.ids, await findByIds(pool, command.ids));
    }
    if (pgError.code === UNIQUE_VIOLATION && pgError.constraint === 'events_stream_id_stream_version_key') {
      return catchUpStream(pool, command.streamId);
    }
    throw e;
  } finally {
    client?.release();
  }
}

const keptVersion = async (pool: pg.Pool, streamId: string): Promise<number> =>
  (await pool.query<{ version: number }>('select version from streams where stream_id = $1', [streamId])).rows[0]?.version ?? 0;

// Events written by a writer that did not keep `streams` (an older version, during an upgrade): bring
// the stream's row up to its events, then the next attempt sees the truth.
async function catchUpStream(pool: pg.Pool, streamId: string): Promise<Attempt> {
  await pool.query(
    `insert into streams (stream_id, version)
     select $1, max(stream_version) from events where stream_id = $1 having count(*) > 0
     on conflict (stream_id) do update set version = excluded.version where streams.version < excluded.version`,
    [streamId],
  );
  return { retry: true };
}

/** What sends an append without `withinAppend` to the database: the batcher (appendBatch.ts), or `appendAlone`. */
export interface AppendSender {
  append(command: AppendCommand): Promise<Attempt>;
}

/**
 * Appends events to a stream in one transaction, then tells the notifier. Without `withinAppend` the
 * batcher may commit it together with appends to other streams (each keeps its own check and answer);
 * with it, the append has a transaction of its own. A stale `expected` version is a `version_conflict`,
 * never a duplicate row; events whose ids are all stored already make a `duplicate` result and write nothing.
 */
export function appendToStream(
  pool: pg.Pool,
  notifier: AppendNotifier,
  batcher: AppendSender,
  streamId: string,
  expected: ExpectedVersion,
  events: NewEvent[],
  metadata: EventMetadata,
  withinAppend?: WithinAppend,
): ResultAsync<AppendResult, AppendError> {
  if (events.length === 0) return errAsync({ type: 'store_unavailable', cause: new Error('append of no events') });
  const command: AppendCommand = {
    streamId,
    expected,
    // Time-ordered: the unique index on event ids then grows at its right edge (see timeOrderedUuid).
    ids: events.map((e) => e.eventId ?? timeOrderedUuid()),
    types: events.map((e) => e.type),
    datas: events.map((e) => JSON.stringify(e.data)),
    metadataJson: JSON.stringify(metadata),
    idsGiven: events.some((e) => e.eventId !== undefined),
  };
  const run = async (): Promise<Attempt> => {
    for (let tries = 0; ; tries++) {
      const result = withinAppend ? await appendAlone(pool, command, withinAppend) : await batcher.append(command);
      if (!('retry' in result) || tries >= 3) return result;
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
