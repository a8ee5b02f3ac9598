import type { OpenAPIHono, RouteConfig, RouteHandler, z } from '@hono/zod-openapi';
import { describeRule, ruleOr, withScope, type ScopeRule } from './auth/scopes.js';
import { apiError, errorResponse, type ApiError } from './errors.js';
import { lenientJsonBody } from './lenientBody.js';

// PostgreSQL cannot store NUL in text or jsonb, nor a lone surrogate (JSON can escape one: "\ud800").
// In a `u` regex a surrogate pair is one code point, so \p{Cs} matches only lone surrogates.
const UNSTORABLE = /[\u0000\p{Cs}]/u;

/** The path of the first string (or key) in a value that PostgreSQL cannot store; undefined when all can be. */
export function unstorableField(value: unknown, path = 'body'): string | undefined {
  if (typeof value === 'string') return UNSTORABLE.test(value) ? path : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, v] of Object.entries(value)) {
    const at = path === 'body' ? key : `${path}.${key}`;
    if (UNSTORABLE.test(key)) return at;
    const found = unstorableField(v, at);
    if (found) return found;
  }
  return undefined;
}

/** The context of a route's handler: `c.req.valid(…)` answers what the route's zod schemas output. */
export type RouteContext<R extends RouteConfig> = Parameters<RouteHandler<R>>[0];

/** The 400 for a field PostgreSQL cannot store, before anything is written. */
export const unstorableError = (field: string): ApiError =>
  apiError('invalid_input', `${field}: must not contain NUL (\\u0000) or lone surrogates, which cannot be stored`, { field, reason: 'unstorable character' });

/** The app type every route module registers on. */
export type App = OpenAPIHono;

/**
 * Registers a documented, validated route. Handlers answer with plain Responses (success or the
 * uniform error), so the response typing of zod-openapi is relaxed here, in one place.
 */
export function register<R extends RouteConfig>(
  app: App,
  route: R,
  handler: (c: RouteContext<R>) => Promise<Response> | Response,
  /** The scope the route needs, declared with it (default: read for GET, write otherwise). */
  scope?: ScopeRule,
): void {
  const body = route.request?.body;
  const jsonContent = body?.content?.['application/json'];
  const jsonSchema = jsonContent && 'schema' in jsonContent ? jsonContent.schema : undefined;
  const checked: typeof handler = (c) => {
    // Any route's input: the check needs no more than `unknown` of it.
    const valid = (target: 'json' | 'query' | 'param') => (c.req as unknown as { valid(t: string): unknown }).valid(target);
    const field =
      (jsonSchema ? unstorableField(valid('json')) : undefined) ??
      (route.request?.query ? unstorableField(valid('query'), 'query') : undefined) ??
      (route.request?.params ? unstorableField(valid('param'), 'path') : undefined);
    if (field) return errorResponse(c, unstorableError(field));
    return handler(c);
  };
  // Existing clients send empty bodies with a JSON Content-Type, and null for absent fields.
  const lenient = jsonSchema instanceof Object && 'safeParse' in jsonSchema ? [lenientJsonBody(jsonSchema as z.ZodType, body?.required === true)] : [];
  const middleware = [...(route.middleware === undefined ? [] : Array.isArray(route.middleware) ? route.middleware : [route.middleware]), ...lenient];
  const rule = ruleOr(scope, route.method);
  app.openapi({ ...route, middleware, 'x-required-scope': describeRule(rule) }, withScope(rule, checked) as never);
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
