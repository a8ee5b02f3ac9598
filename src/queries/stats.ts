import { createRoute, z } from '@hono/zod-openapi';
import { folderSchema, labelSchema } from '../http/schemas.js';
import type { AppDeps } from '../deps.js';
import { errorResponse } from '../http/errors.js';
import { errorResponses, register, type App } from '../http/openapi.js';
import { conversationConditions } from './conversationFilters.js';
import { consistencyParams, readYourWrites } from './readYourWrites.js';
import { readQuery } from './sql.js';

export const statsQuery = (deps: AppDeps) => z.object({ folder: folderSchema(deps.config.api).optional(), label: labelSchema(deps.config.api).optional() });
export type StatsQuery = z.infer<ReturnType<typeof statsQuery>>;

interface StatsRow {
  total_conversations: number;
  total_messages: number;
  average_importance: number | null;
  folders: string[] | null;
  labels: string[] | null;
}

/** Counts over live (not deleted) conversations, optionally under a folder (and its subfolders) and/or with a label. */
export async function memoryStats(deps: AppDeps, q: StatsQuery) {
  const where = conversationConditions({ ...(q.label !== undefined ? { label: q.label } : {}), ...(q.folder !== undefined ? { folder_prefix: q.folder } : {}) });
  const rows = await readQuery<StatsRow>(
    deps.pools.read,
    `with c as (select c.* from conversations c ${where.where})
     select count(*)::int as total_conversations, coalesce(sum(message_count), 0)::int as total_messages,
            round(avg(importance_score)::numeric, 2)::float8 as average_importance,
            (select array_agg(folder order by n desc, folder) from (select folder, count(*) n from c group by folder) f) as folders,
            (select array_agg(label order by n desc, label) from (select label, count(*) n from c group by label) l) as labels
       from c`,
    where.values,
  );
  return rows.map(([r]) => ({
    total_conversations: r!.total_conversations,
    total_messages: r!.total_messages,
    average_importance: r!.average_importance ?? 0,
    folders: r!.folders ?? [],
    labels: r!.labels ?? [],
    ...(q.folder !== undefined ? { folder: q.folder } : {}),
    ...(q.label !== undefined ? { label: q.label } : {}),
  }));
}

export const statsRoute = (deps: AppDeps) => (app: App) => {
  register(
    app,
    createRoute({
      method: 'get',
      path: '/api/v1/stats',
      tags: ['memory'],
      summary: 'Totals, average importance, folders and labels (most used first)',
      middleware: [readYourWrites(deps)] as const,
      request: { query: statsQuery(deps).extend(consistencyParams(deps)) },
      responses: { 200: { description: '`{total_conversations, total_messages, average_importance, folders[], labels[]}`' }, ...errorResponses },
    }),
    async (c) => (await memoryStats(deps, c.req.valid('query'))).match((body) => c.json(body), (e) => errorResponse(c, e)),
  );
};
