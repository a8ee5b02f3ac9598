import { createRoute, z } from '@hono/zod-openapi';
import type { AppDeps } from '../deps.js';
import { conversationWriteErrors, errorResponses, register, type App } from '../http/openapi.js';
import { formatPosition } from '../eventstore/index.js';
import { executeCommand } from './execute.js';
import { answerCommand } from './http.js';
import { toNewMessages } from './newMessages.js';
import { conversationIdParams, messagesSchema, type Limits } from '../http/schemas.js';

export const appendMessagesBody = (limits: Limits) => z.object({ messages: messagesSchema(limits, 1) });

export const appendMessagesRoute = (deps: AppDeps) => (app: App) => {
  const route = createRoute({
    method: 'post',
    path: '/api/v1/conversations/{id}/messages',
    tags: ['conversations'],
    summary: 'Append messages to a conversation',
    request: {
      params: conversationIdParams,
      body: { required: true, content: { 'application/json': { schema: appendMessagesBody(deps.config.api) } } },
    },
    responses: {
      201: {
        description: 'Appended',
        content: {
          'application/json': {
            schema: z.object({ conversation_id: z.string(), message_ids: z.array(z.string()), message_count: z.number(), position: z.string() }),
          },
        },
      },
      ...errorResponses,
      ...conversationWriteErrors,
    },
  });
  register(app, route, (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    return answerCommand(
      c,
      body,
      (context, ifMatch) => {
        const at = deps.clock().toISOString();
        return executeCommand(deps.store, id, { type: 'AppendMessages', at, data: { messages: toNewMessages(body.messages, at) } }, context, ifMatch);
      },
      (outcome) => {
        const appended = outcome.events.flatMap((e) => (e.type === 'MessagesAppended' ? e.data.messages : []));
        const state = outcome.state as { message_count: number };
        return {
          status: 201,
          body: {
            conversation_id: id,
            message_ids: appended.map((m) => m.id),
            message_count: state.message_count,
            position: formatPosition(outcome.position),
          },
        };
      },
    );
  });
};
