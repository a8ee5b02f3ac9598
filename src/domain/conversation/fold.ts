import {
  ROLES,
  STREAM_PREFIX,
  SUMMARY_LEVELS,
  type ConversationEvent,
  type ConversationEventType,
  type EventData,
  type ContentPart,
  type MessageContent,
  type MessageRecord,
  type Role,
  type SummaryGenerated,
} from './events.js';

/** Conversation attributes an event may set (besides its time). */
export interface AttributeChanges {
  label?: string;
  folder?: string;
  pinned?: boolean;
  status?: 'active' | 'archived';
  importance_score?: number;
}

/**
 * What one event changes on a conversation and its messages. Every projector of conversation state
 * (state, read model, vectors, lexical statistics, summaries) switches over these kinds exhaustively:
 * a new kind does not compile until each of them handles it.
 */
export type ConversationChange =
  | { kind: 'started'; label: string; folder: string; importance_score: number; metadata: Record<string, unknown> }
  | { kind: 'messagesAppended'; messages: readonly MessageRecord[] }
  | { kind: 'attributesChanged'; changes: AttributeChanges }
  | { kind: 'deleted' }
  /** A privacy purge: the stream's earlier events were redacted with it. */
  | { kind: 'purged' }
  /** A summary describes the conversation; it changes nothing on it. */
  | { kind: 'summarized'; summary: SummaryGenerated['data'] };

/**
 * The one switch over conversation event types: what an event changes. Total over the event union,
 * so a new event type does not compile until it says what it changes.
 */
export function changeOf(event: ConversationEvent): ConversationChange {
  switch (event.type) {
    case 'ConversationStarted': {
      const { label, folder, importance_score, metadata } = event.data;
      return { kind: 'started', label, folder, importance_score, metadata };
    }
    case 'MessagesAppended':
      return { kind: 'messagesAppended', messages: event.data.messages };
    case 'ConversationLabeled':
      return { kind: 'attributesChanged', changes: event.data.folder === undefined ? { label: event.data.label } : { label: event.data.label, folder: event.data.folder } };
    case 'ConversationMovedToFolder':
      return { kind: 'attributesChanged', changes: { folder: event.data.folder } };
    case 'ConversationPinned':
      return { kind: 'attributesChanged', changes: { pinned: true } };
    case 'ConversationUnpinned':
      return { kind: 'attributesChanged', changes: { pinned: false } };
    case 'ConversationArchived':
      return { kind: 'attributesChanged', changes: { status: 'archived' } };
    case 'ConversationUnarchived':
      return { kind: 'attributesChanged', changes: { status: 'active' } };
    case 'ImportanceSet':
      return { kind: 'attributesChanged', changes: { importance_score: event.data.importance_score } };
    case 'ConversationDeleted':
      return { kind: 'deleted' };
    case 'ConversationPurged':
      return { kind: 'purged' };
    case 'SummaryGenerated':
      return { kind: 'summarized', summary: event.data };
    default: {
      const unknown: never = event;
      return unknown;
    }
  }
}

/** An event as the log holds it: any type, data as stored (a purge may have redacted fields). */
export interface LoggedEvent {
  type: string;
  data: unknown;
  streamId: string;
  createdAt: Date;
}

type Loose = Record<string, unknown>;
const str = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : fallback);
const num = (v: unknown, fallback: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);
const obj = (v: unknown): Loose => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Loose) : {});
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const isRole = (v: unknown): v is Role => (ROLES as readonly unknown[]).includes(v);
const isLevel = (v: unknown): v is SummaryGenerated['data']['level'] => (SUMMARY_LEVELS as readonly unknown[]).includes(v);

/** The conversation an event belongs to: its `conversation_id`, else the id in its stream's name. */
export function conversationIdOf(event: { streamId: string; data?: unknown }): string {
  return str(obj(event.data).conversation_id) || (event.streamId.startsWith(STREAM_PREFIX) ? event.streamId.slice(STREAM_PREFIX.length) : event.streamId);
}

/** Content as stored, or what is left of it: a string, the parts that are objects, else empty. */
function contentOf(v: unknown): MessageContent {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.filter((p): p is ContentPart => typeof p === 'object' && p !== null);
  return '';
}

/** The messages of a logged MessagesAppended; one without a usable id cannot be stored and is skipped. */
function messagesOf(raw: unknown, at: string): MessageRecord[] {
  const messages = Array.isArray(raw) ? (raw as unknown[]) : [];
  return messages.flatMap((item, i) => {
    const m = obj(item);
    if (typeof m.id !== 'string' || !UUID.test(m.id)) return [];
    // A name is optional and older events have none; a purge removes it.
    const name = typeof m.name === 'string' && m.name !== '' ? { name: m.name } : {};
    return [{ id: m.id, seq: num(m.seq, i + 1), role: isRole(m.role) ? m.role : 'user', ...name, content: contentOf(m.content), timestamp: str(m.timestamp, at), metadata: obj(m.metadata) }];
  });
}

type At = { conversation_id: string; at: string };

/**
 * How each event type's data is read back from the log, defensively (nothing is assumed present):
 * one entry per type, so a new event type does not compile until it has one.
 */
const readers: { [T in ConversationEventType]: (d: Loose, at: At) => EventData<T> } = {
  ConversationStarted: (d, at) => ({ ...at, label: str(d.label), folder: str(d.folder, '/'), importance_score: num(d.importance_score, 5), metadata: obj(d.metadata) }),
  MessagesAppended: (d, at) => ({ ...at, messages: messagesOf(d.messages, at.at) }),
  ConversationLabeled: (d, at) => ({ ...at, label: str(d.label), ...(typeof d.folder === 'string' ? { folder: d.folder } : {}) }),
  ConversationMovedToFolder: (d, at) => ({ ...at, folder: str(d.folder, '/') }),
  ConversationPinned: (_, at) => at,
  ConversationUnpinned: (_, at) => at,
  ConversationArchived: (_, at) => at,
  ConversationUnarchived: (_, at) => at,
  ImportanceSet: (d, at) => ({ ...at, importance_score: num(d.importance_score, 5) }),
  ConversationDeleted: (_, at) => at,
  ConversationPurged: (_, at) => at,
  SummaryGenerated: (d, at) => ({
    ...at,
    summary_id: str(d.summary_id),
    level: isLevel(d.level) ? d.level : 'daily',
    summary: str(d.summary),
    model: str(d.model),
    period_start: str(d.period_start),
    period_end: str(d.period_end),
    source_count: num(d.source_count, 0),
  }),
};

const isEventType = (type: string): type is ConversationEventType => Object.hasOwn(readers, type);

/** A logged event read as the conversation event it is; undefined for a type this version does not know. */
export function readLoggedEvent(event: LoggedEvent): ConversationEvent | undefined {
  const type = event.type;
  if (!isEventType(type)) return undefined;
  const d = obj(event.data);
  const at = { conversation_id: conversationIdOf(event), at: str(d.at) || event.createdAt.toISOString() };
  return { type, data: readers[type](d, at) } as ConversationEvent;
}

/** What a logged event changes, with the conversation it changes and when; undefined for an unknown type. */
export function loggedChange(event: LoggedEvent): { conversationId: string; at: string; change: ConversationChange } | undefined {
  const read = readLoggedEvent(event);
  return read && { conversationId: read.data.conversation_id, at: read.data.at, change: changeOf(read) };
}
