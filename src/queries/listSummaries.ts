import { createRoute, z } from '@hono/zod-openapi';
import { SUMMARY_LEVELS, type SummaryLevel } from '../domain/conversation/index.js';
import type { AppDeps } from '../deps.js';
import { conversationDeleted, errorResponse, toApiError } from '../http/errors.js';
import { conversationReadErrors, errorResponses, register, type App } from '../http/openapi.js';
import { conversationIdParams } from '../http/schemas.js';
import { SUMMARIES } from '../projections/summaries.js';
import { consistencyParams, readYourWrites } from './readYourWrites.js';
import { readQuery } from './sql.js';

export interface SummaryRow {
  summary_id: string;
  level: SummaryLevel;
  summary: string;
  model: string;
  period_start: Date;
  period_end: Date;
  source_count: number;
  generated_at: Date;
}

export const listSummariesRoute = (deps: AppDeps) => (app: App) => {
  register(
    app,
    createRoute({
      method: 'get',
      path: '/api/v1/conversations/{id}/summaries',
      tags: ['memory'],
      summary: "A conversation's summaries, newest period first",
      middleware: [readYourWrites(deps, [SUMMARIES])] as const,
      request: { params: conversationIdParams, query: z.object({ level: z.enum(SUMMARY_LEVELS, { message: 'must be daily, weekly or monthly' }).optional(), ...consistencyParams(deps) }) },
      responses: { 200: { description: '`{conversation_id, summaries[]}`' }, ...errorResponses, ...conversationReadErrors },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { level } = c.req.valid('query');
      const found = await readQuery<{ status: string; updated_at: Date }>(deps.pools.read, 'select status, updated_at from conversations where id = $1', [id]);
      if (found.isErr()) return errorResponse(c, found.error);
      if (!found.value[0]) return errorResponse(c, toApiError('CONVERSATION_NOT_FOUND'));
      if (found.value[0].status === 'deleted') return errorResponse(c, conversationDeleted(found.value[0].updated_at));
      const rows = await readQuery<SummaryRow>(
        deps.pools.read,
        `select summary_id::text as summary_id, level, summary, model, period_start, period_end, source_count, generated_at
           from conversation_summaries where conversation_id = $1 and ($2::text is null or level = $2) order by period_start desc, generated_at desc`,
        [id, level ?? null],
      );
      if (rows.isErr()) return errorResponse(c, rows.error);
      const iso = (d: Date) => new Date(d).toISOString();
      return c.json({
        conversation_id: id,
        summaries: rows.value.map((r) => ({ ...r, period_start: iso(r.period_start), period_end: iso(r.period_end), generated_at: iso(r.generated_at) })),
      });
    },
  );
};
