import { createHash } from 'node:crypto';
import { err, ok, type Result } from 'neverthrow';
import { v5 as uuidv5 } from 'uuid';
import {
  conversationIdOf,
  conversationStream,
  decide,
  foldConversation,
  initialState,
  type ConversationCommand,
  type ConversationEvent,
  type ConversationState,
  type DomainError,
} from '../domain/conversation/index.js';
import { conversationDeleted, type ConversationDeleted } from '../http/errors.js';
import { forgetStream, loadStream, rememberStream } from './streamStates.js';
import {
  START,
  type AppendError,
  type EventMetadata,
  type EventStore,
  type Position,
  type Recorded,
  type WithinAppend,
  type RecordedEvent,
} from '../eventstore/index.js';

/** Who asks, and how to recognise a retry of the same request. */
export interface CommandContext {
  actor: string;
  requestId: string;
  correlationId?: string;
  causationId?: string;
  /** The client's Idempotency-Key and a hash of the request it came with. */
  idempotency?: { key: string; requestHash: string };
}

export interface CommandOutcome {
  conversationId: string;
  state: ConversationState;
  /** The stream version after the command. */
  version: number;
  /** Position of the command's last event, or of the stream's last event when it changed nothing. */
  position: Position;
  events: Recorded<ConversationEvent>[];
  /** True when this answers a retry: the first answer's events, nothing appended. */
  replayed: boolean;
}

export type CommandError = Exclude<DomainError, 'CONVERSATION_DELETED'> | ConversationDeleted | AppendError | { type: 'idempotency_key_reused' };

// Event ids derived from (actor, Idempotency-Key, index) make a retried request find its first append.
const IDEMPOTENCY_NAMESPACE = '8a7c4a51-51f4-4b8e-9a3e-2f0f4c1d9e6b';
const idempotentEventId = (actor: string, key: string, index: number) => uuidv5(`${actor}\n${key}\n${index}`, IDEMPOTENCY_NAMESPACE);

/** A stable hash of what a request asked, to tell a retry from a reuse of its key. */
export function requestHash(method: string, path: string, body: unknown): string {
  return createHash('sha256').update(`${method} ${path}\n${JSON.stringify(body ?? null)}`).digest('hex');
}

// Without If-Match a conflict is retried on the new state: enough tries for dozens of writers on one stream.
const MAX_RETRIES = 30;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

const asConversationEvents = (events: RecordedEvent[]) => events as CommandOutcome['events'];

/** The answer a retried request gets: the stream as the first request's events left it. */
async function replayFirstAnswer(store: EventStore, context: CommandContext): Promise<Result<CommandOutcome, CommandError> | undefined> {
  if (!context.idempotency) return undefined;
  const first = await store.readEvent(idempotentEventId(context.actor, context.idempotency.key, 0));
  if (first.isErr()) return err(first.error);
  if (!first.value) return undefined;
  if (first.value.metadata.request_hash !== context.idempotency.requestHash) return err({ type: 'idempotency_key_reused' });
  const stream = await store.readStream(first.value.streamId);
  if (stream.isErr()) return err(stream.error);
  const tx = first.value.position.transactionId;
  const upTo = asConversationEvents(stream.value).filter((e) => e.streamVersion <= first.value!.streamVersion || e.position.transactionId === tx);
  const own = upTo.filter((e) => e.position.transactionId === tx);
  return ok({
    conversationId: conversationIdOf(first.value),
    state: foldConversation(upTo),
    version: upTo.at(-1)!.streamVersion,
    position: own.at(-1)!.position,
    events: own,
    replayed: true,
  });
}

/**
 * Runs one command: load the stream, fold, check `ifMatch`, decide, append.
 * Without `ifMatch` a concurrent write is retried against the new state; with it, it is a conflict.
 */
export async function executeCommand(
  store: EventStore,
  conversationId: string,
  command: ConversationCommand,
  context: CommandContext,
  ifMatch?: number,
  withinAppend?: WithinAppend,
): Promise<Result<CommandOutcome, CommandError>> {
  const replay = await replayFirstAnswer(store, context);
  if (replay) return replay;
  const streamId = conversationStream(conversationId);
  const metadata: EventMetadata = {
    actor: context.actor,
    request_id: context.requestId,
    correlation_id: context.correlationId ?? context.requestId,
    ...(context.causationId ? { causation_id: context.causationId } : {}),
    ...(context.idempotency ? { idempotency_key: context.idempotency.key, request_hash: context.idempotency.requestHash } : {}),
    schema_version: 1,
  };
  for (let attempt = 0; ; attempt++) {
    // A start goes to a fresh id: assume the stream empty; expected version 0 makes the store check it,
    // and a conflict loads the stream for real on the next attempt.
    const loaded =
      command.type === 'StartConversation' && attempt === 0 ? ok({ state: initialState(), version: 0, position: START }) : await loadStream(store, streamId);
    if (loaded.isErr()) return err(loaded.error);
    const { state, version, position } = loaded.value;
    if (ifMatch !== undefined && ifMatch !== version) {
      return err({ type: 'version_conflict', streamId, expected: ifMatch, actual: version });
    }
    const decided = decide(command, state);
    if (decided.isErr()) {
      // A deleted conversation's last change is its deletion: say when.
      if (decided.error === 'CONVERSATION_DELETED') return err(conversationDeleted(state.status === 'empty' ? undefined : state.updated_at));
      return err(decided.error);
    }
    if (decided.value.length === 0) {
      return ok({ conversationId, state, version, position, events: [], replayed: false });
    }
    const toAppend = decided.value.map((e, i) => ({
      ...e,
      ...(context.idempotency ? { eventId: idempotentEventId(context.actor, context.idempotency.key, i) } : {}),
    }));
    const appended = await store.append(streamId, version, toAppend, metadata, withinAppend);
    if (appended.isOk()) {
      const events = asConversationEvents(appended.value.events);
      if (appended.value.duplicate) {
        const again = await replayFirstAnswer(store, context);
        if (again) return again;
      }
      const after = { state: foldConversation(events, state), version: appended.value.nextVersion, position: appended.value.position };
      if (withinAppend) forgetStream(store, streamId);
      else if (!appended.value.duplicate) rememberStream(store, streamId, after);
      return ok({ conversationId, ...after, events, replayed: appended.value.duplicate });
    }
    if (appended.error.type === 'version_conflict' && ifMatch === undefined && attempt < MAX_RETRIES) {
      // Another writer got in first; the client asked no version, so decide again on the new state.
      // A short random pause spreads out writers racing on one hot stream.
      if (attempt > 0) await pause(Math.random() * Math.min(2 ** attempt, 50));
      continue;
    }
    if (appended.error.type === 'idempotency_mismatch' && context.idempotency) {
      // A concurrent request with the same Idempotency-Key won: answer as its retry (or 422 if it differs).
      const again = await replayFirstAnswer(store, context);
      if (again) return again;
    }
    return err(appended.error);
  }
}
