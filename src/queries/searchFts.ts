import { createRoute, z } from '@hono/zod-openapi';
import { ROLES } from '../domain/conversation/index.js';
import type { AppDeps } from '../deps.js';
import { errorResponse } from '../http/errors.js';
import { errorResponses, register, type App } from '../http/openapi.js';
import { conversationConditions, type ConversationFilters } from './conversationFilters.js';
import { folderParam, importanceParam, labelParam, offsetParam, sizeParam } from './params.js';
import { consistencyParams, readYourWrites } from './readYourWrites.js';
import { Conditions, readQuery } from './sql.js';

/** The text search configuration of the `messages.search` column. */
export const FTS_CONFIG = 'english';

/** User text as a websearch query: NUL cannot reach Postgres; everything else websearch_to_tsquery accepts. */
export const ftsText = (query: string): string => query.replace(/\u0000/g, ' ').trim();

const isoDateTime = z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time' });

const bodySchema = (deps: AppDeps) => {
  const limits = deps.config.api;
  return z.object({
    query: z
      .string()
      .max(1000, 'must be at most 1000 characters')
      .refine((s) => ftsText(s).length > 0, 'must not be empty'),
    limit: z.number().int('must be a whole number').min(1, 'must be at least 1').max(limits.max_page_size, `must be at most ${limits.max_page_size}`).default(10),
    offset: z.number().int('must be a whole number').min(0, 'must not be negative').max(100_000, 'must be at most 100000').default(0),
    filters: z
      .object({
        label: labelParam(limits).optional(),
        folder: folderParam(limits).optional(),
        folder_prefix: folderParam(limits).optional(),
        status: z.enum(['active', 'archived']).optional(),
        pinned: z.boolean().optional(),
        importance_min: importanceParam.optional(),
        importance_max: importanceParam.optional(),
        conversation_id: z.uuid({ message: 'must be a UUID' }).optional(),
        role: z.enum(ROLES).optional(),
        after: isoDateTime.optional().openapi({ description: 'Messages with a timestamp after this' }),
        before: isoDateTime.optional(),
      })
      .default({}),
  });
};
type Body = z.infer<ReturnType<typeof bodySchema>>;

const resultSchema = z.object({
  id: z.string(),
  conversation_id: z.string(),
  role: z.string(),
  content: z.string(),
  timestamp: z.string(),
  rank: z.number(),
  snippet: z.string(),
  label: z.string(),
  folder: z.string(),
});

const route = (deps: AppDeps) =>
  createRoute({
    method: 'post',
    path: '/api/v1/search/fts',
    tags: ['search'],
    summary: 'Full-text search over messages (web-search syntax: "phrases", or, -not), ranked, with highlighted snippets',
    middleware: [readYourWrites(deps)] as const,
    request: {
      query: z.object(consistencyParams(deps)),
      body: { required: true, content: { 'application/json': { schema: bodySchema(deps) } } },
    },
    responses: {
      200: { description: 'Matches, best first', content: { 'application/json': { schema: z.object({ results: z.array(resultSchema), total: z.number() }) } } },
      ...errorResponses,
    },
  });

interface Row {
  id: string;
  conversation_id: string;
  role: string;
  content: string;
  timestamp: Date;
  rank: number;
  snippet: string;
  label: string;
  folder: string;
  total: number;
}

/** The conditions of a search: filters on the conversation and the message, and the match itself. */
function ftsWhere(body: Body): { where: Conditions; q: string } {
  const f = body.filters;
  const where = conversationConditions(f as ConversationFilters, new Conditions());
  const q = where.param(ftsText(body.query));
  where.add(`m.search @@ query.tsq`);
  if (f.conversation_id) where.add('m.conversation_id = ?', f.conversation_id);
  if (f.role) where.add('m.role = ?', f.role);
  if (f.after) where.add('m.timestamp > ?::timestamptz', f.after);
  if (f.before) where.add('m.timestamp < ?::timestamptz', f.before);
  return { where, q };
}

const FROM = `from messages m join conversations c on c.id = m.conversation_id, query`;

/**
 * The snippet is HTML (matches in <mark>): the content is escaped first, so that a message holding
 * markup cannot inject it into a page that shows snippets. Entities are tokens of their own to the
 * text parser, so escaping moves no match.
 */
const escapeHtmlSql = (expr: string) => `replace(replace(replace(replace(${expr}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;')`;

/** Ranks matching messages with ts_rank, then highlights only the page's rows (ts_headline is costly). */
export function ftsSql(body: Body): { text: string; values: unknown[] } {
  const { where, q } = ftsWhere(body);
  const limit = where.param(body.limit);
  const offset = where.param(body.offset);
  const text = `
    with query as (select websearch_to_tsquery('${FTS_CONFIG}', ${q}) as tsq),
    hits as (
      select m.id, m.conversation_id, m.role, m.content, m.timestamp, c.label, c.folder,
             ts_rank(m.search, query.tsq) as rank, count(*) over () as total
        ${FROM}
       ${where.where}
       order by rank desc, m.timestamp desc, m.id
       limit ${limit} offset ${offset}
    )
    select hits.*, ts_headline('${FTS_CONFIG}', ${escapeHtmlSql('hits.content')}, query.tsq,
             'StartSel=<mark>, StopSel=</mark>, MaxWords=35, MinWords=15, MaxFragments=2, FragmentDelimiter=" … "') as snippet
      from hits, query
     order by rank desc, timestamp desc, id`;
  return { text, values: where.values };
}

/** How many messages match (for a page past the end). */
export function ftsCountSql(body: Body): { text: string; values: unknown[] } {
  const { where, q } = ftsWhere(body);
  return {
    text: `with query as (select websearch_to_tsquery('${FTS_CONFIG}', ${q}) as tsq) select count(*)::int as n ${FROM} ${where.where}`,
    values: where.values,
  };
}

export const searchFtsRoute = (deps: AppDeps) => (app: App) => {
  register(app, route(deps), async (c) => {
    const body = c.req.valid('json') as Body;
    const { text, values } = ftsSql(body);
    const rows = await readQuery<Row>(deps.pools.read, text, values);
    if (rows.isErr()) return errorResponse(c, rows.error);
    // A page past the last match has no row to carry the count: count apart then.
    let total = rows.value[0]?.total ?? 0;
    if (rows.value.length === 0 && body.offset > 0) {
      const count = ftsCountSql(body);
      const counted = await readQuery<{ n: number }>(deps.pools.read, count.text, count.values);
      if (counted.isErr()) return errorResponse(c, counted.error);
      total = counted.value[0]!.n;
    }
    return c.json({
      results: rows.value.map((r) => ({
        id: r.id,
        conversation_id: r.conversation_id,
        role: r.role,
        content: r.content,
        timestamp: new Date(r.timestamp).toISOString(),
        rank: Number(r.rank),
        snippet: r.snippet,
        label: r.label,
        folder: r.folder,
      })),
      total,
    });
  });
};
