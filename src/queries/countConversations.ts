import { createRoute, z } from '@hono/zod-openapi';
import type { AppDeps } from '../deps.js';
import { errorResponse } from '../http/errors.js';
import { errorResponses, register, type App } from '../http/openapi.js';
import { conversationConditions, conversationFilterParams, type ConversationFilters } from './conversationFilters.js';
import { consistencyParams, readYourWrites } from './readYourWrites.js';
import { readQuery } from './sql.js';

const route = (deps: AppDeps) =>
  createRoute({
    method: 'get',
    path: '/api/v1/conversations/count',
    tags: ['conversations'],
    summary: 'How many (not deleted) conversations match: by label or folder, or any list filter',
    middleware: [readYourWrites(deps)] as const,
    request: { query: z.object({ ...conversationFilterParams(deps.config.api), ...consistencyParams(deps) }) },
    responses: {
      200: {
        description: 'The count',
        content: { 'application/json': { schema: z.object({ count: z.number(), label: z.string().optional(), folder: z.string().optional() }) } },
      },
      ...errorResponses,
    },
  });

export const countConversationsRoute = (deps: AppDeps) => (app: App) => {
  register(app, route(deps), async (c) => {
    const q = c.req.valid('query');
    const where = conversationConditions(q);
    const counted = await readQuery<{ n: number }>(deps.pools.read, `select count(*)::int as n from conversations c ${where.where}`, where.values);
    if (counted.isErr()) return errorResponse(c, counted.error);
    return c.json({
      count: counted.value[0]!.n,
      ...(q.label !== undefined ? { label: q.label } : {}),
      ...(q.folder !== undefined ? { folder: q.folder } : {}),
    });
  });
};
