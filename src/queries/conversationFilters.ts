import { z } from '@hono/zod-openapi';
import type { Limits } from '../http/schemas.js';
import { folderParam, importanceParam, labelParam, queryBool, queryDate } from './params.js';
import { Conditions } from './sql.js';

/** The conversation filters of API.md, shared by list, count and (as `filters`) search. */
export const conversationFilterParams = (limits: Limits) => ({
  label: labelParam(limits).optional(),
  label_contains: labelParam(limits).optional().openapi({ description: 'Substring of the label, case-insensitive' }),
  folder: folderParam(limits).optional().openapi({ description: 'Exact folder' }),
  folder_prefix: folderParam(limits).optional().openapi({ description: 'Folder and its subfolders' }),
  status: z.enum(['active', 'archived'], { message: 'must be active or archived' }).optional(),
  pinned: queryBool.optional(),
  archived: queryBool.optional(),
  importance_min: importanceParam.optional(),
  importance_max: importanceParam.optional(),
  created_after: queryDate.optional(),
  created_before: queryDate.optional(),
  updated_after: queryDate.optional(),
  updated_before: queryDate.optional(),
});

export type ConversationFilters = Partial<{
  label: string;
  label_contains: string;
  folder: string;
  folder_prefix: string;
  status: 'active' | 'archived';
  pinned: boolean;
  archived: boolean;
  importance_min: number;
  importance_max: number;
  created_after: string;
  created_before: string;
  updated_after: string;
  updated_before: string;
}>;

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (ch) => `\\${ch}`);

/** SQL conditions on the `conversations` view aliased `c`; deleted conversations never match. */
export function conversationConditions(f: ConversationFilters, into = new Conditions()): Conditions {
  into.add(`c.status <> 'deleted'`);
  if (f.label !== undefined) into.add('c.label = ?', f.label);
  if (f.label_contains !== undefined) into.add(`c.label ilike ? escape '\\'`, `%${likeEscape(f.label_contains)}%`);
  if (f.folder !== undefined) into.add('c.folder = ?', f.folder);
  if (f.folder_prefix !== undefined) {
    if (f.folder_prefix !== '/') into.add(`(c.folder = ? or c.folder like ? escape '\\')`, f.folder_prefix, `${likeEscape(f.folder_prefix)}/%`);
  }
  if (f.status !== undefined) into.add('c.status = ?', f.status);
  if (f.archived !== undefined) into.add(f.archived ? `c.status = 'archived'` : `c.status = 'active'`);
  if (f.pinned !== undefined) into.add('c.pinned = ?', f.pinned);
  if (f.importance_min !== undefined) into.add('c.importance_score >= ?', f.importance_min);
  if (f.importance_max !== undefined) into.add('c.importance_score <= ?', f.importance_max);
  if (f.created_after !== undefined) into.add('c.created_at > ?::timestamptz', f.created_after);
  if (f.created_before !== undefined) into.add('c.created_at < ?::timestamptz', f.created_before);
  if (f.updated_after !== undefined) into.add('c.updated_at > ?::timestamptz', f.updated_after);
  if (f.updated_before !== undefined) into.add('c.updated_at < ?::timestamptz', f.updated_before);
  return into;
}
