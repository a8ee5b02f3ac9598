import { textOf, wordCount, type MessageContent } from '../../domain/conversation/index.js';
import { STREAM_PREFIX } from '../../domain/conversation/events.js';
import type { RecordedEvent } from '../../eventstore/index.js';

// Event data is read defensively: a purge may have redacted fields, so nothing is assumed present.
export type Loose = Record<string, unknown>;
const str = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : fallback);
const num = (v: unknown, fallback: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);
export const obj = (v: unknown): Loose => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Loose) : {});

/** The searchable text of possibly redacted content. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return textOf(content.filter((p) => typeof p === 'object' && p !== null) as MessageContent);
  return '';
}

export interface MessageRow {
  id: string;
  conversation_id: string;
  seq: number;
  role: string;
  content: string;
  parts: unknown;
  timestamp: string;
  metadata: Loose;
}

/** The rows of a MessagesAppended event (the vector and lexical projectors read messages through this too). */
export function messageRows(data: Loose, at: string, conversationId = str(data.conversation_id)): MessageRow[] {
  const messages = Array.isArray(data.messages) ? (data.messages as unknown[]) : [];
  // A message without a usable id cannot be stored; skipping it beats blocking the projector forever.
  return messages.flatMap((raw, i) => {
    const m = obj(raw);
    if (typeof m.id !== 'string' || !UUID.test(m.id)) return [];
    return {
      id: str(m.id),
      conversation_id: conversationId,
      seq: num(m.seq, i + 1),
      role: str(m.role, 'user'),
      content: contentText(m.content),
      parts: Array.isArray(m.content) ? m.content : null,
      timestamp: str(m.timestamp, at),
      metadata: obj(m.metadata),
    };
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Column values an event sets (besides updated_at and version); undefined for the ones handled apart. */
export function conversationChanges(type: string, data: Loose): Loose | undefined {
  switch (type) {
    case 'ConversationLabeled':
      return typeof data.folder === 'string' ? { label: str(data.label), folder: data.folder } : { label: str(data.label) };
    case 'ConversationMovedToFolder':
      return { folder: str(data.folder, '/') };
    case 'ConversationPinned':
      return { pinned: true };
    case 'ConversationUnpinned':
      return { pinned: false };
    case 'ConversationArchived':
      return { status: 'archived' };
    case 'ConversationUnarchived':
      return { status: 'active' };
    case 'ImportanceSet':
      return { importance_score: num(data.importance_score, 5) };
    case 'ConversationDeleted':
      return { status: 'deleted' };
    default:
      return undefined;
  }
}

/** A conversation started in this segment: its whole row. */
export interface NewConversation {
  id: string;
  label: string;
  folder: string;
  status: string;
  pinned: boolean;
  importance_score: number;
  message_count: number;
  word_count: number;
  metadata: Loose;
  created_at: string;
  updated_at: string;
  last_message_at: string | null;
  version: number;
}

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

export const conversationIdOf = (event: RecordedEvent): string =>
  str(obj(event.data).conversation_id) || (event.streamId.startsWith(STREAM_PREFIX) ? event.streamId.slice(STREAM_PREFIX.length) : event.streamId);

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
    const data = obj(event.data);
    const id = conversationIdOf(event);
    const at = str(data.at) || event.createdAt.toISOString();
    const version = event.streamVersion;
    if (event.type === 'ConversationStarted') {
      if (patches.has(id) || inserts.has(id)) close();
      inserts.set(id, {
        id,
        label: str(data.label),
        folder: str(data.folder, '/'),
        status: 'active',
        pinned: false,
        importance_score: num(data.importance_score, 5),
        message_count: 0,
        word_count: 0,
        metadata: obj(data.metadata),
        created_at: at,
        updated_at: at,
        last_message_at: null,
        version,
      });
    } else if (event.type === 'MessagesAppended') {
      const rows = messageRows(data, at, id);
      messages.push(...rows);
      const words = rows.reduce((n, r) => n + wordCount(r.content), 0);
      change(id, { updated_at: at, version, last_message_at: rows.at(-1)?.timestamp ?? null }, rows.length, words);
    } else if (event.type === 'ConversationPurged') {
      close();
      steps.push({ kind: 'purge', id, streamId: event.streamId, at, version });
    } else {
      const set = conversationChanges(event.type, data);
      if (set) change(id, { ...set, updated_at: at, version });
    }
  }
  close();
  return steps;
}
