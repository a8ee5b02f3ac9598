/** What a message says: plain text, or parts (text and images) as multimodal clients send them. */
export type ContentPart =
  | { type: 'text'; text: string }
  | { type: 'image_url'; image_url: { url: string; detail?: string } };
export type MessageContent = string | ContentPart[];

export const ROLES = ['user', 'assistant', 'system', 'tool'] as const;
export type Role = (typeof ROLES)[number];

/** A message as it is recorded in the event log. */
export interface MessageRecord {
  id: string;
  /** 1-based order of the message in its conversation. */
  seq: number;
  role: Role;
  /** The participant who wrote it (OpenAI chat's `name`); absent in events older than names. */
  name?: string;
  content: MessageContent;
  timestamp: string;
  metadata: Record<string, unknown>;
  /** Present when a purge removed the content: a SHA-256 of what was removed. */
  redacted?: { sha256: string };
}

type Event<T extends string, D> = { type: T; data: D };
type At = { conversation_id: string; at: string };

export type ConversationStarted = Event<
  'ConversationStarted',
  At & { label: string; folder: string; importance_score: number; metadata: Record<string, unknown> }
>;
export type MessagesAppended = Event<'MessagesAppended', At & { messages: MessageRecord[] }>;
export type ConversationLabeled = Event<'ConversationLabeled', At & { label: string; folder?: string }>;
export type ConversationMovedToFolder = Event<'ConversationMovedToFolder', At & { folder: string }>;
export type ConversationPinned = Event<'ConversationPinned', At>;
export type ConversationUnpinned = Event<'ConversationUnpinned', At>;
export type ConversationArchived = Event<'ConversationArchived', At>;
export type ConversationUnarchived = Event<'ConversationUnarchived', At>;
export type ImportanceSet = Event<'ImportanceSet', At & { importance_score: number }>;
export type ConversationDeleted = Event<'ConversationDeleted', At>;
/** A privacy purge: the content of every earlier event of the stream was redacted with this event. */
export type ConversationPurged = Event<'ConversationPurged', At>;
export const SUMMARY_LEVELS = ['daily', 'weekly', 'monthly'] as const;
export type SummaryLevel = (typeof SUMMARY_LEVELS)[number];
/** A summary of the conversation over a period; weekly ones roll up daily ones, monthly ones weekly ones. */
export type SummaryGenerated = Event<
  'SummaryGenerated',
  At & { summary_id: string; level: SummaryLevel; summary: string; model: string; period_start: string; period_end: string; source_count: number }
>;

/** Every event of a conversation stream. */
export type ConversationEvent =
  | ConversationStarted
  | MessagesAppended
  | ConversationLabeled
  | ConversationMovedToFolder
  | ConversationPinned
  | ConversationUnpinned
  | ConversationArchived
  | ConversationUnarchived
  | ImportanceSet
  | ConversationDeleted
  | ConversationPurged
  | SummaryGenerated;

export type ConversationEventType = ConversationEvent['type'];

/** The data of one event type. */
export type EventData<T extends ConversationEventType> = Extract<ConversationEvent, { type: T }>['data'];

/**
 * The event types that change what a conversation is or holds (everything but summaries): what the
 * read model and the vectors project.
 */
export const CONVERSATION_STATE_EVENTS = [
  'ConversationStarted',
  'MessagesAppended',
  'ConversationLabeled',
  'ConversationMovedToFolder',
  'ConversationPinned',
  'ConversationUnpinned',
  'ConversationArchived',
  'ConversationUnarchived',
  'ImportanceSet',
  'ConversationDeleted',
  'ConversationPurged',
] as const satisfies readonly ConversationEventType[];

/** The stream that holds one conversation's events. */
export const conversationStream = (conversationId: string): string => `conversation-${conversationId}`;
export const STREAM_PREFIX = 'conversation-';
