import { z } from '@hono/zod-openapi';
import { ROLES, type MessageFilter } from '../domain/conversation/index.js';
import { nameSchema, type Limits } from '../http/schemas.js';
import { sameInEveryRoute } from './messageFilter.js';
import { folderParam, importanceParam, labelParam } from './params.js';

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
      created_after: isoDateTime.optional().openapi({ description: 'Messages with a timestamp at or after this (whole seconds)' }),
      created_before: isoDateTime.optional().openapi({ description: 'Messages with a timestamp at or before this (whole seconds)' }),
    })
    .default({});

export type SearchFilters = z.infer<ReturnType<typeof searchFiltersSchema>>;

/** The start of the whole second holding `iso`, as ISO. */
const secondOf = (iso: string, plus = 0) => new Date(Math.floor(Date.parse(iso) / 1000) * 1000 + plus * 1000).toISOString();

/**
 * This route's filters in the one filter vocabulary. `folder` is a subtree; archived conversations are
 * left out unless asked for; the time bounds take whole seconds, inclusive at both ends, because that
 * is all the vectors keep: a bound of the semantic side and of the lexical side then mean the same.
 */
export function queryFilterOf(f: SearchFilters): MessageFilter {
  return {
    status: f.status ?? (f.include_archived ? 'any' : 'active'),
    ...sameInEveryRoute(f),
    folderTree: f.folder,
    from: f.created_after === undefined ? undefined : { at: secondOf(f.created_after), inclusive: true },
    // "At or before" a whole second is "before the next one".
    to: f.created_before === undefined ? undefined : { at: secondOf(f.created_before, 1), inclusive: false },
  };
}
