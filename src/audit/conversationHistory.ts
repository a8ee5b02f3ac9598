import { createRoute, z } from '@hono/zod-openapi';
import { conversationStream, foldConversation, type ConversationEvent, type MessageRecord } from '../domain/conversation/index.js';
import { readStream } from '../eventstore/read.js';
import { comparePositions, formatPosition, parsePosition, type Position, type Recorded } from '../eventstore/index.js';
import { conversationAnswer, conversationIdParams } from '../http/schemas.js';
import type { AppDeps } from '../deps.js';
import { apiError, errorResponse, unavailable } from '../http/errors.js';
import { errorResponses, register, type App } from '../http/openapi.js';

/** `as_of`: a position ("<tx>:<pos>") or an ISO-8601 time. */
export type AsOf = { position: Position } | { time: Date };

export function parseAsOf(text: string): AsOf | undefined {
  const position = parsePosition(text);
  if (position) return { position };
  if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) return undefined;
  const time = new Date(text);
  return Number.isNaN(time.getTime()) ? undefined : { time };
}

/** Events of a stream that had happened at `asOf`; pure. */
export const eventsAsOf = <E extends Recorded<ConversationEvent>>(events: E[], asOf: AsOf): E[] =>
  events.filter((e) => ('position' in asOf ? comparePositions(e.position, asOf.position) <= 0 : e.createdAt.getTime() <= asOf.time.getTime()));

const query = z.object({
  as_of: z.string().min(1).max(64).refine((s) => parseAsOf(s) !== undefined, 'must be a position "<tx>:<pos>" or an ISO-8601 time'),
  include: z.enum(['messages']).optional(),
});

/** GET /api/v1/conversations/{id}/history?as_of=: the conversation as it was then, folded with the domain's evolve. */
export const conversationHistoryRoute = (deps: AppDeps) => (app: App) => {
  const route = createRoute({
    method: 'get',
    path: '/api/v1/conversations/{id}/history',
    tags: ['audit'],
    summary: 'The conversation as it was at a position or time',
    request: { params: conversationIdParams, query },
    responses: {
      200: { description: 'The conversation then' },
      ...errorResponses,
      404: { description: 'No such conversation, or it did not exist yet at that point' },
    },
  });
  register(app, route, async (c) => {
    const { id } = c.req.valid('param');
    const q = c.req.valid('query');
    const read = await readStream(deps.pools.read, conversationStream(id));
    if (read.isErr()) return errorResponse(c, unavailable('the event store'));
    const then = eventsAsOf(read.value as Recorded<ConversationEvent>[], parseAsOf(q.as_of)!);
    const state = foldConversation(then);
    if (state.status === 'empty') return errorResponse(c, apiError('not_found', 'the conversation did not exist at that point'));
    const last = then.at(-1)!;
    const messages: MessageRecord[] = q.include
      ? then.flatMap((e) => (e.type === 'MessagesAppended' ? e.data.messages : []))
      : [];
    return c.json({
      ...conversationAnswer({ ...state, version: last.streamVersion }),
      position: formatPosition(last.position),
      as_of: q.as_of,
      ...(q.include ? { messages } : {}),
    });
  });
};
