import { err, ok, type Result } from 'neverthrow';
import { foldConversation, type ConversationEvent, type ConversationState } from '../domain/conversation/index.js';
import { START, type EventStore, type Position, type ReadError, type Recorded } from '../eventstore/index.js';

/** A stream folded up to a version: what a command decides on. */
export interface StreamState {
  state: ConversationState;
  version: number;
  /** Position of the stream's last event (START for an empty stream). */
  position: Position;
}

// Per event store, the folded state of recently written streams, so a command reads only the events
// after the version it knows instead of the whole stream. Events are immutable and always read from
// the database after the cached version, so other writers (other instances) are never missed.
const MAX_STREAMS = 10_000;
const caches = new WeakMap<EventStore, Map<string, StreamState>>();

function cacheOf(store: EventStore): Map<string, StreamState> {
  let cache = caches.get(store);
  if (!cache) caches.set(store, (cache = new Map()));
  return cache;
}

/** Remembers a stream's state (most recently used last; the oldest is forgotten past MAX_STREAMS). */
export function rememberStream(store: EventStore, streamId: string, known: StreamState): void {
  const cache = cacheOf(store);
  const current = cache.get(streamId);
  if (current && current.version > known.version) return;
  cache.delete(streamId);
  cache.set(streamId, known);
  if (cache.size > MAX_STREAMS) cache.delete(cache.keys().next().value!);
}

/** Forgets a stream whose earlier events were rewritten (a purge): the next load folds it afresh. */
export function forgetStream(store: EventStore, streamId: string): void {
  cacheOf(store).delete(streamId);
}

/** The stream's current state: the cached fold plus whatever was appended since. */
export async function loadStream(store: EventStore, streamId: string): Promise<Result<StreamState, ReadError>> {
  const known = cacheOf(store).get(streamId) ?? { state: foldConversation([]), version: 0, position: START };
  const read = await store.readStream(streamId, { afterVersion: known.version });
  if (read.isErr()) return err(read.error);
  const events = read.value as Recorded<ConversationEvent>[];
  if (events.length === 0) return ok(known);
  const last = events.at(-1)!;
  const loaded = { state: foldConversation(events, known.state), version: last.streamVersion, position: last.position };
  rememberStream(store, streamId, loaded);
  return ok(loaded);
}
