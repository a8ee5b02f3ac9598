import { createRoute, z } from '@hono/zod-openapi';
import { err, ok, type Result } from 'neverthrow';
import type { AppDeps } from '../deps.js';
import { apiError, errorResponse, type ApiError } from '../http/errors.js';
import { errorResponses, register, type App } from '../http/openapi.js';
import { conversationConditions, conversationFilterParams, type ConversationFilters } from './conversationFilters.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { offsetParam, sizeParam } from './params.js';
import { consistencyParams, readYourWrites } from './readYourWrites.js';
import { readQuery } from './sql.js';
import { conversationAnswer, conversationSchema } from '../http/schemas.js';
import { CONVERSATION_COLUMNS, type ConversationRow } from './views.js';

const SORT_FIELDS = { created_at: 'timestamptz', updated_at: 'timestamptz', importance_score: 'int', label: 'text', message_count: 'int' } as const;
type SortField = keyof typeof SORT_FIELDS;
export interface Sort {
  field: SortField;
  dir: 'asc' | 'desc';
}

/** Parses `field`, `-field` or `field:asc|desc` (pure). */
export function parseSort(raw: string): Sort | undefined {
  const m = /^(-)?([a-z_]+)(?::(asc|desc))?$/.exec(raw.trim());
  if (!m || !(m[2]! in SORT_FIELDS) || (m[1] && m[3])) return undefined;
  return { field: m[2] as SortField, dir: m[1] ? 'desc' : ((m[3] as Sort['dir'] | undefined) ?? 'asc') };
}
const sortKey = (s: Sort) => `${s.field}:${s.dir}`;

const querySchema = (deps: AppDeps) =>
  z.object({
    ...conversationFilterParams(deps.config.api),
    sort: z
      .string()
      .refine((s) => parseSort(s) !== undefined, `must be one of ${Object.keys(SORT_FIELDS).join(', ')}, optionally as -field or field:asc|desc`)
      .optional()
      .openapi({ description: 'Default -updated_at (newest first); ties broken by id' }),
    page: z.coerce.number().int('must be a whole number').min(1, 'must be at least 1').max(100_000, 'must be at most 100000').optional(),
    page_size: sizeParam(deps.config.api).optional(),
    limit: sizeParam(deps.config.api).optional(),
    offset: offsetParam.optional(),
    cursor: z.string().optional().openapi({ description: 'next_cursor of the previous page (keyset paging)' }),
    ...consistencyParams(deps),
  });
type Query = ConversationFilters & { sort?: string; page?: number; page_size?: number; limit?: number; offset?: number; cursor?: string };

type Paging = { mode: 'offset'; size: number; offset: number } | { mode: 'cursor'; size: number; after?: { v: string; id: string } };

interface CursorValue {
  s: string;
  v: string;
  id: string;
}
const isCursor = (v: unknown): v is CursorValue =>
  typeof v === 'object' && v !== null && typeof (v as CursorValue).s === 'string' && typeof (v as CursorValue).v === 'string' && typeof (v as CursorValue).id === 'string' && /^[0-9a-f-]{36}$/.test((v as CursorValue).id);

const conflict = (field: string, other: string): ApiError =>
  apiError('invalid_input', `query.${field}: cannot be combined with ${other}`, { field: `query.${field}`, reason: `cannot be combined with ${other}` });

/** Which paging the query asked for: page/page_size, limit/offset, or cursor/limit. */
export function paging(q: Query, sort: Sort): Result<Paging, ApiError> {
  if (q.cursor !== undefined) {
    for (const f of ['page', 'page_size', 'offset'] as const) if (q[f] !== undefined) return err(conflict(f, 'cursor'));
    const cursor = decodeCursor(q.cursor, isCursor);
    if (cursor.isErr()) return err(cursor.error);
    if (cursor.value.s !== sortKey(sort)) return err(apiError('invalid_input', 'query.cursor: was made for another sort', { field: 'query.cursor' }));
    return ok({ mode: 'cursor', size: q.limit ?? 20, after: { v: cursor.value.v, id: cursor.value.id } });
  }
  if (q.page !== undefined && q.offset !== undefined) return err(conflict('offset', 'page'));
  if (q.page_size !== undefined && q.limit !== undefined) return err(conflict('limit', 'page_size'));
  const size = q.page_size ?? q.limit ?? 20;
  return ok({ mode: 'offset', size, offset: q.offset ?? ((q.page ?? 1) - 1) * size });
}

const route = (deps: AppDeps) =>
  createRoute({
    method: 'get',
    path: '/api/v1/conversations',
    tags: ['conversations'],
    summary: 'List conversations with filters; offset paging (page/page_size or limit/offset) or keyset paging (cursor/limit)',
    middleware: [readYourWrites(deps)] as const,
    request: { query: querySchema(deps) },
    responses: {
      200: {
        description: 'A page of conversations',
        content: {
          'application/json': {
            schema: z.object({
              results: z.array(conversationSchema),
              total: z.number(),
              page: z.number().nullable(),
              page_size: z.number(),
              next_cursor: z.string().nullable(),
            }),
          },
        },
      },
      ...errorResponses,
    },
  });

export const listConversationsRoute = (deps: AppDeps) => (app: App) => {
  register(app, route(deps), async (c) => {
    const q = c.req.valid('query');
    const sort = parseSort(q.sort ?? '-updated_at')!;
    const pages = paging(q, sort);
    if (pages.isErr()) return errorResponse(c, pages.error);
    const p = pages.value;
    const filters = conversationConditions(q);
    const total = await readQuery<{ n: number }>(deps.pools.read, `select count(*)::int as n from conversations c ${filters.where}`, filters.values);
    if (total.isErr()) return errorResponse(c, total.error);

    const col = `c.${sort.field}`;
    const cast = SORT_FIELDS[sort.field];
    if (p.mode === 'cursor' && p.after) filters.add(`(${col}, c.id) ${sort.dir === 'asc' ? '>' : '<'} (?::${cast}, ?::uuid)`, p.after.v, p.after.id);
    const limit = filters.param(p.size + 1);
    const offset = filters.param(p.mode === 'offset' ? p.offset : 0);
    const rows = await readQuery<ConversationRow & { sort_value: string }>(
      deps.pools.read,
      `select ${CONVERSATION_COLUMNS}, ${col}::text as sort_value from conversations c ${filters.where}
        order by ${col} ${sort.dir}, c.id ${sort.dir} limit ${limit} offset ${offset}`,
      filters.values,
    );
    if (rows.isErr()) return errorResponse(c, rows.error);
    const page = rows.value.slice(0, p.size);
    const last = page.at(-1);
    const more = rows.value.length > p.size;
    return c.json({
      results: page.map(conversationAnswer),
      total: total.value[0]!.n,
      page: p.mode === 'offset' ? Math.floor(p.offset / p.size) + 1 : null,
      page_size: p.size,
      next_cursor: more && last ? encodeCursor({ s: sortKey(sort), v: last.sort_value, id: last.id }) : null,
    });
  });
};
