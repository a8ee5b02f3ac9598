import { CONVERSATION_STATE_EVENTS, embeddedText, loggedChange, textOf } from '../domain/conversation/index.js';
import type { RecordedEvent } from '../eventstore/index.js';
import type { ConversationAttributes } from '../vectors/metadata.js';

/** Event types the vector projector applies. */
export const VECTOR_EVENTS = CONVERSATION_STATE_EVENTS;

export interface PlannedMessage {
  id: string;
  conversation_id: string;
  role: string;
  name: string | null;
  timestamp: string;
  /** What is embedded: embeddedText of the message. */
  text: string;
}

/**
 * How many leading events hold about `maxTexts` messages to embed (at least one event): the vector
 * projector applies that many at once, so a slow embedder moves its checkpoint and lag every batch of
 * texts rather than once per 500 events (which can hold thousands of messages).
 */
export function eventsForTexts(events: readonly RecordedEvent[], maxTexts: number): number {
  let texts = 0;
  for (let i = 0; i < events.length; i++) {
    const change = loggedChange(events[i]!)?.change;
    if (change?.kind === 'messagesAppended') texts += change.messages.length;
    if (texts >= maxTexts) return i + 1;
  }
  return events.length;
}

type AppendedMessages = Extract<NonNullable<ReturnType<typeof loggedChange>>['change'], { kind: 'messagesAppended' }>['messages'];

/** The messages of an append that get a vector (those with text), with what is embedded of each. */
function messagesToEmbed(conversationId: string, messages: AppendedMessages): PlannedMessage[] {
  const planned: PlannedMessage[] = [];
  for (const m of messages) {
    const text = textOf(m.content);
    if (text.trim() !== '') planned.push({ id: m.id, conversation_id: conversationId, role: m.role, name: m.name ?? null, timestamp: m.timestamp, text: embeddedText(m.name, text) });
  }
  return planned;
}

/**
 * The texts a batch embeds (pure), known before the conversations' attributes are loaded: those of its
 * appended messages, but for conversations it deletes or purges (as `planVectorBatch`, whose upserts'
 * texts these include), so that a prefetch never embeds, and caches, a text a purge removes.
 */
export function textsToEmbed(events: readonly RecordedEvent[]): string[] {
  const planned: PlannedMessage[] = [];
  const removed = new Set<string>();
  for (const e of events) {
    const logged = loggedChange(e);
    if (!logged) continue;
    const { conversationId: id, change: c } = logged;
    if (c.kind === 'messagesAppended') planned.push(...messagesToEmbed(id, c.messages));
    else if (c.kind === 'started') removed.delete(id);
    else if (c.kind === 'deleted' || c.kind === 'purged') removed.add(id);
  }
  return planned.filter((m) => !removed.has(m.conversation_id)).map((m) => m.text);
}

/** What one batch does to the vectors, with attributes as they stand after the batch. */
export interface VectorPlan {
  /** Conversation attributes after the batch (new and changed ones); a deleted one maps to undefined. */
  attributes: Map<string, ConversationAttributes | undefined>;
  /** Messages to embed and upsert (of conversations not deleted by the end of the batch). */
  upserts: PlannedMessage[];
  /** Conversations whose existing vectors need their metadata updated. */
  updated: Set<string>;
  /** Conversations whose vectors are removed. */
  deleted: Set<string>;
}

type Loose = Record<string, unknown>;

/**
 * Plans a batch (pure): folds attribute changes in order from `known` (attributes before the batch,
 * for the conversations it touches), collects messages to embed, and which conversations changed or
 * went away. Messages upserted in the batch already carry the final attributes, so they need no update.
 */
export function planVectorBatch(events: readonly RecordedEvent[], known: ReadonlyMap<string, ConversationAttributes>): VectorPlan {
  const attributes = new Map<string, ConversationAttributes | undefined>();
  const current = (id: string) => (attributes.has(id) ? attributes.get(id) : known.get(id));
  const upserts: PlannedMessage[] = [];
  const updated = new Set<string>();
  const deleted = new Set<string>();
  const change = (id: string, patch: Partial<ConversationAttributes>) => {
    const before = current(id);
    if (!before) return;
    attributes.set(id, { ...before, ...patch });
    updated.add(id);
  };
  for (const e of events) {
    const logged = loggedChange(e);
    if (!logged) continue;
    const { conversationId: id, change: c } = logged;
    switch (c.kind) {
      case 'started':
        attributes.set(id, { label: c.label, folder: c.folder, status: 'active', pinned: false, importance: c.importance_score });
        deleted.delete(id);
        break;
      case 'messagesAppended':
        upserts.push(...messagesToEmbed(id, c.messages));
        break;
      case 'attributesChanged': {
        const { importance_score, ...rest } = c.changes;
        change(id, { ...rest, ...(importance_score === undefined ? {} : { importance: importance_score }) });
        break;
      }
      case 'deleted':
      case 'purged':
        attributes.set(id, undefined);
        deleted.add(id);
        updated.delete(id);
        break;
      case 'summarized':
        break;
      default: {
        const unknown: never = c;
        return unknown;
      }
    }
  }
  return {
    attributes,
    upserts: upserts.filter((m) => !deleted.has(m.conversation_id) && current(m.conversation_id) !== undefined),
    updated,
    deleted,
  };
}
