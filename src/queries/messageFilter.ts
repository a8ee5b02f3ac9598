import type pg from 'pg';
import type { MessageFilter } from '../domain/conversation/index.js';
import { conversationConditions } from './conversationFilters.js';
import { Conditions } from './sql.js';

/** The wire fields both search routes spell and mean alike. */
export interface SameInEveryRoute {
  label?: string | undefined;
  pinned?: boolean | undefined;
  conversation_id?: string | undefined;
  role?: MessageFilter['role'];
  name?: string | undefined;
  importance_min?: number | undefined;
  importance_max?: number | undefined;
}

/** Those fields in the filter's vocabulary. */
export const sameInEveryRoute = (f: SameInEveryRoute) => ({
  label: f.label,
  pinned: f.pinned,
  conversationId: f.conversation_id,
  role: f.role,
  name: f.name,
  importanceMin: f.importance_min,
  importanceMax: f.importance_max,
});

/** The conversation-level part of a filter as SQL conditions on the conversation `c` (its id included). */
export function filterConversationConditions(f: MessageFilter, into: Conditions): Conditions {
  conversationConditions(
    {
      ...(f.label !== undefined ? { label: f.label } : {}),
      ...(f.folder !== undefined ? { folder: f.folder } : {}),
      ...(f.folderTree !== undefined ? { folder_prefix: f.folderTree } : {}),
      ...(f.status !== 'any' ? { status: f.status } : {}),
      ...(f.pinned !== undefined ? { pinned: f.pinned } : {}),
      ...(f.importanceMin !== undefined ? { importance_min: f.importanceMin } : {}),
      ...(f.importanceMax !== undefined ? { importance_max: f.importanceMax } : {}),
    },
    into,
  );
  if (f.conversationId !== undefined) into.add('c.id = ?', f.conversationId);
  return into;
}

/** A filter as SQL conditions on a message `m` joined to its conversation `c`: the SQL reading of `passesFilter`. */
export function messageFilterConditions(f: MessageFilter, into: Conditions): Conditions {
  filterConversationConditions(f, into);
  if (f.role !== undefined) into.add('m.role = ?', f.role);
  if (f.name !== undefined) into.add('m.name = ?', f.name);
  if (f.from !== undefined) into.add(`m.timestamp ${f.from.inclusive ? '>=' : '>'} ?::timestamptz`, f.from.at);
  if (f.to !== undefined) into.add(`m.timestamp ${f.to.inclusive ? '<=' : '<'} ?::timestamptz`, f.to.at);
  return into;
}

/** Whether the filter names conversations narrowly enough that counting them may pay (more than a status). */
export const narrowsConversations = (f: MessageFilter): boolean =>
  [f.conversationId, f.label, f.folder, f.folderTree, f.pinned, f.importanceMin, f.importanceMax].some((v) => v !== undefined);

/** Whether the filter passes every message of every live (not deleted) conversation: no status, nothing named. */
export const selectsEveryLiveMessage = (f: MessageFilter): boolean =>
  f.status === 'any' && !narrowsConversations(f) && [f.role, f.name, f.from, f.to].every((v) => v === undefined);

/**
 * How many conversations and messages the conversation-level part of a filter selects, counting at
 * most `conversations` + 1 conversations (from their message counts, never their messages);
 * undefined when the filter does not name conversations narrowly at all.
 */
export async function filterScope(db: pg.Pool | pg.PoolClient, f: MessageFilter, conversations: number): Promise<{ conversations: number; messages: number } | undefined> {
  if (!narrowsConversations(f)) return undefined;
  const where = filterConversationConditions(f, new Conditions());
  const { rows } = await db.query<{ conversations: number; messages: number }>(
    `select count(*)::int as conversations, coalesce(sum(message_count), 0)::int as messages
       from (select c.message_count from conversations c ${where.where} limit ${conversations + 1}) s`,
    where.values,
  );
  return rows[0];
}
