import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import type { AppDeps } from '../deps.js';
import { errorResponses, register, type App } from '../http/openapi.js';
import { executeCommand, type CommandContext } from './execute.js';
import { answerCommand, conversationView } from './http.js';
import { toNewMessages } from './newMessages.js';
import { conversationWriteSchema, folderSchema, importanceSchema, labelSchema, messagesSchema, metadataSchema, type Limits } from '../http/schemas.js';

/** The body of POST /api/v1/conversations; `importanceScore` (the JS SDK's spelling) is accepted too. */
export const createConversationBody = (limits: Limits) =>
  z.preprocess(
    (body) => {
      if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
      const b = body as Record<string, unknown>;
      return b.importance_score === undefined && b.importanceScore !== undefined ? { ...b, importance_score: b.importanceScore } : b;
    },
    z.object({
      label: labelSchema(limits),
      folder: folderSchema(limits).default('/'),
      messages: messagesSchema(limits, 0).default([]),
      importance_score: importanceSchema.default(5),
      metadata: metadataSchema(limits).default({}),
    }),
  );

export type CreateConversationBody = z.infer<ReturnType<typeof createConversationBody>>;

/** Starts a conversation with a new id: what POST /api/v1/conversations and the MCP tool memory_store do. */
export function createConversation(deps: AppDeps, body: CreateConversationBody, context: CommandContext) {
  const id = randomUUID();
  const at = deps.clock().toISOString();
  const { messages, ...rest } = body;
  return executeCommand(deps.store, id, { type: 'StartConversation', at, data: { conversation_id: id, ...rest, messages: toNewMessages(messages, at) } }, context);
}

export const createConversationRoute = (deps: AppDeps) => (app: App) => {
  const route = createRoute({
    method: 'post',
    path: '/api/v1/conversations',
    tags: ['conversations'],
    summary: 'Start a conversation, optionally with its first messages',
    request: { body: { required: true, content: { 'application/json': { schema: createConversationBody(deps.config.api) } } } },
    responses: {
      201: { description: 'Created', content: { 'application/json': { schema: conversationWriteSchema } } },
      ...errorResponses,
      422: { description: 'Idempotency-Key reused for a different request' },
    },
  });
  register(app, route, (c) => {
    const body = c.req.valid('json');
    return answerCommand(c, body, (context) => createConversation(deps, body, context), (outcome) => ({ body: conversationView(outcome), status: 201 }));
  });
};
