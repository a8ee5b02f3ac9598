import { z } from '@hono/zod-openapi';
import type { ConversationFacts } from '../http/schemas.js';
import type { MessageRow as StoredMessageRow } from '../projections/readModel/index.js';

const iso = (v: Date | string | null): string | null => (v === null ? null : new Date(v).toISOString());

/** A row of the `conversations` view: the facts every conversation answer is made from, times as dates. */
export interface ConversationRow extends ConversationFacts {
  created_at: Date;
  updated_at: Date;
  last_message_at: Date | null;
}

export const CONVERSATION_COLUMNS =
  'c.id, c.label, c.folder, c.status, c.pinned, c.importance_score, c.message_count, c.word_count, c.metadata, c.created_at, c.updated_at, c.last_message_at, c.version';

/** A message's `name` as answers carry it: present when the message has one (as in OpenAI's chat format). */
export const nameField = (name: string | null | undefined): { name?: string } => (name ? { name } : {});
export const nameProperty = z.string().optional().openapi({ description: 'The participant who wrote the message, when the client named one' });

/** A row of the `messages` view: the row the read model writes, as PostgreSQL reads it back. */
export type MessageRow = Omit<StoredMessageRow, 'parts' | 'timestamp' | 'document'> & { parts: unknown[] | null; timestamp: Date };

export const MESSAGE_COLUMNS = 'm.id, m.conversation_id, m.seq, m.role, m.name, m.content, m.parts, m.timestamp, m.metadata';

/** A message as queries answer it: content as it was sent (text or parts). */
export const messageJson = (r: MessageRow) => ({
  id: r.id,
  conversation_id: r.conversation_id,
  seq: r.seq,
  role: r.role,
  ...nameField(r.name),
  content: r.parts ?? r.content,
  timestamp: iso(r.timestamp)!,
  metadata: r.metadata,
});

export const messageViewSchema = z
  .object({
    id: z.string(),
    conversation_id: z.string(),
    seq: z.number(),
    role: z.string(),
    name: nameProperty,
    content: z.union([z.string(), z.array(z.unknown())]),
    timestamp: z.string(),
    metadata: z.record(z.string(), z.unknown()),
  })
  .openapi('StoredMessage');
