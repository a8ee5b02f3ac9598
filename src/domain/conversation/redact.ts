import { createHash } from 'node:crypto';
import type { ConversationEvent } from './events.js';

/** What a purged message's content becomes. */
export const REDACTED = '[redacted]';

const sha256 = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');

/**
 * The event with its content replaced by the redaction marker plus a SHA-256 of what was removed:
 * message content, name and metadata, and the conversation's metadata. Labels, folders, times and who did
 * what stay: the audit keeps the facts, never the content. Idempotent.
 */
export function redactEvent(event: ConversationEvent): ConversationEvent {
  switch (event.type) {
    case 'MessagesAppended':
      return {
        ...event,
        data: {
          ...event.data,
          messages: event.data.messages.map(({ name, ...m }) =>
            m.redacted
              ? m
              : { ...m, content: REDACTED, metadata: {}, redacted: { sha256: sha256({ content: m.content, metadata: m.metadata, ...(name !== undefined ? { name } : {}) }) } },
          ),
        },
      };
    case 'ConversationStarted':
      return Object.keys(event.data.metadata).length === 0
        ? event
        : { ...event, data: { ...event.data, metadata: { redacted: { sha256: sha256(event.data.metadata) } } } };
    case 'SummaryGenerated':
      return event.data.summary === REDACTED ? event : { ...event, data: { ...event.data, summary: REDACTED } };
    // Facts only, no content. Listed, not defaulted: a new event type does not compile until it says
    // what content it holds, so a purge can never leave one unredacted by omission.
    case 'ConversationLabeled':
    case 'ConversationMovedToFolder':
    case 'ConversationPinned':
    case 'ConversationUnpinned':
    case 'ConversationArchived':
    case 'ConversationUnarchived':
    case 'ImportanceSet':
    case 'ConversationDeleted':
    case 'ConversationPurged':
      return event;
    default: {
      const unknown: never = event;
      return unknown;
    }
  }
}
