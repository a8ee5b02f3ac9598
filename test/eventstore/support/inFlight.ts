import type pg from 'pg';
import type { EventMetadata, EventStore, ExpectedVersion, NewEvent } from '../../../src/eventstore/index.js';
import { until } from '../../support/until.js';

/**
 * An append that has written its events and holds its transaction open (its stream's row locked)
 * until `release` is called: the original a retry races.
 */
export async function appendHeldOpen(store: EventStore, stream: string, expected: ExpectedVersion, events: NewEvent[], meta: EventMetadata) {
  let release!: () => void;
  let written!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const inFlight = new Promise<void>((r) => (written = r));
  const original = store.append(stream, expected, events, meta, () => (written(), held));
  await inFlight;
  return { original, release };
}

/** Waits until some session of this database waits on a lock (a writer queued behind a held row). */
export const untilWaitingOnLock = (pool: pg.Pool, what: string) =>
  until(async () => (await pool.query(`select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`)).rows.length > 0, 10_000, what);
