import { lexicalDocument, loggedChange, textOf, wordsOf, type ConversationDetails, type MessageRecord } from '../../domain/conversation/index.js';
import type { RecordedEvent } from '../../eventstore/index.js';

export type Loose = Record<string, unknown>;

export interface MessageRow {
  id: string;
  conversation_id: string;
  seq: number;
  role: string;
  /** The participant's name; null for messages without one (and events older than names). */
  name: string | null;
  content: string;
  parts: unknown;
  timestamp: string;
  metadata: Loose;
  /** What full-text search indexes: name, text and day (lexicalDocument). */
  document: string;
}

/** The read-model rows of appended messages. */
export const messageRows = (conversationId: string, messages: readonly MessageRecord[]): MessageRow[] =>
  messages.map((m) => {
    const content = textOf(m.content);
    return {
      id: m.id,
      conversation_id: conversationId,
      seq: m.seq,
      role: m.role,
      name: m.name ?? null,
      content,
      parts: Array.isArray(m.content) ? m.content : null,
      timestamp: m.timestamp,
      metadata: m.metadata,
      document: lexicalDocument({ name: m.name, text: content, timestamp: m.timestamp }),
    };
  });

/** A conversation started in this segment: its whole row. */
export type NewConversation = ConversationDetails & { status: string; version: number };

/** Changes to a conversation stored earlier: columns to set, and counters to add. */
export interface Patch {
  id: string;
  set: Loose;
  add_messages: number;
  add_words: number;
}

/** Events folded into as few statements as possible: new rows, patches, messages. */
export interface Segment {
  kind: 'rows';
  inserts: NewConversation[];
  patches: Patch[];
  messages: MessageRow[];
}
/** A purge: applied on its own, after what came before it. */
export interface PurgeStep {
  kind: 'purge';
  id: string;
  streamId: string;
  at: string;
  version: number;
}

/**
 * Folds a batch, in order, into segments (pure). Within a segment, several events of one
 * conversation become one row or one patch; a purge closes the segment, so it runs after the rows
 * it deletes were written. Applying the segments equals applying the events one by one.
 */
export function foldBatch(events: readonly RecordedEvent[]): (Segment | PurgeStep)[] {
  const steps: (Segment | PurgeStep)[] = [];
  let inserts = new Map<string, NewConversation>();
  let patches = new Map<string, Patch>();
  let messages: MessageRow[] = [];
  const close = () => {
    if (inserts.size || patches.size || messages.length) steps.push({ kind: 'rows', inserts: [...inserts.values()], patches: [...patches.values()], messages });
    inserts = new Map();
    patches = new Map();
    messages = [];
  };
  /** Applies column values and counters to the new row or the patch of `id`. */
  const change = (id: string, set: Loose, addMessages = 0, addWords = 0) => {
    const row = inserts.get(id);
    if (row) {
      const { last_message_at, ...rest } = set;
      Object.assign(row, rest);
      if (last_message_at !== undefined && last_message_at !== null) row.last_message_at = last_message_at as string;
      row.message_count += addMessages;
      row.word_count += addWords;
      return;
    }
    const patch = patches.get(id) ?? { id, set: {}, add_messages: 0, add_words: 0 };
    const { last_message_at, ...rest } = set;
    Object.assign(patch.set, rest);
    if (last_message_at !== undefined && last_message_at !== null) patch.set.last_message_at = last_message_at;
    patch.add_messages += addMessages;
    patch.add_words += addWords;
    patches.set(id, patch);
  };

  for (const event of events) {
    const logged = loggedChange(event);
    if (!logged) continue;
    const { conversationId: id, at, change: c } = logged;
    const version = event.streamVersion;
    switch (c.kind) {
      case 'started':
        if (patches.has(id) || inserts.has(id)) close();
        inserts.set(id, {
          id,
          label: c.label,
          folder: c.folder,
          status: 'active',
          pinned: false,
          importance_score: c.importance_score,
          message_count: 0,
          word_count: 0,
          metadata: c.metadata,
          created_at: at,
          updated_at: at,
          last_message_at: null,
          version,
        });
        break;
      case 'messagesAppended': {
        const rows = messageRows(id, c.messages);
        messages.push(...rows);
        const words = wordsOf(c.messages);
        change(id, { updated_at: at, version, last_message_at: rows.at(-1)?.timestamp ?? null }, rows.length, words);
        break;
      }
      case 'attributesChanged':
        change(id, { ...c.changes, updated_at: at, version });
        break;
      case 'deleted':
        change(id, { status: 'deleted', updated_at: at, version });
        break;
      case 'purged':
        close();
        steps.push({ kind: 'purge', id, streamId: event.streamId, at, version });
        break;
      case 'summarized':
        break;
      default: {
        const unknown: never = c;
        return unknown;
      }
    }
  }
  close();
  return steps;
}
