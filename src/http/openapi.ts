import type { OpenAPIHono, RouteConfig } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { apiError, errorResponse } from './errors.js';

// In a `u` regex a surrogate pair is one code point, so this matches only lone surrogates.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * The path of the first string (or key) in a JSON value that is not well-formed Unicode: JSON can
 * escape a lone surrogate (`"\ud800"`), PostgreSQL cannot store one.
 */
export function illFormedField(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? path || 'body' : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, v] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    if (LONE_SURROGATE.test(key)) return at;
    const found = illFormedField(v, at);
    if (found) return found;
  }
  return undefined;
}

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
  const hasJsonBody = route.request?.body?.content?.['application/json'] !== undefined;
  const checked: typeof handler = (c) => {
    const field = hasJsonBody ? illFormedField(c.req.valid('json')) : undefined;
    if (field) {
      return errorResponse(c, apiError(400, 'invalid_input', `${field}: must be well-formed Unicode (no lone surrogates)`, { field, reason: 'lone surrogate' }));
    }
    return handler(c);
  };
  app.openapi(route, checked as never);
}

/** Standard error responses for the OpenAPI document. */
export const errorResponses = {
  400: { description: 'Invalid input: `{error, code, details: {field, reason}}`' },
  401: { description: 'Missing or unknown API key' },
  403: { description: 'The key lacks the scope this route needs' },
  429: { description: 'Rate limited; see Retry-After' },
  503: { description: 'A dependency is down; see Retry-After' },
} as const;

/** The 404 of a route that reads one conversation. */
export const conversationReadErrors = {
  404: { description: 'Unknown conversation (`code: "not_found"`), or deleted (`code: "deleted"`, `details.deleted_at`)' },
} as const;

/** The error responses of a write to an existing conversation, besides the standard ones. */
export const conversationWriteErrors = {
  404: { description: 'Unknown conversation (`code: "not_found"`), or deleted (`code: "deleted"`, `details.deleted_at`)' },
  409: { description: 'If-Match version conflict' },
} as const;
