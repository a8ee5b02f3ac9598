import { consistencyParams, readYourWrites } from './readYourWrites.js';
import { createRoute, z } from '@hono/zod-openapi';
import { err, ok, type Result } from 'neverthrow';
import { folderSchema, labelSchema } from '../http/schemas.js';
import type { AppDeps } from '../deps.js';
import { errorResponse, type ApiError } from '../http/errors.js';
import { errorResponses, register, type App } from '../http/openapi.js';
import { readQuery } from './sql.js';
import { LEXICAL_STATS } from '../projections/lexicalStats.js';
import { READ_MODEL } from '../projections/readModel/schema.js';
import { selectContext, type ContextCandidate } from '../memory/contextSelect.js';
import { hybridRanking } from './hybridRanking.js';
import { CANDIDATE_COLUMNS, type CandidateRow } from './rankMessages.js';
import { messageTokens } from '../memory/tokens.js';
import { nameField } from './views.js';

export const assembleBody = (deps: AppDeps) =>
  z.object({
    query: z.string().max(2000, 'must be at most 2000 characters').refine((s) => s.replace(/\u0000/g, '').trim().length > 0, 'must not be empty'),
    context_budget: z.number().int('must be a whole number').min(1, 'must be at least 1').max(1_000_000, 'must be at most 1000000').default(deps.config.context.default_budget),
    preferred_labels: z.array(labelSchema(deps.config.api)).max(50, 'must have at most 50 labels').default([]),
    excluded_folders: z.array(folderSchema(deps.config.api)).max(50, 'must have at most 50 folders').default([]),
  });
export type AssembleInput = z.infer<ReturnType<typeof assembleBody>>;

// How deep each candidate source goes: enough for a large budget, small enough to stay fast.
const SEARCH_DEPTH = 100;
const RECENT_PER_CONVERSATION = 10;
const RECENT_CONVERSATIONS = 20;

/** Candidates: hybrid search hits, the recent messages of pinned conversations and of conversations with a preferred label. */
async function candidates(deps: AppDeps, input: AssembleInput): Promise<Result<ContextCandidate[], ApiError>> {
  // The search and the pinned/preferred messages do not depend on each other: ask both at once.
  const [hybrid, recent] = await Promise.all([
    hybridRanking(deps, input.query, { status: 'active' }, SEARCH_DEPTH),
    readQuery<CandidateRow>(
      deps.pools.read,
      // The newest pinned conversations and the newest of each preferred label, each read from its
      // index (a branch per label, so that each is planned for its own size), then their latest
      // messages. The newest 2N of the union are the newest 2N with pinned ones first.
      `with pick as (
         select * from (
           (select c.id, c.pinned, c.updated_at from conversations c where c.pinned and c.status = 'active' order by c.updated_at desc limit $1)
           ${input.preferred_labels.map((_, i) => `union (select c.id, c.pinned, c.updated_at from conversations c where c.label = $${i + 3} and c.status = 'active' order by c.updated_at desc limit $1)`).join('\n')}
         ) newest order by pinned desc, updated_at desc limit $1)
       select ${CANDIDATE_COLUMNS} from pick
         join conversations c on c.id = pick.id
         cross join lateral (select * from messages m where m.conversation_id = c.id order by m.seq desc limit $2) m`,
      [RECENT_CONVERSATIONS * 2, RECENT_PER_CONVERSATION, ...input.preferred_labels],
    ),
  ]);
  if (hybrid.isErr()) return err(hybrid.error);
  if (recent.isErr()) return err(recent.error);
  const { ranked, cosine, rows } = hybrid.value;
  const top = ranked[0]?.score ?? 1;
  // Similarity in [0, 1]: the cosine when the semantic side saw it, else the fused score relative to the best.
  const similarity = new Map(ranked.map((h) => [h.id, cosine.get(h.id) ?? (top > 0 ? h.score / top : 0)]));
  // The ranking's lookup read the candidates' rows already; only those it did not are read here.
  const missing = ranked.filter((h) => !rows.has(h.id)).map((h) => h.id);
  const read = missing.length
    ? await readQuery<CandidateRow>(deps.pools.read, `select ${CANDIDATE_COLUMNS} from messages m join conversations c on c.id = m.conversation_id where m.id = any($1::uuid[])`, [missing])
    : ok([] as CandidateRow[]);
  if (read.isErr()) return err(read.error);
  const byId = new Map([...rows, ...read.value.map((r) => [r.id, r] as const)]);
  const hits = ranked.flatMap((h) => {
    const r = byId.get(h.id);
    return r && r.status === 'active' ? [r] : [];
  });
  // A message both found and recent comes twice; the selection keeps the copy with the higher similarity.
  return ok(
    [...hits, ...recent.value].map((r) => ({
      message_id: r.id,
      conversation_id: r.conversation_id,
      seq: r.seq,
      role: r.role,
      name: r.name,
      content: r.content,
      metadata: r.metadata,
      timestamp: new Date(r.timestamp).toISOString(),
      label: r.label,
      folder: r.folder,
      status: r.status,
      importance_score: r.importance_score,
      similarity: similarity.get(r.id) ?? 0,
      tokens: messageTokens(r.content),
    })),
  );
}

/** Assembles a context window for a query under a token budget, each message citing where it came from. */
export async function assembleContext(deps: AppDeps, input: AssembleInput) {
  const found = await candidates(deps, input);
  if (found.isErr()) return err(found.error);
  const w = deps.config.context;
  const selection = selectContext(found.value, {
    budget: input.context_budget,
    preferredLabels: input.preferred_labels,
    excludedFolders: input.excluded_folders,
    now: deps.clock(),
    weights: { similarity: w.weight_similarity, importance: w.weight_importance, recency: w.weight_recency, label: w.weight_label, half_life_days: w.recency_half_life_days },
  });
  return ok({
    messages: selection.messages.map((m) => ({
      role: m.role,
      ...nameField(m.name),
      content: m.content,
      metadata: {
        ...m.metadata,
        message_id: m.message_id,
        score: Number(m.score.toFixed(4)),
        tokens: m.tokens,
        citation: { conversation_id: m.conversation_id, label: m.label, folder: m.folder, timestamp: m.timestamp },
      },
    })),
    estimated_tokens: selection.tokens,
    conversations_used: selection.conversations,
  });
}

export const assembleContextRoute = (deps: AppDeps) => (app: App) => {
  register(
    app,
    createRoute({
      method: 'post',
      path: '/api/v1/context/assemble',
      tags: ['memory'],
      summary: 'The best past messages for a query that fit a token budget, with citations',
      description:
        'Candidates: hybrid search, pinned conversations, recent messages of preferred labels. Score: weighted similarity, importance, ' +
        'recency (half-life `context.recency_half_life_days`) and label preference (`[context]` weights). Archived conversations and ' +
        'excluded folders (and their subfolders) never appear. Tokens counted with gpt-tokenizer; the budget is never exceeded.',
      middleware: [readYourWrites(deps, [READ_MODEL, LEXICAL_STATS])] as const,
      request: {
        query: z.object(consistencyParams(deps)), body: { required: true, content: { 'application/json': { schema: assembleBody(deps) } } } },
      responses: { 200: { description: '`{messages[], estimated_tokens, conversations_used}`' }, ...errorResponses },
    }),
    async (c) => (await assembleContext(deps, c.req.valid('json'))).match((body) => c.json(body), (e) => errorResponse(c, e)),
    'read',
  );
};
