import { consistencyParams, readYourWrites } from '../queries/readYourWrites.js';
import { createRoute, z } from '@hono/zod-openapi';
import { err, ok, type Result } from 'neverthrow';
import { executeCommand, type CommandContext } from './execute.js';
import { commandContext } from './http.js';
import { importanceSchema } from '../http/schemas.js';
import { formatPosition, type Position } from '../eventstore/index.js';
import type { AppDeps } from '../deps.js';
import { errorResponse, type ApiError, type ServiceError } from '../http/errors.js';
import { errorResponses, register, type App } from '../http/openapi.js';
import { readQuery } from '../queries/sql.js';
import { messageTokens } from '../memory/tokens.js';

export const dryRunBody = z.object({
  threshold_days: z.number({ message: 'must be a number of days' }).int('must be a whole number').min(0, 'must not be negative').max(36_500, 'must be at most 36500'),
  importance_threshold: importanceSchema.default(5),
});
export type DryRunInput = z.infer<typeof dryRunBody>;

export const executeBody = z.object({
  conversation_ids: z.array(z.guid({ message: 'must be a UUID' }).transform((s) => s.toLowerCase())).min(1, 'must have at least one id').max(1000, 'must have at most 1000 ids'),
});

interface Candidate {
  id: string;
  label: string;
  importance_score: number;
  message_count: number;
  last_accessed: Date;
  texts: string[] | null;
  summary: string | null;
}

const PREVIEW_CHARS = 200;
const preview = (c: Candidate) => {
  const text = c.summary ?? (c.texts ?? []).slice(0, 3).join(' / ');
  return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS - 1)}…` : text;
};

/**
 * Active, unpinned conversations untouched for `threshold_days` whose importance is below the threshold,
 * with their token cost (gpt-tokenizer) and a preview (the newest summary, else the first messages).
 */
export async function pruneDryRun(deps: AppDeps, input: DryRunInput) {
  const before = new Date(deps.clock().getTime() - input.threshold_days * 86_400_000);
  const rows = await readQuery<Candidate>(
    deps.pools.read,
    `select c.id::text as id, c.label, c.importance_score, c.message_count, greatest(c.updated_at, coalesce(c.last_message_at, c.updated_at)) as last_accessed,
            (select array_agg(m.content order by m.seq) from messages m where m.conversation_id = c.id) as texts,
            (select s.summary from conversation_summaries s where s.conversation_id = c.id order by s.generated_at desc limit 1) as summary
       from conversations c
      where c.status = 'active' and not c.pinned and c.importance_score < $2
        and greatest(c.updated_at, coalesce(c.last_message_at, c.updated_at)) < $1
      order by c.importance_score, last_accessed limit 1000`,
    [before.toISOString(), input.importance_threshold],
  );
  return rows.map((candidates) => {
    const suggestions = candidates.map((c) => ({
      conversation_id: c.id,
      conversation_label: c.label,
      last_accessed: new Date(c.last_accessed).toISOString(),
      message_count: c.message_count,
      token_estimate: (c.texts ?? []).reduce((n, t) => n + messageTokens(t), 0),
      importance_score: c.importance_score,
      preview: preview(c),
      recommendation: c.importance_score <= 3 ? 'archive' : 'review',
    }));
    return { suggestions, total: suggestions.length, estimated_token_savings: suggestions.reduce((n, s) => n + s.token_estimate, 0) };
  });
}

/** Archives each listed conversation (one command each); unknown and deleted ones are reported, not failed. */
export async function pruneExecute(deps: AppDeps, ids: string[], context: CommandContext): Promise<Result<{ archived: string[]; not_found: string[]; position: string | null }, ServiceError>> {
  const archived: string[] = [];
  const notFound: string[] = [];
  let position: Position | undefined;
  const at = deps.clock().toISOString();
  for (const id of [...new Set(ids)]) {
    // A retried request must not reuse one key for several streams: the key is made per conversation.
    const ctx = context.idempotency ? { ...context, idempotency: { key: `${context.idempotency.key}#${id}`, requestHash: context.idempotency.requestHash } } : context;
    const outcome = await executeCommand(deps.store, id, { type: 'Archive', at, data: {} }, ctx);
    if (outcome.isErr()) {
      if (outcome.error === 'CONVERSATION_NOT_FOUND' || (typeof outcome.error === 'object' && outcome.error.type === 'conversation_deleted')) {
        notFound.push(id);
        continue;
      }
      return err(outcome.error);
    }
    archived.push(id);
    position = outcome.value.position;
  }
  return ok({ archived, not_found: notFound, position: position ? formatPosition(position) : null });
}

export const pruneRoutes = (deps: AppDeps) => (app: App) => {
  register(
    app,
    createRoute({
      method: 'post',
      path: '/api/v1/prune/dry-run',
      tags: ['memory'],
      summary: 'Conversations worth archiving: old, unpinned, below an importance threshold; with token estimates',
      middleware: [readYourWrites(deps)] as const,
      request: {
        query: z.object(consistencyParams(deps)), body: { required: true, content: { 'application/json': { schema: dryRunBody } } } },
      responses: { 200: { description: '`{suggestions[], total, estimated_token_savings}`' }, ...errorResponses },
    }),
    async (c) => (await pruneDryRun(deps, c.req.valid('json'))).match((body) => c.json(body), (e: ApiError) => errorResponse(c, e)),
    'read',
  );
  register(
    app,
    createRoute({
      method: 'post',
      path: '/api/v1/prune/execute',
      tags: ['memory'],
      summary: 'Archive the listed conversations; answers which were archived and which were not found',
      request: { body: { required: true, content: { 'application/json': { schema: executeBody } } } },
      responses: { 200: { description: '`{archived[], not_found[], position}`' }, ...errorResponses },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const context = commandContext(c, body);
      if (context.isErr()) return errorResponse(c, context.error);
      const done = await pruneExecute(deps, body.conversation_ids, context.value);
      return done.match(
        (answer) => {
          if (answer.position) c.header('X-Sekha-Position', answer.position);
          return c.json(answer);
        },
        (e) => errorResponse(c, e),
      );
    },
  );
};
