import { createRoute, z } from '@hono/zod-openapi';
import { conversationIdParams } from '../http/schemas.js';
import type { AppDeps } from '../deps.js';
import { conversationDeleted, errorResponse, toApiError } from '../http/errors.js';
import { conversationReadErrors, errorResponses, register, type App } from '../http/openapi.js';
import { consistencyParams, readYourWrites } from './readYourWrites.js';
import { readQuery } from './sql.js';
import { conversationAnswer, conversationSchema } from '../http/schemas.js';
import { CONVERSATION_COLUMNS, MESSAGE_COLUMNS, messageJson, messageViewSchema, type ConversationRow, type MessageRow } from './views.js';

const route = (deps: AppDeps) =>
  createRoute({
    method: 'get',
    path: '/api/v1/conversations/{id}',
    tags: ['conversations'],
    summary: 'One conversation; include=messages adds its messages in order',
    middleware: [readYourWrites(deps)] as const,
    request: {
      params: conversationIdParams,
      query: z.object({
        include: z
          .string()
          .refine((s) => s.split(',').every((part) => ['messages', ''].includes(part.trim())), 'must be messages')
          .optional(),
        ...consistencyParams(deps),
      }),
    },
    responses: {
      200: { description: 'The conversation', content: { 'application/json': { schema: conversationSchema.extend({ messages: z.array(messageViewSchema).optional() }) } } },
      ...errorResponses,
      ...conversationReadErrors,
    },
  });

export const getConversationRoute = (deps: AppDeps) => (app: App) => {
  register(app, route(deps), async (c) => {
    const { id } = c.req.valid('param');
    const { include } = c.req.valid('query');
    const found = await readQuery<ConversationRow>(deps.pools.read, `select ${CONVERSATION_COLUMNS} from conversations c where c.id = $1`, [id]);
    if (found.isErr()) return errorResponse(c, found.error);
    const row = found.value[0];
    if (!row) return errorResponse(c, toApiError('CONVERSATION_NOT_FOUND'));
    if (row.status === 'deleted') return errorResponse(c, conversationDeleted(row.updated_at));
    if (!include?.includes('messages')) return c.json(conversationAnswer(row));
    const messages = await readQuery<MessageRow>(deps.pools.read, `select ${MESSAGE_COLUMNS} from messages m where m.conversation_id = $1 order by m.seq`, [id]);
    if (messages.isErr()) return errorResponse(c, messages.error);
    return c.json({ ...conversationAnswer(row), messages: messages.value.map(messageJson) });
  });
};
