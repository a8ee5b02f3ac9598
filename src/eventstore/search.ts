import type pg from 'pg';
import { ResultAsync } from 'neverthrow';
import { EVENT_COLUMNS, toRecordedEvent, type EventRow } from './rows.js';
import type { RecordedEvent } from './types.js';

/** A filter over the whole log (the audit's): every field optional but the page. */
export interface EventSearch {
  types?: readonly string[] | undefined;
  actor?: string | undefined;
  streamId?: string | undefined;
  /** ISO-8601 date-times: created at or after `from`, before `to`. */
  from?: string | undefined;
  to?: string | undefined;
  /** Keyset: events after this global position (0: from the start). */
  afterPosition: number;
  limit: number;
}

/** A read that failed: the store is down, or a value the database refuses (a NUL byte, a date out of range). */
export type SearchError = { type: 'store_unavailable'; cause: unknown } | { type: 'invalid_value'; reason: string };

/**
 * The SQL of a search page: every filter a parameter, keyset on global_position, one row more than
 * the page (so the caller knows whether another follows). With a time range the page walks the
 * (created_at, global_position) index instead (same order up to commit skew), so a narrow window
 * deep in the log does not scan the whole log.
 */
export function searchSql(q: EventSearch): { text: string; values: unknown[] } {
  const byTime = q.from !== undefined || q.to !== undefined;
  const values: unknown[] = [q.afterPosition];
  const where = [
    byTime
      ? '($1::bigint = 0 or (created_at, global_position) > (select created_at, global_position from events where global_position = $1))'
      : 'global_position > $1',
  ];
  const add = (clause: (n: number) => string, value: unknown) => {
    values.push(value);
    where.push(clause(values.length));
  };
  if (q.types && q.types.length > 0) add((n) => `type = any($${n}::text[])`, q.types);
  if (q.actor) add((n) => `metadata->>'actor' = $${n}`, q.actor);
  if (q.streamId) add((n) => `stream_id = $${n}`, q.streamId);
  if (q.from) add((n) => `created_at >= $${n}::timestamptz`, q.from);
  if (q.to) add((n) => `created_at < $${n}::timestamptz`, q.to);
  values.push(q.limit + 1);
  return {
    text: `select ${EVENT_COLUMNS} from events where ${where.join(' and ')}
           order by ${byTime ? 'created_at, global_position' : 'global_position'} limit $${values.length}`,
    values,
  };
}

/** One page of events matching `q`, and the position to continue after (null on the last page). */
export function searchEvents(db: pg.Pool, q: EventSearch): ResultAsync<{ events: RecordedEvent[]; nextAfterPosition: number | null }, SearchError> {
  const sql = searchSql(q);
  return ResultAsync.fromPromise(
    db.query<EventRow>(sql.text, sql.values).then((r) => {
      const page = r.rows.slice(0, q.limit).map(toRecordedEvent);
      return { events: page, nextAfterPosition: r.rows.length > q.limit ? page.at(-1)!.position.globalPosition : null };
    }),
    (e): SearchError => {
      // Class 22, "data exception": the value is the caller's to fix, not an outage.
      const code = (e as { code?: string }).code ?? '';
      return code.startsWith('22') ? { type: 'invalid_value', reason: (e as Error).message } : { type: 'store_unavailable', cause: e };
    },
  );
}
