import { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import type { Redis } from 'ioredis';
import { createMetrics, type Metrics } from '../metrics/index.js';
import type { AppExtras } from './createApp.js';
import type { AppDeps } from '../deps.js';
import { docsRoutes } from '../http/docs.js';
import { apiError, errorResponse } from '../http/errors.js';
import { healthRoutes } from '../operations/health.js';
import { metricsRoutes } from '../operations/metricsRoute.js';
import { auth } from '../http/middleware/auth.js';
import { hostGuard } from '../http/middleware/hostGuard.js';
import { compress } from '../http/middleware/compress.js';
import { recordEarlyAnswers, recordMetrics } from '../http/middleware/metrics.js';
import { rateLimit } from '../http/middleware/rateLimit.js';
import { requestContext } from '../http/middleware/requestId.js';
import type { App } from '../http/openapi.js';
import { readyRoutes } from '../operations/ready.js';
import { redisLastWrites } from '../queries/lastWrites.js';

export interface PlatformOptions {
  /** Shared rate-limit store (REDIS_URL); in-process buckets without it. */
  redis?: Redis;
  /** Prefix of rate-limit keys in Redis (tests use a unique one). */
  rateLimitPrefix?: string;
  /** Prefix of the read-your-writes keys in Redis (tests use a unique one). */
  lastWritesPrefix?: string;
}

/**
 * The platform around the routes, in order: early-answer metrics → Host/Origin guard → CORS → auth → rate limit → metrics → compression
 * (request context comes before, body limit after, in createApp); plus /ready, /metrics, /openapi.json, /docs.
 * Uses `deps.metrics`, creating it when absent.
 */
export function platformExtras(deps: AppDeps, options: PlatformOptions = {}): Required<Pick<AppExtras, 'middleware' | 'routes'>> {
  const api = deps.config.api;
  const metrics: Metrics = (deps.metrics ??= createMetrics());
  // Each actor's last write, shared by every instance through Redis like the rate limits.
  if (options.redis && !deps.lastWrites) {
    deps.lastWrites = redisLastWrites(options.redis, {
      ttlMs: api.read_your_writes_ttl_ms,
      ...(options.lastWritesPrefix ? { keyPrefix: options.lastWritesPrefix } : {}),
      onError: (e) => deps.logger.warn({ component: 'redis', err: { message: e.message } }, 'read-your-writes store unavailable; this instance remembers alone'),
    });
  }
  metrics.watchPool('write', deps.pools.write);
  if (deps.pools.separateRead) metrics.watchPool('read', deps.pools.read);
  metrics.watchAppendBatches(deps.store.appendBatches);
  const middleware: MiddlewareHandler[] = [
    recordEarlyAnswers(metrics),
    // Before CORS, so that a rebinding page's preflight is refused too.
    hostGuard({ loopbackOnly: api.keys.length === 0, allowedHosts: deps.config.server.allowed_hosts, corsOrigins: api.cors_origins }),
  ];
  if (api.cors_origins.length > 0) {
    middleware.push(
      cors({
        origin: api.cors_origins.includes('*') ? '*' : api.cors_origins,
        allowHeaders: ['Authorization', 'X-API-Key', 'Content-Type', 'Idempotency-Key', 'If-Match', 'X-Request-Id', 'X-Sekha-Position', 'X-Sekha-Consistency'],
        exposeHeaders: ['X-Request-Id', 'X-Sekha-Position', 'ETag', 'Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'],
        maxAge: 600,
      }),
    );
  }
  middleware.push(auth({ keys: api.keys }));
  middleware.push(
    rateLimit({
      requests: api.rate_limit_requests,
      burst: api.rate_limit_burst,
      routes: api.rate_limit_routes,
      trustedProxies: deps.config.server.trusted_proxies,
      ...(options.redis ? { redis: options.redis } : {}),
      ...(options.rateLimitPrefix ? { keyPrefix: options.rateLimitPrefix } : {}),
    }),
  );
  middleware.push(recordMetrics(metrics));
  if (api.compress_responses) middleware.push(compress({ minBytes: api.compress_min_bytes }));
  return { middleware, routes: [readyRoutes(deps), metricsRoutes(deps, metrics), docsRoutes(deps.version)] };
}

/**
 * The app of a `--role projector` process: no API, only what orchestrators probe and scrape
 * (/health, /ready, /metrics), open to anyone who can reach it.
 */
export function createOpsApp(deps: AppDeps): App {
  const app: App = new OpenAPIHono();
  const metrics = (deps.metrics ??= createMetrics());
  metrics.watchPool('write', deps.pools.write);
  metrics.watchAppendBatches(deps.store.appendBatches);
  app.use('*', requestContext({ logger: deps.logger }));
  app.use('*', recordMetrics(metrics));
  healthRoutes(deps)(app);
  readyRoutes(deps)(app);
  metricsRoutes(deps, metrics)(app);
  app.notFound((c) => errorResponse(c, apiError('not_found', `a projector process serves only /health, /ready and /metrics`)));
  return app;
}
