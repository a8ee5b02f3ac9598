import type pg from 'pg';
import { appendToStream } from './append.js';
import { readAll, readEvent, readHead, readHorizon, readStream } from './read.js';
import type { EventMetadata, ExpectedVersion, NewEvent, WithinAppend } from './types.js';
import type { Position } from './position.js';

export * from './types.js';
export * from './position.js';
export type { ReadError } from './read.js';

/** The event store over one primary pool. */
export type EventStore = ReturnType<typeof createEventStore>;

export function createEventStore(pool: pg.Pool) {
  return {
    pool,
    append: (streamId: string, expected: ExpectedVersion, events: NewEvent[], metadata: EventMetadata, withinAppend?: WithinAppend) =>
      appendToStream(pool, streamId, expected, events, metadata, withinAppend),
    readStream: (streamId: string, options?: Parameters<typeof readStream>[2]) => readStream(pool, streamId, options),
    readAll: (after: Position, limit: number) => readAll(pool, after, limit),
    readHead: () => readHead(pool),
    readHorizon: () => readHorizon(pool),
    readEvent: (eventId: string) => readEvent(pool, eventId),
  };
}
