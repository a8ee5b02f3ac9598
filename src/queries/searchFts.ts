import { createRoute, z } from '@hono/zod-openapi';
import { nameSchema } from '../http/schemas.js';
import { ROLES, TEXT_SEARCH_CONFIG, type MessageFilter } from '../domain/conversation/index.js';
import type { AppDeps } from '../deps.js';
import { errorResponse } from '../http/errors.js';
import { errorResponses, register, type App } from '../http/openapi.js';
import { folderParam, importanceParam, labelParam, offsetParam, sizeParam } from './params.js';
import { consistencyParams, readYourWrites } from './readYourWrites.js';
import { ok } from 'neverthrow';
import { LEXICAL_STATS } from '../projections/lexicalStats.js';
import { READ_MODEL } from '../projections/readModel/schema.js';
import { bm25Params } from './bm25.js';
import { ftsText, lexicalTopK } from './lexicalTopK.js';
import { ftsCountSql } from './ftsCount.js';
import { sameInEveryRoute } from './messageFilter.js';
import { readQuery } from './sql.js';
import { nameField, nameProperty } from './views.js';

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
    exact_total: z
      .boolean({ message: 'must be true or false' })
      .default(false)
      .openapi({ description: `Count every match for total. By default matches are counted up to [search] fts_total_limit (${deps.config.search.fts_total_limit}; or offset + limit when more), and total_relation says "gte" past it` }),
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
        name: nameSchema.optional(),
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
  name: nameProperty,
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
    summary: 'Full-text search over messages (web-search syntax: "phrases", or, -not), ranked by BM25, with highlighted snippets',
    middleware: [readYourWrites(deps, [READ_MODEL, LEXICAL_STATS])] as const,
    request: {
      query: z.object(consistencyParams(deps)),
      body: { required: true, content: { 'application/json': { schema: bodySchema(deps) } } },
    },
    responses: {
      200: {
        description: 'Matches, best first',
        content: {
          'application/json': {
            schema: z.object({
              results: z.array(resultSchema),
              total: z.number(),
              total_relation: z.enum(['eq', 'gte']).openapi({ description: 'eq: total is exact; gte: at least total match (counting stopped there, see exact_total)' }),
            }),
          },
        },
      },
      ...errorResponses,
    },
  });

interface Row {
  id: string;
  conversation_id: string;
  role: string;
  name: string | null;
  content: string;
  /** A Date, or its JSON text when the ranking's statement returned the row. */
  timestamp: Date | string;
  snippet: string;
  label: string;
  folder: string;
}

/**
 * This route's filters in the one filter vocabulary: `folder` is exact and `folder_prefix` a subtree;
 * `after`/`before` are exclusive and exact; archived conversations are kept unless a status is asked for.
 */
export function ftsFilterOf(f: Body['filters']): MessageFilter {
  return {
    status: f.status ?? 'any',
    ...sameInEveryRoute(f),
    folder: f.folder,
    folderTree: f.folder_prefix,
    from: f.after === undefined ? undefined : { at: f.after, inclusive: false },
    to: f.before === undefined ? undefined : { at: f.before, inclusive: false },
  };
}

/**
 * The snippet is HTML (matches in <mark>): the content is escaped first, so that a message holding
 * markup cannot inject it into a page that shows snippets. Entities are tokens of their own to the
 * text parser, so escaping moves no match.
 */
const escapeHtmlSql = (expr: string) => `replace(replace(replace(replace(${expr}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;')`;

/** The columns a result shows, given the query text's placeholder: the snippet highlights its matches (ts_headline is costly: only for the page). */
const pageColumns = (query: string): Record<keyof Row, string> => ({
  id: 'm.id::text',
  conversation_id: 'm.conversation_id::text',
  role: 'm.role',
  name: 'm.name',
  content: 'm.content',
  timestamp: 'm.timestamp',
  label: 'c.label',
  folder: 'c.folder',
  snippet: `ts_headline('${TEXT_SEARCH_CONFIG}', ${escapeHtmlSql('m.content')}, websearch_to_tsquery('${TEXT_SEARCH_CONFIG}', ${query}),
              'StartSel=<mark>, StopSel=</mark>, MaxWords=35, MinWords=15, MaxFragments=2, FragmentDelimiter=" … "')`,
});

/** The page's rows that the ranking did not return with it. */
const PAGE_SQL = `
  select ${Object.entries(pageColumns('$2')).map(([name, sql]) => `${sql} as ${name}`).join(', ')}
    from messages m join conversations c on c.id = m.conversation_id
   where m.id = any($1::uuid[])`;

/** The count as the answer gives it: exact, or the cap with "gte" when counting stopped past it. */
const totalOf = (counted: number, upTo: number | null): { total: number; total_relation: 'eq' | 'gte' } =>
  upTo !== null && counted > upTo ? { total: upTo, total_relation: 'gte' } : { total: counted, total_relation: 'eq' };

export const searchFtsRoute = (deps: AppDeps) => (app: App) => {
  register(app, route(deps), async (c) => {
    const body = c.req.valid('json');
    const filter = ftsFilterOf(body.filters);
    // Counting stops past [search] fts_total_limit: a common word's exact count costs more than the ranking.
    const upTo = body.exact_total ? null : Math.max(deps.config.search.fts_total_limit, body.offset + body.limit);
    const count = ftsCountSql(filter, body.query, upTo);
    // The ranking (exact top offset + limit by BM25) with its page's rows, and the count of matches:
    // from the ranking's own statement when it can, else beside the ranking.
    const ranked = await lexicalTopK(deps.pools.read, {
      query: ftsText(body.query),
      syntax: 'websearch',
      filter,
      k: body.offset + body.limit,
      params: bm25Params(deps.config.search),
      page: { offset: body.offset, limit: body.limit, columns: pageColumns },
      countMatches: () => readQuery<{ n: number }>(deps.pools.read, count.text, count.values, 'prepared').map((rows) => rows[0]!.n),
    });
    if (ranked.isErr()) return errorResponse(c, ranked.error);
    const page = ranked.value.hits.slice(body.offset);
    const byId = new Map((ranked.value.rows ?? new Map()) as Map<string, Row>);
    const missing = page.filter((h) => !byId.has(h.id)).map((h) => h.id);
    const rows = missing.length ? await readQuery<Row>(deps.pools.read, PAGE_SQL, [missing, ftsText(body.query)], 'prepared') : ok([] as Row[]);
    if (rows.isErr()) return errorResponse(c, rows.error);
    for (const r of rows.value) byId.set(r.id, r);
    return c.json({
      results: page.flatMap((h) => {
        const r = byId.get(h.id);
        return r
          ? [{ id: r.id, conversation_id: r.conversation_id, role: r.role, ...nameField(r.name), content: r.content, timestamp: new Date(r.timestamp).toISOString(), rank: h.score, snippet: r.snippet, label: r.label, folder: r.folder }]
          : [];
      }),
      ...totalOf(ranked.value.matches!, upTo),
    });
  }, 'read');
};
