import { z } from '@hono/zod-openapi';

const iso = (v: Date | string | null): string | null => (v === null ? null : new Date(v).toISOString());

/** A row of the `conversations` view. */
export interface ConversationRow {
  id: string;
  label: string;
  folder: string;
  status: string;
  pinned: boolean;
  importance_score: number;
  message_count: number;
  word_count: number;
  metadata: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
  last_message_at: Date | null;
  version: number;
}

export const CONVERSATION_COLUMNS =
  'c.id, c.label, c.folder, c.status, c.pinned, c.importance_score, c.message_count, c.word_count, c.metadata, c.created_at, c.updated_at, c.last_message_at, c.version';

/** A conversation as queries answer it (the write answer's fields, without position). */
export const conversationJson = (r: ConversationRow) => ({
  id: r.id,
  conversation_id: r.id,
  label: r.label,
  folder: r.folder,
  status: r.status,
  pinned: r.pinned,
  archived: r.status === 'archived',
  importance_score: r.importance_score,
  message_count: r.message_count,
  word_count: r.word_count,
  metadata: r.metadata,
  created_at: iso(r.created_at)!,
  updated_at: iso(r.updated_at)!,
  last_message_at: iso(r.last_message_at),
  version: r.version,
});

export const conversationSchema = z
  .object({
    id: z.string(),
    conversation_id: z.string(),
    label: z.string(),
    folder: z.string(),
    status: z.string(),
    pinned: z.boolean(),
    archived: z.boolean(),
    importance_score: z.number(),
    message_count: z.number(),
    word_count: z.number(),
    metadata: z.record(z.string(), z.unknown()),
    created_at: z.string(),
    updated_at: z.string(),
    last_message_at: z.string().nullable(),
    version: z.number(),
  })
  .openapi('Conversation');

/** A row of the `messages` view. */
export interface MessageRow {
  id: string;
  conversation_id: string;
  seq: number;
  role: string;
  content: string;
  parts: unknown[] | null;
  timestamp: Date;
  metadata: Record<string, unknown>;
}

export const MESSAGE_COLUMNS = 'm.id, m.conversation_id, m.seq, m.role, m.content, m.parts, m.timestamp, m.metadata';

/** A message as queries answer it: content as it was sent (text or parts). */
export const messageJson = (r: MessageRow) => ({
  id: r.id,
  conversation_id: r.conversation_id,
  seq: r.seq,
  role: r.role,
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
    content: z.union([z.string(), z.array(z.unknown())]),
    timestamp: z.string(),
    metadata: z.record(z.string(), z.unknown()),
  })
  .openapi('StoredMessage');
