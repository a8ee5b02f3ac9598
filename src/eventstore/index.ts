import type pg from 'pg';
import { appendToStream } from './append.js';
import { createAppendBatcher, type AppendBatcherOptions } from './appendBatch.js';
import { createAppendNotifier, type AppendNotifier, type AppendNotifierOptions } from './notifier.js';
import { readAll, readEvent, readHead, readHorizon, readStream } from './read.js';
import type { EventMetadata, ExpectedVersion, NewEvent, WithinAppend } from './types.js';
import type { Position } from './position.js';

export * from './types.js';
export * from './position.js';
export { readStream, type ReadError } from './read.js';
export { countArrayItems, countEventsAfter } from './counts.js';
export { hasEventsAfter, redactStream } from './log.js';
export { searchEvents, searchSql, type EventSearch, type SearchError } from './search.js';
export { DEFAULT_APPEND_BATCH_MAX, type AppendBatcherOptions, type AppendBatchStats } from './appendBatch.js';
export { createAppendNotifier, DEFAULT_NOTIFY_WINDOW_MS, type AppendNotifier, type AppendNotifierOptions } from './notifier.js';
export { timeOrderedUuid } from './timeOrderedUuid.js';

export interface EventStoreOptions {
  /** Who hears of committed appends; default: a notifier of its own on `pool` (with `notify`'s options). */
  notifier?: AppendNotifier;
  notify?: AppendNotifierOptions;
  /** Group commit of appends to different streams that arrive while one is in flight. */
  batch?: AppendBatcherOptions;
}

/** The event store over one primary pool. */
export type EventStore = ReturnType<typeof createEventStore>;

export function createEventStore(pool: pg.Pool, options: EventStoreOptions = {}) {
  const notifier = options.notifier ?? createAppendNotifier(pool, options.notify);
  // One per store, so per pool: every append of this process to it can share a commit.
  const batcher = createAppendBatcher(pool, options.batch);
  return {
    pool,
    notifier,
    /** Batches committed so far, the appends they carried, batches that fell back to one by one, stalls. */
    appendBatches: batcher.stats,
    append: (streamId: string, expected: ExpectedVersion, events: NewEvent[], metadata: EventMetadata, withinAppend?: WithinAppend) =>
      appendToStream(pool, notifier, batcher, streamId, expected, events, metadata, withinAppend),
    readStream: (streamId: string, options?: Parameters<typeof readStream>[2]) => readStream(pool, streamId, options),
    readAll: (after: Position, limit: number) => readAll(pool, after, limit),
    readHead: () => readHead(pool),
    readHorizon: () => readHorizon(pool),
    readEvent: (eventId: string) => readEvent(pool, eventId),
  };
}
