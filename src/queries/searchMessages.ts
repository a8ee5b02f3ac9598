import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { err, ok } from 'neverthrow';
import type { AppDeps } from '../deps.js';
import { errorResponse } from '../http/errors.js';
import { errorResponses, register, type App } from '../http/openapi.js';
import { LEXICAL_STATS } from '../projections/lexicalStats.js';
import { READ_MODEL } from '../projections/readModel/schema.js';
import { VECTORS } from '../vectors/collections.js';
import { consistencyParams, readYourWrites, requestedPosition, waitFor, waitForPosition } from './readYourWrites.js';
import { queryFilterOf, searchFiltersSchema } from './searchFilters.js';
import { readQuery } from './sql.js';
import { nameField, nameProperty } from './views.js';
import { rankMessages } from './rankMessages.js';

/** The body of POST /api/v1/query (the MCP tool memory_search reads the same). */
export const searchBody = (deps: AppDeps) => {
  const limits = deps.config.api;
  return z.object({
    query: z.string().max(2000, 'must be at most 2000 characters').refine((s) => s.replace(/\u0000/g, '').trim().length > 0, 'must not be empty'),
    limit: z.number().int('must be a whole number').min(1, 'must be at least 1').max(limits.max_page_size, `must be at most ${limits.max_page_size}`).default(10),
    offset: z.number().int('must be a whole number').min(0, 'must not be negative').max(1000, 'must be at most 1000').default(0),
    filters: searchFiltersSchema(limits),
    mode: z.enum(['semantic', 'fts', 'hybrid']).default('hybrid'),
  });
};
export type SearchBody = z.infer<ReturnType<typeof searchBody>>;

const resultSchema = z.object({
  conversation_id: z.string(),
  message_id: z.string(),
  score: z.number(),
  content: z.string(),
  metadata: z.record(z.string(), z.unknown()),
  label: z.string(),
  folder: z.string(),
  timestamp: z.string(),
  role: z.string(),
  name: nameProperty,
});

const route = (deps: AppDeps) =>
  createRoute({
    method: 'post',
    path: '/api/v1/query',
    tags: ['search'],
    summary: 'Search messages by meaning (semantic), by words (BM25 full-text), or both fused (hybrid, the default)',
    description:
      'Scores are higher-is-better: cosine similarity (semantic), BM25 (fts), weighted reciprocal-rank fusion (hybrid). ' +
      'When Chroma or the embedder is unavailable the answer comes from full-text search and says `degraded: true`.',
    middleware: [readYourWrites(deps, [READ_MODEL, LEXICAL_STATS])] as const,
    request: {
      query: z.object(consistencyParams(deps)),
      body: { required: true, content: { 'application/json': { schema: searchBody(deps) } } },
    },
    responses: {
      200: {
        description: 'Matches, best first',
        content: {
          'application/json': {
            schema: z.object({ results: z.array(resultSchema), total: z.number(), page: z.number(), page_size: z.number(), mode: z.string(), degraded: z.boolean() }),
          },
        },
      },
      ...errorResponses,
    },
  });

interface HydratedRow {
  id: string;
  conversation_id: string;
  role: string;
  content: string;
  metadata: Record<string, unknown>;
  timestamp: Date;
  label: string;
  folder: string;
  name: string | null;
}

/**
 * Ranks messages for the query and hydrates one page of them: what POST /api/v1/query and the MCP
 * tool memory_search answer. `vectorsReady` false leaves the semantic side out (it has not caught up).
 */
export async function searchMessages(deps: AppDeps, body: SearchBody, vectorsReady: boolean | Promise<boolean> = true) {
  // Each side ranks deeper than the page so that fusion has room to reorder.
  const depth = Math.max(body.offset + body.limit, 50);
  const ranking = await rankMessages(deps, { query: body.query, filter: queryFilterOf(body.filters), depth, mode: body.mode, vectorsReady });
  if (ranking.isErr()) return err(ranking.error);
  const { ranked, degraded } = ranking.value;
  const page = ranked.slice(body.offset, body.offset + body.limit);
  const rows = await readQuery<HydratedRow>(
    deps.pools.read,
    `select m.id::text as id, m.conversation_id::text as conversation_id, m.role, m.name, m.content, m.metadata, m.timestamp, c.label, c.folder
       from messages m join conversations c on c.id = m.conversation_id
      where m.id = any($1::uuid[]) and c.status <> 'deleted'`,
    [page.map((h) => h.id)],
  );
  if (rows.isErr()) return err(rows.error);
  const byId = new Map(rows.value.map((r) => [r.id, r]));
  const results = page.flatMap((hit) => {
    const r = byId.get(hit.id);
    if (!r) return [];
    return [
      {
        conversation_id: r.conversation_id,
        message_id: r.id,
        score: Number(hit.score),
        content: r.content,
        metadata: r.metadata,
        label: r.label,
        folder: r.folder,
        timestamp: new Date(r.timestamp).toISOString(),
        role: r.role,
        ...nameField(r.name),
      },
    ];
  });
  return ok({
    results,
    total: ranked.length,
    page: Math.floor(body.offset / body.limit) + 1,
    page_size: body.limit,
    mode: body.mode,
    degraded,
  });
}

/** With min_position, the vectors must have passed it too (waiting up to `wait_ms`), or the semantic side sits this one out. */
export function vectorsReadyFor(deps: AppDeps, c: Context, mode: SearchBody['mode']): boolean | Promise<boolean> {
  const position = requestedPosition(c);
  const waitMs = waitFor(c, deps);
  return mode !== 'fts' && deps.vectors && position.isOk() && position.value && waitMs.isOk()
    ? waitForPosition(deps, [VECTORS], position.value, waitMs.value).then((w) => w.isOk())
    : true;
}

export const searchMessagesRoute = (deps: AppDeps) => (app: App) => {
  register(app, route(deps), async (c) => {
    const body = c.req.valid('json');
    const answer = await searchMessages(deps, body, vectorsReadyFor(deps, c, body.mode));
    return answer.match((a) => c.json(a), (e) => errorResponse(c, e));
  }, 'read');
};
