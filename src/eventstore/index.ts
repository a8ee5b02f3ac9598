import type pg from 'pg';
import { appendToStream } from './append.js';
import { createAppendNotifier, type AppendNotifier, type AppendNotifierOptions } from './notifier.js';
import { readAll, readEvent, readHead, readStream } from './read.js';
import type { EventMetadata, ExpectedVersion, NewEvent, WithinAppend } from './types.js';
import type { Position } from './position.js';

export * from './types.js';
export * from './position.js';
export { createAppendNotifier, DEFAULT_NOTIFY_WINDOW_MS, type AppendNotifier, type AppendNotifierOptions } from './notifier.js';
export type { ReadError } from './read.js';

export interface EventStoreOptions {
  /** Who hears of committed appends; default: a notifier of its own on `pool` (with `notify`'s options). */
  notifier?: AppendNotifier;
  notify?: AppendNotifierOptions;
}

/** The event store over one primary pool. */
export type EventStore = ReturnType<typeof createEventStore>;

export function createEventStore(pool: pg.Pool, options: EventStoreOptions = {}) {
  const notifier = options.notifier ?? createAppendNotifier(pool, options.notify);
  return {
    pool,
    notifier,
    append: (streamId: string, expected: ExpectedVersion, events: NewEvent[], metadata: EventMetadata, withinAppend?: WithinAppend) =>
      appendToStream(pool, notifier, streamId, expected, events, metadata, withinAppend),
    readStream: (streamId: string, options?: Parameters<typeof readStream>[2]) => readStream(pool, streamId, options),
    readAll: (after: Position, limit: number) => readAll(pool, after, limit),
    readHead: () => readHead(pool),
    readEvent: (eventId: string) => readEvent(pool, eventId),
  };
}
