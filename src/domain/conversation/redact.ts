import { createHash } from 'node:crypto';
import type { ConversationEvent, ConversationEventType, EventData } from './events.js';

/** What a purged message's content becomes. */
export const REDACTED = '[redacted]';

const sha256 = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');

/** Metadata that is empty, or is already what a redaction leaves: `{ redacted: { sha256 } }`. */
const isRedactedMetadata = (metadata: Record<string, unknown>): boolean => {
  const keys = Object.keys(metadata);
  return keys.length === 0 || (keys.length === 1 && typeof (metadata.redacted as { sha256?: unknown } | undefined)?.sha256 === 'string');
};

/** Data of an event that holds facts only (labels, folders, times, who did what): nothing to redact. */
const factsOnly = <D>(data: D): D => data;

/**
 * What each event type's data becomes in a purge: content replaced by the redaction marker plus a
 * SHA-256 of what was removed. One entry per type, so a new event type does not compile until it says
 * what content it holds, and a purge can never leave one unredacted by omission. Data with nothing left
 * to redact comes back as the same object (idempotent, and the purge writes only what changed).
 */
const redactors: { [T in ConversationEventType]: (data: EventData<T>) => EventData<T> } = {
  MessagesAppended: (data) =>
    data.messages.every((m) => m.redacted)
      ? data
      : {
          ...data,
          messages: data.messages.map(({ name, ...m }) =>
            m.redacted
              ? m
              : { ...m, content: REDACTED, metadata: {}, redacted: { sha256: sha256({ content: m.content, metadata: m.metadata, ...(name !== undefined ? { name } : {}) }) } },
          ),
        },
  ConversationStarted: (data) => (isRedactedMetadata(data.metadata) ? data : { ...data, metadata: { redacted: { sha256: sha256(data.metadata) } } }),
  SummaryGenerated: (data) => (data.summary === REDACTED ? data : { ...data, summary: REDACTED }),
  ConversationLabeled: factsOnly,
  ConversationMovedToFolder: factsOnly,
  ConversationPinned: factsOnly,
  ConversationUnpinned: factsOnly,
  ConversationArchived: factsOnly,
  ConversationUnarchived: factsOnly,
  ImportanceSet: factsOnly,
  ConversationDeleted: factsOnly,
  ConversationPurged: factsOnly,
};

/** The event with its content redacted (message content, name and metadata; the conversation's metadata; summaries). Idempotent. */
export function redactEvent(event: ConversationEvent): ConversationEvent {
  // TypeScript cannot tie `redactors[event.type]` to `event.data` of the same type: the table's mapped type does.
  const redact = redactors[event.type] as (data: ConversationEvent['data']) => ConversationEvent['data'];
  const data = redact(event.data);
  return data === event.data ? event : ({ ...event, data } as ConversationEvent);
}
