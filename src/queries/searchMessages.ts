import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppDeps } from '../http/deps.js';
import { errorResponse } from '../http/errors.js';
import { errorResponses, register, type App } from '../http/openapi.js';
import { LEXICAL_STATS } from '../projections/lexicalStats.js';
import { READ_MODEL } from '../projections/readModel/schema.js';
import { liveCollection, VECTORS } from '../vectors/collections.js';
import { toWhere, type SearchFilters } from '../vectors/where.js';
import { consistencyParams, readYourWrites, requestedPosition, waitForPosition } from './readYourWrites.js';
import { searchFiltersSchema } from './searchFilters.js';
import { fuseRankings, fusionFor, type Ranking } from './searchFusion.js';
import { bm25Params, bm25Sql } from './searchLexical.js';
import { readQuery } from './sql.js';
import { embedForLive, queryVectors, withTimeout } from './semantic.js';

const bodySchema = (deps: AppDeps) => {
  const limits = deps.config.api;
  return z.object({
    query: z.string().max(2000, 'must be at most 2000 characters').refine((s) => s.replace(/\u0000/g, '').trim().length > 0, 'must not be empty'),
    limit: z.number().int('must be a whole number').min(1, 'must be at least 1').max(limits.max_page_size, `must be at most ${limits.max_page_size}`).default(10),
    offset: z.number().int('must be a whole number').min(0, 'must not be negative').max(1000, 'must be at most 1000').default(0),
    filters: searchFiltersSchema(limits),
    mode: z.enum(['semantic', 'fts', 'hybrid']).default('hybrid'),
  });
};
type Body = z.infer<ReturnType<typeof bodySchema>>;

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
      body: { required: true, content: { 'application/json': { schema: bodySchema(deps) } } },
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

/** The semantic ranking, or undefined when vectors cannot answer now (no Chroma, embedder down, not caught up). */
async function semanticRanking(deps: AppDeps, c: Context, body: Body, depth: number): Promise<Ranking | undefined> {
  if (!deps.vectors) return undefined;
  const position = requestedPosition(c);
  if (position.isOk() && position.value) {
    const waited = await waitForPosition(deps, [VECTORS], position.value, deps.config.api.read_wait_default_ms);
    if (waited.isErr()) return undefined;
  }
  const embedded = await embedForLive(deps, body.query);
  if (!embedded) return undefined;
  try {
    return await withTimeout(queryVectors(deps.vectors.store, embedded.collection, embedded.vector, depth, toWhere(body.filters as SearchFilters)), 10_000);
  } catch (e) {
    c.get('log')?.warn({ err: { message: (e as Error).message } }, 'semantic search unavailable; answering from full-text search');
    return undefined;
  }
}

interface HydratedRow {
  id: string;
  conversation_id: string;
  role: string;
  content: string;
  metadata: Record<string, unknown>;
  timestamp: Date;
  label: string;
  folder: string;
}

export const searchMessagesRoute = (deps: AppDeps) => (app: App) => {
  register(app, route(deps), async (c) => {
    const body = c.req.valid('json') as Body;
    const filters = body.filters as SearchFilters;
    // Each side ranks deeper than the page so that fusion has room to reorder.
    const depth = Math.max(body.offset + body.limit, 50);
    const wantsSemantic = body.mode !== 'fts';
    const [semantic, lexical] = await Promise.all([
      wantsSemantic ? semanticRanking(deps, c, body, depth) : Promise.resolve(undefined),
      body.mode !== 'semantic' || !deps.vectors ? readQuery<{ id: string; score: number }>(deps.pools.read, ...sqlArgs(deps, body.query, filters, depth)) : undefined,
    ]);
    const degraded = wantsSemantic && semantic === undefined;
    let lexicalRanking: Ranking = [];
    if (lexical) {
      if (lexical.isErr()) return errorResponse(c, lexical.error);
      lexicalRanking = lexical.value;
    } else if (degraded) {
      const fallback = await readQuery<{ id: string; score: number }>(deps.pools.read, ...sqlArgs(deps, body.query, filters, depth));
      if (fallback.isErr()) return errorResponse(c, fallback.error);
      lexicalRanking = fallback.value;
    }
    let ranked: Ranking;
    if (degraded || body.mode === 'fts') ranked = lexicalRanking;
    else if (body.mode === 'semantic') ranked = semantic!;
    else {
      const live = deps.vectors ? await liveCollection(deps.pools.read).catch(() => undefined) : undefined;
      ranked = fuseRankings(semantic!, lexicalRanking, fusionFor(live?.model, deps.config.search));
    }
    const page = ranked.slice(body.offset, body.offset + body.limit);
    const rows = await readQuery<HydratedRow>(
      deps.pools.read,
      `select m.id::text as id, m.conversation_id::text as conversation_id, m.role, m.content, m.metadata, m.timestamp, c.label, c.folder
         from messages m join conversations c on c.id = m.conversation_id
        where m.id = any($1::uuid[]) and c.status <> 'deleted'`,
      [page.map((h) => h.id)],
    );
    if (rows.isErr()) return errorResponse(c, rows.error);
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
        },
      ];
    });
    return c.json({
      results,
      total: ranked.length,
      page: Math.floor(body.offset / body.limit) + 1,
      page_size: body.limit,
      mode: body.mode,
      degraded,
    });
  });
};

function sqlArgs(deps: AppDeps, query: string, filters: SearchFilters, depth: number): [string, unknown[]] {
  const { text, values } = bm25Sql(query, filters, depth, bm25Params(deps.config.search));
  return [text, values];
}
