import { createRoute, z } from '@hono/zod-openapi';
import { vectorChecks } from '../vectors/health.js';
import type { AppDeps, Check } from '../deps.js';
import { register, type App } from '../http/openapi.js';

/** Extra health checks other modules contribute (chroma, embedder); each must be cheap. */
export type HealthCheck = Check;

const healthRoute = createRoute({
  method: 'get',
  path: '/health',
  tags: ['operations'],
  summary: 'Liveness: version, uptime and cheap dependency checks',
  responses: {
    200: {
      description: 'Healthy',
      content: {
        'application/json': {
          schema: z.object({
            status: z.string(),
            version: z.string(),
            uptime_seconds: z.number(),
            checks: z.record(z.string(), z.string()),
          }),
        },
      },
    },
    503: { description: 'The database does not answer' },
  },
});

/** GET /health: answers fast; the database check is one `select 1` with a short deadline. */
export const healthRoutes =
  (deps: AppDeps, extraChecks: Record<string, HealthCheck> = {}) =>
  (app: App): void => {
    register(app, healthRoute, async (c) => {
      const database = await Promise.race([
        deps.pools.write.query('select 1').then(
          () => 'ok',
          () => 'down',
        ),
        new Promise<string>((r) => setTimeout(() => r('timeout'), 1000).unref()),
      ]);
      const checks: Record<string, string> = { database, chroma: 'not_configured', embedder: 'not_configured' };
      const all = { ...(deps.vectors ? vectorChecks(deps.vectors) : {}), ...extraChecks };
      for (const [name, check] of Object.entries(all)) checks[name] = await check();
      const healthy = database === 'ok';
      return c.json(
        {
          status: healthy ? 'healthy' : 'unhealthy',
          version: deps.version,
          uptime_seconds: Math.round((Date.now() - deps.startedAt.getTime()) / 1000),
          checks,
        },
        healthy ? 200 : 503,
      );
    }, 'public');
  };
