import { OpenAPIHono } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import '../http/context.js';
import type { AppDeps } from '../deps.js';
import { apiError, errorResponse, validationError } from '../http/errors.js';
import { healthRoutes, type HealthCheck } from '../operations/health.js';
import { limitBody, requireJsonBody } from '../http/middleware/jsonBody.js';
import { requestContext } from '../http/middleware/requestId.js';
import type { App } from '../http/openapi.js';
import { rememberWrites } from '../queries/readYourWrites.js';
import { acceptsNonJson, apiRoutes } from './routes.js';

/** Registers routes on the app (deps already bound). */
export type RouteModule = (app: App) => void;

export interface AppExtras {
  /** Middleware run after request context and before routes (auth, rate limits, metrics…). */
  middleware?: Parameters<App['use']>[1][];
  /** More route modules (queries, projections, operations…). */
  routes?: RouteModule[];
  healthChecks?: Record<string, HealthCheck>;
}

/** Builds the HTTP app from its dependencies: middleware, every route, and the one error mapper. */
export function createApp(deps: AppDeps, extras: AppExtras = {}): App {
  const app: App = new OpenAPIHono({
    defaultHook: (result, c) => {
      if (!result.success) return errorResponse(c, validationError(result.error, result.target));
      return undefined;
    },
  });
  app.use('*', requestContext({ logger: deps.logger }));
  for (const m of extras.middleware ?? []) app.use('*', m);
  // After auth (which names the actor): each acknowledged write is remembered for the actor's next reads.
  app.use('*', rememberWrites(deps));
  app.use('*', limitBody(deps.config.api.max_body_bytes));
  app.use('*', requireJsonBody({ except: acceptsNonJson }));

  healthRoutes(deps, extras.healthChecks)(app);
  for (const routes of apiRoutes) routes(deps)(app);
  for (const routes of extras.routes ?? []) routes(app);

  app.notFound((c) => errorResponse(c, apiError('not_found', `no route for ${c.req.method} ${c.req.path}`)));
  app.onError((error, c) => {
    if (error instanceof HTTPException) {
      const status = error.status;
      // Thrown by hono's validators: malformed JSON (400) and a body that is not JSON (415).
      const code = status === 400 ? 'invalid_json' : status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : 'http_error';
      const message = status === 415 ? `expected Content-Type application/json, got ${c.req.header('content-type') ?? 'none'}` : error.message || 'bad request';
      return errorResponse(c, apiError(code, message));
    }
    c.get('log')?.error({ err: { message: error.message, stack: error.stack } }, 'unhandled error');
    return errorResponse(c, apiError('internal', 'internal error; the request id identifies it in the logs'));
  });
  return app;
}
