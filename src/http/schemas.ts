import { z } from '@hono/zod-openapi';
import { ROLES, type ConversationDetails } from '../domain/conversation/index.js';
import type { ResolvedConfig } from '../config/load.js';

export type Limits = ResolvedConfig['api'];

/** Depth of nested objects/arrays; metadata deeper than the limit is refused. */
export function depthOf(value: unknown, limit: number, depth = 0): number {
  if (depth > limit || typeof value !== 'object' || value === null) return depth;
  let deepest = depth + 1;
  for (const v of Object.values(value)) deepest = Math.max(deepest, depthOf(v, limit, depth + 1));
  return deepest;
}

/** Free-form metadata: a JSON object, not too deep. */
export const metadataSchema = (limits: Limits) =>
  z
    .record(z.string(), z.unknown())
    .refine((m) => depthOf(m, limits.max_metadata_depth) <= limits.max_metadata_depth, {
      message: `must not nest deeper than ${limits.max_metadata_depth} levels`,
    });

// Control characters other than tab/newline never belong in a label or folder.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

export const labelSchema = (limits: Limits) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(limits.max_label_chars, `must be at most ${limits.max_label_chars} characters`)
    .refine((s) => !CONTROL.test(s), 'must not contain control characters');

/** Normalises a folder path: leading `/`, no empty segments, no trailing `/` (except the root). */
export function normaliseFolder(folder: string): string {
  const segments = folder.split('/').filter((s) => s !== '');
  return `/${segments.join('/')}`;
}

export const folderSchema = (limits: Limits) =>
  z
    .string()
    .max(limits.max_folder_chars, `must be at most ${limits.max_folder_chars} characters`)
    .refine((s) => !CONTROL.test(s), 'must not contain control characters')
    .refine((s) => !s.split('/').some((seg) => seg === '.' || seg === '..'), 'must not contain . or .. segments')
    .transform(normaliseFolder);

export const importanceSchema = z.number().int('must be a whole number').min(1, 'must be between 1 and 10').max(10, 'must be between 1 and 10');

const nonBlank = (s: string) => s.trim().length > 0;

/** A participant's name, as in OpenAI's chat format: who wrote the message, beside its role. */
export const nameSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'must not contain control characters');

export const contentPartSchema = (limits: Limits) =>
  z.discriminatedUnion('type', [
    z.object({
      type: z.literal('text'),
      text: z.string().max(limits.max_content_chars, `must be at most ${limits.max_content_chars} characters`),
    }),
    z.object({
      type: z.literal('image_url'),
      image_url: z.object({ url: z.string().min(1).max(limits.max_content_chars), detail: z.enum(['auto', 'low', 'high']).optional() }),
    }),
  ]);

export const messageSchema = (limits: Limits) =>
  z
    .object({
      role: z.enum(ROLES),
      name: nameSchema.nullish(),
      content: z.union([
        z
          .string()
          .max(limits.max_content_chars, `must be at most ${limits.max_content_chars} characters`)
          .refine(nonBlank, 'must not be empty'),
        z
          .array(contentPartSchema(limits))
          .min(1, 'must have at least one part')
          .max(100, 'must have at most 100 parts')
          .refine((parts) => parts.some((p) => p.type === 'image_url' || nonBlank(p.text)), 'must not be empty'),
      ]),
      timestamp: z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time' }).optional(),
      metadata: metadataSchema(limits).optional(),
    })
    .openapi('Message');

export const messagesSchema = (limits: Limits, min: number) =>
  z
    .array(messageSchema(limits))
    .min(min, `must have at least ${min} message${min === 1 ? '' : 's'}`)
    .max(limits.max_messages_per_request, `must have at most ${limits.max_messages_per_request} messages`);

export const conversationIdParams = z.object({
  // Any 8-4-4-4-12 hex id (not only RFC v4), lower-cased: stream ids are case-sensitive text.
  id: z
    .guid({ message: 'must be a UUID' })
    .transform((s) => s.toLowerCase())
    .openapi({ param: { name: 'id', in: 'path' }, type: 'string', format: 'uuid' }),
});

/** The conversation every write answers with. */
const iso = (v: Date | string | null): string | null => (v === null ? null : new Date(v).toISOString());

/** What every answer about a conversation is made from: a read-model row, or the state a write left. */
export type ConversationFacts = Omit<ConversationDetails, 'created_at' | 'updated_at' | 'last_message_at'> & {
  status: string;
  // A read-model row's times are Dates; a state's, ISO strings.
  created_at: Date | string;
  updated_at: Date | string;
  last_message_at: Date | string | null;
  version: number;
};

/** The one shape of a conversation in every answer, reads and writes alike (writes add `position`). */
export const conversationAnswer = (r: ConversationFacts) => ({
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
    status: z.enum(['active', 'archived', 'deleted']),
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

/** A write's answer: the conversation after it, and the position to read it at. */
export const conversationWriteSchema = conversationSchema.extend({ position: z.string() }).openapi('ConversationWrite');
