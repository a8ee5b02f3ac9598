import { createRoute, z } from '@hono/zod-openapi';
import type { ConversationCommand } from '../domain/conversation/index.js';
import type { AppDeps } from '../deps.js';
import { conversationWriteErrors, errorResponses, register, type App } from '../http/openapi.js';
import { executeCommand } from './execute.js';
import { answerCommand, conversationView } from './http.js';
import { conversationIdParams, conversationWriteSchema } from '../http/schemas.js';

type CommandOf<B> = (body: B, at: string) => ConversationCommand;

/**
 * A PUT route that changes one conversation and answers with it (label, folder, pin, archive,
 * importance share this shape).
 */
export function changeRoute<S extends z.ZodType>(options: {
  path: string;
  summary: string;
  body?: S;
  toCommand: CommandOf<z.infer<S>>;
}) {
  return (deps: AppDeps) => (app: App) => {
    const route = createRoute({
      method: 'put',
      path: options.path,
      tags: ['conversations'],
      summary: options.summary,
      request: {
        params: conversationIdParams,
        ...(options.body ? { body: { required: true, content: { 'application/json': { schema: options.body } } } } : {}),
      },
      responses: {
        200: { description: 'The conversation after the change', content: { 'application/json': { schema: conversationWriteSchema } } },
        ...errorResponses,
        ...conversationWriteErrors,
      },
    });
    register(app, route, (c) => {
      // Generic over the body schema S, which zod-openapi's input types cannot resolve: the one cast.
      const { id } = c.req.valid('param' as never) as { id: string };
      const body = (options.body ? c.req.valid('json' as never) : undefined) as z.infer<S>;
      return answerCommand(
        c,
        body,
        (context, ifMatch) => executeCommand(deps.store, id, options.toCommand(body, deps.clock().toISOString()), context, ifMatch),
        (outcome) => ({ body: conversationView(outcome) }),
      );
    });
  };
}
