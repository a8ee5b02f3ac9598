import { err, ok, type Result } from 'neverthrow';
import type pg from 'pg';
import { conversationDeleted, toApiError, type ApiError } from '../http/errors.js';
import { conversationConditions } from './conversationFilters.js';
import { readQuery } from './sql.js';
import { CONVERSATION_COLUMNS, MESSAGE_COLUMNS, type ConversationRow, type MessageRow } from './views.js';

export interface LoadedConversation {
  conversation: ConversationRow;
  messages: MessageRow[];
}

/** One live (not deleted) conversation with its messages in order, from the read tables. */
export async function loadConversation(pool: pg.Pool, id: string): Promise<Result<LoadedConversation, ApiError>> {
  const found = await readQuery<ConversationRow>(pool, `select ${CONVERSATION_COLUMNS} from conversations c where c.id = $1`, [id]);
  if (found.isErr()) return err(found.error);
  const conversation = found.value[0];
  if (!conversation) return err(toApiError('CONVERSATION_NOT_FOUND'));
  if (conversation.status === 'deleted') return err(toApiError(conversationDeleted(conversation.updated_at)));
  const messages = await readQuery<MessageRow>(pool, `select ${MESSAGE_COLUMNS} from messages m where m.conversation_id = $1 order by m.seq`, [id]);
  if (messages.isErr()) return err(messages.error);
  return ok({ conversation, messages: messages.value });
}

/** Live conversations with a label and/or under a folder (prefix), with their messages, oldest first. */
export async function loadConversations(pool: pg.Pool, filter: { label?: string | undefined; folder?: string | undefined }, limit: number): Promise<Result<LoadedConversation[], ApiError>> {
  const where = conversationConditions({ ...(filter.label !== undefined ? { label: filter.label } : {}), ...(filter.folder !== undefined ? { folder_prefix: filter.folder } : {}) });
  const rows = await readQuery<ConversationRow>(pool, `select ${CONVERSATION_COLUMNS} from conversations c ${where.where} order by c.created_at, c.id limit ${where.param(limit)}`, where.values);
  if (rows.isErr()) return err(rows.error);
  const messages = await readQuery<MessageRow>(pool, `select ${MESSAGE_COLUMNS} from messages m where m.conversation_id = any($1::uuid[]) order by m.conversation_id, m.seq`, [
    rows.value.map((r) => r.id),
  ]);
  if (messages.isErr()) return err(messages.error);
  const byConversation = new Map<string, MessageRow[]>();
  for (const m of messages.value) byConversation.set(m.conversation_id, [...(byConversation.get(m.conversation_id) ?? []), m]);
  return ok(rows.value.map((conversation) => ({ conversation, messages: byConversation.get(conversation.id) ?? [] })));
}
