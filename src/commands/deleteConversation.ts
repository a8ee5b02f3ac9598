import { createRoute, z } from '@hono/zod-openapi';
import type { AppDeps } from '../http/deps.js';
import { errorResponses, register, type App } from '../http/openapi.js';
import { formatPosition } from '../eventstore/index.js';
import { executeCommand } from './execute.js';
import { answerCommand } from './http.js';
import { conversationIdParams } from './schemas.js';

export const deleteConversationRoute = (deps: AppDeps) => (app: App) => {
  const route = createRoute({
    method: 'delete',
    path: '/api/v1/conversations/{id}',
    tags: ['conversations'],
    summary: 'Delete a conversation (it answers 410 afterwards)',
    request: { params: conversationIdParams },
    responses: {
      200: {
        description: 'Deleted',
        content: { 'application/json': { schema: z.object({ id: z.string(), deleted: z.literal(true), position: z.string() }) } },
      },
      ...errorResponses,
      404: { description: 'Unknown conversation' },
      410: { description: 'Already deleted' },
    },
  });
  register(app, route, (c) => {
    const { id } = c.req.valid('param') as { id: string };
    return answerCommand(
      c,
      undefined,
      (context, ifMatch) => executeCommand(deps.store, id, { type: 'Delete', at: deps.clock().toISOString(), data: {} }, context, ifMatch),
      (outcome) => ({ body: { id, deleted: true, position: formatPosition(outcome.position) } }),
    );
  });
};
