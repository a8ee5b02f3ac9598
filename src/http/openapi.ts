import type { OpenAPIHono, RouteConfig } from '@hono/zod-openapi';
import type { Context } from 'hono';

/** The app type every route module registers on. */
export type App = OpenAPIHono;

/**
 * Registers a documented, validated route. Handlers answer with plain Responses (success or the
 * uniform error), so the response typing of zod-openapi is relaxed here, in one place.
 */
export function register<R extends RouteConfig>(
  app: App,
  route: R,
  handler: (c: Context & { req: { valid: (target: 'json' | 'query' | 'param' | 'header') => any } }) => Promise<Response> | Response,
): void {
  app.openapi(route, handler as never);
}

/** Standard error responses for the OpenAPI document. */
export const errorResponses = {
  400: { description: 'Invalid input: `{error, code, details: {field, reason}}`' },
  401: { description: 'Missing or unknown API key' },
  403: { description: 'The key lacks the scope this route needs' },
  429: { description: 'Rate limited; see Retry-After' },
  503: { description: 'A dependency is down; see Retry-After' },
} as const;

/** The error responses of a write to an existing conversation, besides the standard ones. */
export const conversationWriteErrors = {
  404: { description: 'Unknown conversation' },
  409: { description: 'If-Match version conflict' },
  410: { description: 'Conversation deleted' },
} as const;
