import { createRoute, z } from '@hono/zod-openapi';
import { conversationStream } from '../domain/conversation/index.js';
import { searchEvents, type EventSearch } from '../eventstore/index.js';
import type { AppDeps } from '../deps.js';
import { errorResponse } from '../http/errors.js';
import { errorResponses, register, type App } from '../http/openapi.js';
import { eventViewSchema, toEventView } from './eventView.js';

/** A comma-separated list of event types (or anything else) in a query parameter. */
export const commaList = z
  .string()
  .max(2000)
  .transform((s) => s.split(',').map((t) => t.trim()).filter(Boolean));

export const auditQuery = z.object({
  type: commaList.optional().openapi({ description: 'event type, or several comma-separated' }),
  actor: z.string().min(1).max(200).optional(),
  stream: z.string().min(1).max(300).optional().openapi({ description: 'a stream id or a conversation id' }),
  from: z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time' }).optional(),
  to: z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time' }).optional(),
  after_position: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
export type AuditQuery = z.infer<typeof auditQuery>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A `stream` filter names a stream id or, for short, a conversation id. */
export const streamIdOf = (stream: string) => (UUID.test(stream) ? conversationStream(stream.toLowerCase()) : stream);

/** The event-log search of an audit query: a bare conversation id names its stream. */
export const auditSearch = (q: AuditQuery): EventSearch => ({
  types: q.type,
  actor: q.actor,
  streamId: q.stream && streamIdOf(q.stream),
  from: q.from,
  to: q.to,
  afterPosition: q.after_position,
  limit: q.limit,
});

/** GET /api/v1/audit/events: events across streams by type, actor, stream and time; keyset-paged by position. */
export const auditEventsRoute = (deps: AppDeps) => (app: App) => {
  const route = createRoute({
    method: 'get',
    path: '/api/v1/audit/events',
    tags: ['audit'],
    summary: 'Events across all conversations, filtered, keyset-paged by position',
    request: { query: auditQuery },
    responses: {
      200: {
        description: 'A page of events',
        content: { 'application/json': { schema: z.object({ events: z.array(eventViewSchema), next_after_position: z.number().nullable() }) } },
      },
      ...errorResponses,
    },
  });
  register(app, route, async (c) => {
    const q = c.req.valid('query');
    // A value Postgres refuses (a NUL byte in actor or type) is the caller's 400, not a 503.
    const read = await searchEvents(deps.pools.read, auditSearch(q));
    if (read.isErr()) return errorResponse(c, read.error);
    return c.json({ events: read.value.events.map(toEventView), next_after_position: read.value.nextAfterPosition });
  }, 'admin');
};
