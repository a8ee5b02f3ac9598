import { z } from '@hono/zod-openapi';
import { ROLES } from '../domain/conversation/index.js';
import { nameSchema, type Limits } from '../http/schemas.js';
import type { SearchFilters } from '../vectors/where.js';
import { conversationConditions } from './conversationFilters.js';
import { folderParam, importanceParam, labelParam } from './params.js';
import type { Conditions } from './sql.js';

const isoDateTime = z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time' });

/** The `filters` of POST /api/v1/query; the same meaning for the vector and the lexical side. */
export const searchFiltersSchema = (limits: Limits) =>
  z
    .object({
      label: labelParam(limits).optional(),
      folder: folderParam(limits).optional().openapi({ description: 'Folder prefix: the folder and its subfolders' }),
      status: z.enum(['active', 'archived']).optional(),
      include_archived: z.boolean().optional().openapi({ description: 'Archived conversations are left out unless this is true or status asks for them' }),
      pinned: z.boolean().optional(),
      conversation_id: z.uuid({ message: 'must be a UUID' }).optional(),
      role: z.enum(ROLES).optional(),
      name: nameSchema.optional().openapi({ description: "The participant's name, exactly as sent" }),
      importance_min: importanceParam.optional(),
      importance_max: importanceParam.optional(),
      created_after: isoDateTime.optional().openapi({ description: 'Messages with a timestamp at or after this' }),
      created_before: isoDateTime.optional().openapi({ description: 'Messages with a timestamp at or before this' }),
    })
    .default({});

/** SQL conditions (messages `m` joined to conversations `c`) equal to the Chroma `where` of the same filters. */
export function searchConditions(f: SearchFilters, into: Conditions): Conditions {
  conversationConditions(
    {
      ...(f.label !== undefined ? { label: f.label } : {}),
      ...(f.folder !== undefined ? { folder_prefix: f.folder } : {}),
      ...(f.status !== undefined ? { status: f.status } : {}),
      ...(f.pinned !== undefined ? { pinned: f.pinned } : {}),
      ...(f.importance_min !== undefined ? { importance_min: f.importance_min } : {}),
      ...(f.importance_max !== undefined ? { importance_max: f.importance_max } : {}),
    },
    into,
  );
  if (f.status === undefined && !f.include_archived) into.add(`c.status = 'active'`);
  if (f.conversation_id !== undefined) into.add('m.conversation_id = ?', f.conversation_id);
  if (f.role !== undefined) into.add('m.role = ?', f.role);
  if (f.name !== undefined) into.add('m.name = ?', f.name);
  // Whole seconds, as the vectors store them.
  if (f.created_after !== undefined) into.add(`m.timestamp >= date_trunc('second', ?::timestamptz)`, f.created_after);
  if (f.created_before !== undefined) into.add(`m.timestamp < date_trunc('second', ?::timestamptz) + interval '1 second'`, f.created_before);
  return into;
}
