import { createRoute, z } from '@hono/zod-openapi';
import type { AppDeps } from '../deps.js';
import { errorResponses, register, type App } from '../http/openapi.js';
import { formatPosition } from '../eventstore/index.js';
import { executeCommand } from './execute.js';
import { redactEarlierEvents } from './purgeConversation.js';
import { answerCommand } from './http.js';
import { conversationIdParams } from '../http/schemas.js';

/** The values of `purge` that purge: they also raise the route's scope to admin (checked by auth, once). */
const PURGE_VALUES = ['true', '1'] as const;

export const deleteConversationRoute = (deps: AppDeps) => (app: App) => {
  const route = createRoute({
    method: 'delete',
    path: '/api/v1/conversations/{id}',
    tags: ['conversations'],
    summary: 'Delete a conversation (it answers 404 `deleted` afterwards); `purge=true` (admin) also redacts its content in the event log',
    request: {
      params: conversationIdParams,
      query: z.object({
        purge: z
          .enum(['true', 'false', '1', '0'], { message: 'must be true or false' })
          .optional()
          .transform((v) => (PURGE_VALUES as readonly string[]).includes(v ?? '')),
      }),
    },
    responses: {
      200: {
        description: 'Deleted',
        content: { 'application/json': { schema: z.object({ id: z.string(), deleted: z.literal(true), position: z.string() }) } },
      },
      ...errorResponses,
      404: { description: 'Unknown conversation (`code: "not_found"`), or already deleted (`code: "deleted"`; a purge is still allowed)' },
    },
  });
  register(app, route, (c) => {
    const { id } = c.req.valid('param');
    const { purge } = c.req.valid('query');
    const at = deps.clock().toISOString();
    return answerCommand(
      c,
      { purge },
      (context, ifMatch) =>
        purge
          ? executeCommand(deps.store, id, { type: 'Purge', at, data: {} }, context, ifMatch, redactEarlierEvents)
          : executeCommand(deps.store, id, { type: 'Delete', at, data: {} }, context, ifMatch),
      (outcome) => ({ body: { id, deleted: true, ...(purge ? { purged: true } : {}), position: formatPosition(outcome.position) } }),
    );
  }, { needs: 'write', raisedBy: { param: 'purge', values: PURGE_VALUES, needs: 'admin' } });
};
