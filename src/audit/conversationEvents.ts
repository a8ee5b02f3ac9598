import { createRoute, z } from '@hono/zod-openapi';
import { conversationStream } from '../domain/conversation/index.js';
import { readStream } from '../eventstore/read.js';
import { conversationIdParams } from '../http/schemas.js';
import type { AppDeps } from '../deps.js';
import { apiError, errorResponse, unavailable } from '../http/errors.js';
import { errorResponses, register, type App } from '../http/openapi.js';
import { eventViewSchema, toEventView } from './eventView.js';

const query = z.object({
  after_version: z.coerce.number().int().min(0).max(2_147_483_647).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** GET /api/v1/conversations/{id}/events: one conversation's stream, paged by version. */
export const conversationEventsRoute = (deps: AppDeps) => (app: App) => {
  const route = createRoute({
    method: 'get',
    path: '/api/v1/conversations/{id}/events',
    tags: ['audit'],
    summary: "A conversation's events with who caused each, paged by version",
    request: { params: conversationIdParams, query },
    responses: {
      200: {
        description: 'The events',
        content: {
          'application/json': {
            schema: z.object({ conversation_id: z.string(), events: z.array(eventViewSchema), next_after_version: z.number().nullable() }),
          },
        },
      },
      ...errorResponses,
      404: { description: 'No such conversation' },
    },
  });
  register(app, route, async (c) => {
    const { id } = c.req.valid('param');
    const { after_version, limit } = c.req.valid('query');
    const read = await readStream(deps.pools.read, conversationStream(id), { afterVersion: after_version, limit: limit + 1 });
    if (read.isErr()) return errorResponse(c, unavailable('the event store'));
    const events = read.value;
    if (events.length === 0 && after_version === 0) return errorResponse(c, apiError('not_found', 'conversation not found'));
    const page = events.slice(0, limit);
    return c.json({
      conversation_id: id,
      events: page.map(toEventView),
      next_after_version: events.length > limit ? page.at(-1)!.streamVersion : null,
    });
  });
};
