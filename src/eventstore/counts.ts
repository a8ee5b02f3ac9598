import type pg from 'pg';
import { comparePositions, formatPosition, parsePosition, positionParams, START, type Position } from './position.js';
import { SAFE_HORIZON_SQL } from './read.js';

/**
 * Counts over the log that are polled again and again (a projection's lag on GET /api/v1/projections,
 * /metrics and the replay progress bar; a vector rebuild's progress), kept cheap. What lies below the
 * gap-safe horizon never changes (events are never deleted, and a purge redacts in place), so each
 * database handle sums it once and afterwards reads only what was appended since. Summed afresh on
 * every poll, a 200,000-event log cost 80–360 ms of both cores each time, and the bench polled every
 * 100 ms while it timed a rebuild.
 */

type Db = pg.Pool | pg.PoolClient;

/** A sum below a horizon: every event with a lower transaction id is committed and counted in `total`. */
interface Settled {
  upTo: bigint;
  total: number;
}

interface Memo {
  settled: Map<string, Settled>;
  /** Events at or before a settled position, for positions asked about lately (most recent last). */
  ranks: Map<string, number>;
}

const memos = new WeakMap<object, Memo>();
const RANKS_KEPT = 64;

function memoOf(db: Db): Memo {
  let memo = memos.get(db);
  if (!memo) memos.set(db, (memo = { settled: new Map(), ranks: new Map() }));
  return memo;
}

/** What to sum over events: an aggregate, a filter and their parameters (numbered from $2). */
interface Measure {
  key: string;
  aggregate: string;
  where: string;
  params: unknown[];
}

/** The measure over the whole log now, reading only events at or above the horizon remembered for it. */
async function sumOverLog(db: Db, measure: Measure): Promise<{ total: number; settled: Settled }> {
  const memo = memoOf(db);
  const known = memo.settled.get(measure.key) ?? { upTo: 0n, total: 0 };
  const { rows } = await db.query<{ horizon: string; settled: string; open: string }>(
    `with horizon as (select ${SAFE_HORIZON_SQL} as h)
     select (select h from horizon)::text as horizon,
            coalesce(${measure.aggregate} filter (where transaction_id < (select h from horizon)), 0)::bigint as settled,
            coalesce(${measure.aggregate} filter (where transaction_id >= (select h from horizon)), 0)::bigint as open
       from events where ${measure.where} and (transaction_id, global_position) > ($1::text::xid8, 0)`,
    [known.upTo.toString(), ...measure.params],
  );
  const row = rows[0]!;
  const horizon = BigInt(row.horizon);
  // Events at or above the horizon may still be joined by ones that commit later: counted, not remembered.
  const settled = horizon > known.upTo ? { upTo: horizon, total: known.total + Number(row.settled) } : known;
  memo.settled.set(measure.key, settled);
  return { total: known.total + Number(row.settled) + Number(row.open), settled };
}

/** The number of items in the array `field` of every event of `type`, over the whole log. */
export async function countArrayItems(db: Db, type: string, field: string): Promise<number> {
  const measure = { key: `items\u0000${type}\u0000${field}`, aggregate: 'sum(jsonb_array_length(data->$3))', where: 'type = $2', params: [type, field] };
  return (await sumOverLog(db, measure)).total;
}

const EVENTS: Measure = { key: 'events', aggregate: 'count(*)', where: 'true', params: [] };

/** Events after `from`, and at or before `to` when given. */
async function countBetween(db: Db, from: Position, to?: Position): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `select count(*)::bigint as n from events
      where (transaction_id, global_position) > ($1::text::xid8, $2::bigint)${to ? ' and (transaction_id, global_position) <= ($3::text::xid8, $4::bigint)' : ''}`,
    [...positionParams(from), ...(to ? positionParams(to) : [])],
  );
  return Number(rows[0]!.n);
}

/**
 * How many events lie at or before `position`, a settled one: counted from the nearest position whose
 * count is known (the start; the horizon, before which lie the settled events; one asked about lately).
 */
async function eventsThrough(db: Db, position: Position, settled: Settled): Promise<number> {
  const ranks = memoOf(db).ranks;
  const key = formatPosition(position);
  let rank = ranks.get(key);
  if (rank === undefined) {
    const anchors: [Position, number][] = [[START, 0], [{ transactionId: settled.upTo, globalPosition: 0 }, settled.total]];
    for (const [k, r] of ranks) anchors.push([parsePosition(k)!, r]);
    // Nearest by transaction id: ids and positions grow together, so it stands in for the events between.
    const distance = (p: Position) => (p.transactionId > position.transactionId ? p.transactionId - position.transactionId : position.transactionId - p.transactionId);
    const [anchor, anchorRank] = anchors.reduce((best, a) => (distance(a[0]) < distance(best[0]) ? a : best));
    rank = comparePositions(anchor, position) <= 0 ? anchorRank + (await countBetween(db, anchor, position)) : anchorRank - (await countBetween(db, position, anchor));
  }
  ranks.delete(key);
  ranks.set(key, rank);
  if (ranks.size > RANKS_KEPT) ranks.delete(ranks.keys().next().value!);
  return rank;
}

/** How many events lie after `position` (a projector's checkpoint), and the age in seconds of the oldest of them (null when none). */
export async function countEventsAfter(db: Db, position: Position): Promise<{ count: number; oldestSeconds: number | null }> {
  const { rows } = await db.query<{ seconds: number }>(
    `select extract(epoch from now() - created_at)::float8 as seconds from events
      where (transaction_id, global_position) > ($1::text::xid8, $2::bigint) order by transaction_id, global_position limit 1`,
    positionParams(position),
  );
  if (rows.length === 0) return { count: 0, oldestSeconds: null };
  const { total, settled } = await sumOverLog(db, EVENTS);
  // A position at or above the horizon lies among the newest events: counted directly.
  const count = position.transactionId < settled.upTo ? total - (await eventsThrough(db, position, settled)) : await countBetween(db, position);
  return { count, oldestSeconds: rows[0]!.seconds };
}
