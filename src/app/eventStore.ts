import type pg from 'pg';
import type { ResolvedConfig } from '../config/load.js';
import { createEventStore, type EventStore, type EventStoreOptions } from '../eventstore/index.js';

/** The event store over `pool` with the group commit [database] configures, for every command that writes. */
export function configuredEventStore(pool: pg.Pool, config: ResolvedConfig, options: Omit<EventStoreOptions, 'batch'> = {}): EventStore {
  return createEventStore(pool, {
    ...options,
    batch: { maxSize: config.database.append_batch_max, concurrency: config.database.append_batch_concurrency },
  });
}
