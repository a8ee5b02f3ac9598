import type pg from 'pg';
import {
  appendAlone,
  dataArray,
  expectedParam,
  outcomeOf,
  unwrittenAttempt,
  writtenResult,
  WRITTEN_COLUMNS,
  type AppendCommand,
  type AppendSender,
  type AppendRow,
  type Attempt,
} from './append.js';
import { EVENT_COLUMNS } from './rows.js';

/** Default most appends one batch carries: bounds one statement's parameters and how long it holds its rows. */
export const DEFAULT_APPEND_BATCH_MAX = 64;

// APPEND_SQL for several streams at once, one row per append in `m` and one per event in `e`: one
// statement, one transaction, one WAL flush for all of them. Each append keeps its own check, as alone:
// its events already stored under its given ids (`known`) make it write nothing; else its stream's row
// moves from the expected version to the new one (`moved`: rows that exist; `created`: rows that do
// not, 'any' moving one a concurrent writer just created) and its events go in behind it.
// Rows of `streams` another transaction holds (a purge's long transaction, another instance's append)
// are skipped, not waited for (`busy`): those appends go alone, so that one stream's lock never holds
// up the others. A batch still waits for what another running transaction inserted under the same key
// (a stream's first row, an event id): a retry racing its original; new rows go in in stream order,
// and an error such as a deadlock aborts the batch (its appends then go alone).
// Each append gets its rows, as APPEND_SQL's (its events written or found, or one row saying why
// neither), under its `member` number; `busy` says it was skipped. The arrays are read through
// sub-selects, as APPEND_SQL's `known`: a custom plan then looks no cheaper than the generic one, and
// PostgreSQL stops planning the statement at every execution (as it would for batches of a few).
// That generic plan is made at the statement's sixth run, on a new database while `streams` and
// `events` are nearly empty, and kept as they grow: the lookups in them are spelled so that no plan
// can scan them whole, which looks cheap on empty tables and then costs a scan per batch (at 20,000
// streams, ten times the batch's own work). `known`'s lateral lookup has a limit, so it is not flattened
// into a join (a hash join over all of `events`); `busy` is a scalar sub-select, not an EXISTS that
// PostgreSQL may run as one hashed scan of all of `streams`.
export const APPEND_BATCH_SQL = `
  with m as (
    select stream_id, expected, n, ids_given, metadata, member::int as member
      from unnest((select $1::text[]), (select $2::int[]), (select $3::int[]), (select $4::bool[]), (select $5::jsonb[]))
           with ordinality as t(stream_id, expected, n, ids_given, metadata, member)
  ), e as (
    select * from rows from (unnest((select $6::int[])), unnest((select $7::uuid[])), unnest((select $8::text[])), jsonb_array_elements((select $9::jsonb)), unnest((select $10::int[]))) as e(member, id, type, data, k)
  ), known as (
    select e.member as of_member, false as inserted, found.*
      from e join m using (member)
      cross join lateral (select ${EVENT_COLUMNS} from events where event_id = e.id limit 1) found
     where m.ids_given
  ), unknown as (
    select * from m where not exists (select from known where of_member = m.member)
  ), locked as (
    select stream_id, version from streams where stream_id in (select stream_id from unknown)
     order by stream_id for update skip locked
  ), fresh as (
    select u.*, l.version as held, l.stream_id is null and (select true from streams s where s.stream_id = u.stream_id) is not null as busy
      from unknown u left join locked l using (stream_id)
  ), moved as (
    update streams s set version = s.version + f.n from fresh f
     where s.stream_id = f.stream_id and f.held is not null and (f.expected < 0 or f.held = f.expected)
    returning s.stream_id, s.version
  ), created as (
    insert into streams as s (stream_id, version)
    select stream_id, n from fresh where held is null and not busy and expected <= 0 order by stream_id
    on conflict (stream_id) do update set version = s.version + excluded.version
     where exists (select from m where m.stream_id = excluded.stream_id and m.expected < 0)
    returning s.stream_id, s.version
  ), next as (
    select * from moved union all select * from created
  ), ins as (
    insert into events (stream_id, stream_version, event_id, type, data, metadata)
    select f.stream_id, next.version - f.n + e.k, e.id, e.type, e.data, f.metadata
      from next join fresh f using (stream_id) join e on e.member = f.member
     order by f.member, e.k
    returning ${WRITTEN_COLUMNS}
  ), r as (
    select m.member as of_member, true as inserted, ins.* from ins join m using (stream_id)
    union all
    select * from known
  )
  select m.member, f.busy,
         case when r.inserted is null then (select version from streams s where s.stream_id = m.stream_id) end as kept_version,
         case when r.inserted is null then (select max(stream_version) from events ev where ev.stream_id = m.stream_id) end as stored_version,
         r.*
    from m left join fresh f using (member) left join r on r.of_member = m.member`;

type BatchRow = AppendRow & { member: number; busy: boolean | null };

const batchParams = (members: AppendCommand[]) => [
  members.map((c) => c.streamId),
  members.map((c) => expectedParam(c.expected)),
  members.map((c) => c.ids.length),
  members.map((c) => c.idsGiven),
  members.map((c) => c.metadataJson),
  members.flatMap((c, i) => c.ids.map(() => i + 1)),
  members.flatMap((c) => c.ids),
  members.flatMap((c) => c.types),
  dataArray(members.flatMap((c) => c.datas)),
  members.flatMap((c) => c.ids.map((_, k) => k + 1)),
];

export interface AppendBatcherOptions {
  /** Most appends one batch carries; 1 batches nothing (every append goes alone, at once). */
  maxSize?: number;
  /** A statement in flight this long stops holding back the queue (it may be waiting on a lock). */
  stallMs?: number;
  /** Statements in flight at once; appends that find this many queue for the next batch. */
  concurrency?: number;
}

/**
 * Default stall: far above a batch's usual latency (milliseconds), short next to a purge's transaction
 * that a lone append to its stream would wait for while holding up every other writer of the process.
 */
export const DEFAULT_APPEND_STALL_MS = 50;

/**
 * Default statements in flight: with one, two writers would take turns (each append waiting for the
 * other's commit, none batched); with two, they go side by side, and busier writers still share commits.
 * With three, while one statement's commit waits for its WAL flush, the other two finish and their
 * commits go to disk together in the next flush (with two, every flush carried one statement's).
 */
export const DEFAULT_APPEND_CONCURRENCY = 3;

export interface AppendBatchStats {
  /** Statements that carried more than one append. */
  batches: number;
  /** Appends those statements carried. */
  batchedAppends: number;
  /** Batches an error aborted, whose appends then went one by one. */
  fallbacks: number;
  /** Times the queue went on past a statement in flight for longer than the stall time. */
  stalls: number;
}

/**
 * Group commit for appends without more work in their transaction. An append that finds fewer than
 * `concurrency` statements in flight goes at once, alone (no added latency); appends that arrive while
 * that many are in flight queue and go together as the next statement when one ends, in arrival order,
 * one per stream (a second append to a stream waits for the batch after), up to `maxSize`. An error that aborts a batch (a concurrent
 * append's unique id, a deadlock with another instance) sends its appends one by one, each answered
 * as alone; so does a stream whose row another transaction holds. A statement that stalls (waiting
 * on a lock) stops holding back the queue after `stallMs`.
 */
export interface AppendBatcher extends AppendSender {
  readonly stats: Readonly<AppendBatchStats>;
}

interface Waiting {
  command: AppendCommand;
  resolve: (attempt: Attempt) => void;
  reject: (cause: unknown) => void;
}

export function createAppendBatcher(pool: pg.Pool, options: AppendBatcherOptions = {}): AppendBatcher {
  const maxSize = Math.max(1, options.maxSize ?? DEFAULT_APPEND_BATCH_MAX);
  const stallMs = options.stallMs ?? DEFAULT_APPEND_STALL_MS;
  const concurrency = Math.max(1, options.concurrency ?? DEFAULT_APPEND_CONCURRENCY);
  const stats: AppendBatchStats = { batches: 0, batchedAppends: 0, fallbacks: 0, stalls: 0 };
  let queue: Waiting[] = [];
  // The statements in flight that the queue waits for (a stalled one is no longer waited for).
  const holding = new Set<symbol>();
  let watchdog: NodeJS.Timeout | undefined;

  const alone = (w: Waiting) => appendAlone(pool, w.command).then(w.resolve, w.reject);

  /** The next batch: the oldest queued appends, one per stream, up to maxSize; the rest keep their places. */
  const takeBatch = (): Waiting[] => {
    const batch: Waiting[] = [];
    const rest: Waiting[] = [];
    const streams = new Set<string>();
    for (const w of queue) {
      if (batch.length < maxSize && !streams.has(w.command.streamId)) {
        batch.push(w);
        streams.add(w.command.streamId);
      } else rest.push(w);
    }
    queue = rest;
    return batch;
  };

  // Answers are settled after the statement; only the statement holds up the queue, so the next batch
  // goes while the answers' follow-ups (a conflict's lookup, a skipped append) run beside it.
  const runBatch = async (batch: Waiting[]): Promise<void> => {
    let rows: BatchRow[];
    try {
      rows = (await pool.query<BatchRow>({ name: 'sekha-append-batch', text: APPEND_BATCH_SQL, values: batchParams(batch.map((w) => w.command)) })).rows;
    } catch {
      // Nothing of the batch committed: each append goes alone and gets its own answer (or failure).
      stats.fallbacks++;
      for (const w of batch) void alone(w);
      return;
    }
    stats.batches++;
    stats.batchedAppends += batch.length;
    const byMember = new Map<number, BatchRow[]>();
    for (const row of rows) {
      const list = byMember.get(row.member);
      if (list) list.push(row);
      else byMember.set(row.member, [row]);
    }
    batch.forEach((w, i) => {
      const own = byMember.get(i + 1)!;
      if (own[0]!.busy) return void alone(w);
      const outcome = outcomeOf(own);
      if ('written' in outcome) w.resolve({ ok: writtenResult(w.command, outcome.written) });
      else unwrittenAttempt(pool, w.command, outcome).then(w.resolve, w.reject);
    });
  };

  const go = (batch: Waiting[]) => {
    const token = Symbol('statement');
    holding.add(token);
    const done = batch.length === 1 ? alone(batch[0]!) : runBatch(batch);
    void done.finally(() => {
      if (!holding.delete(token)) return;
      clearTimeout(watchdog);
      pump();
    });
    // While some wait: if this statement is still in flight after stallMs, they stop waiting for it.
    if (queue.length > 0) watch();
  };

  /** Sends what is queued while fewer than `concurrency` statements hold the queue. */
  const pump = () => {
    while (queue.length > 0 && holding.size < concurrency) go(takeBatch());
  };

  const watch = () => {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => {
      if (holding.size === 0 || queue.length === 0) return;
      stats.stalls++;
      holding.clear();
      pump();
    }, stallMs);
    watchdog.unref();
  };

  return {
    append(command) {
      if (maxSize === 1) return appendAlone(pool, command);
      return new Promise<Attempt>((resolve, reject) => {
        const waiting = { command, resolve, reject };
        if (holding.size >= concurrency) {
          queue.push(waiting);
          if (queue.length === 1) watch();
        } else go([waiting]);
      });
    },
    stats,
  };
}
