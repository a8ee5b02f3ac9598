import { createRoute, z } from '@hono/zod-openapi';
import type { Metrics } from '../metrics/index.js';
import { projectionReports } from '../projections/report.js';
import type { AppDeps } from '../deps.js';
import { register, type App } from '../http/openapi.js';

const metricsRoute = createRoute({
  method: 'get',
  path: '/metrics',
  tags: ['operations'],
  summary: 'Prometheus metrics (JSON envelope when the request asks for JSON)',
  responses: {
    200: {
      description: 'Prometheus text exposition, or `{metrics, ...summary}` for Accept/Content-Type application/json',
      content: {
        'text/plain': { schema: z.string() },
        'application/json': {
          schema: z.object({
            metrics: z.string(),
            uptime_seconds: z.number(),
            requests_total: z.number(),
            requests_in_flight: z.number(),
            projection_lag_events: z.record(z.string(), z.number()),
            db_pools: z.record(z.string(), z.record(z.string(), z.number())),
          }),
        },
      },
    },
  },
});

const wantsJson = (accept: string | undefined, contentType: string | undefined): boolean =>
  /application\/json/i.test(accept ?? '') || /application\/json/i.test(contentType ?? '');

/** Refreshes the projection lag gauges from the checkpoints; bounded so a slow database cannot stall a scrape. */
async function refreshProjectionLag(deps: AppDeps, metrics: Metrics): Promise<void> {
  const reports = projectionReports(deps.pools.write, deps.projections?.status() ?? [], deps.config.projections.lease);
  const timeout = new Promise<undefined>((r) => setTimeout(() => r(undefined), 1000).unref());
  const result = await Promise.race([reports.catch(() => undefined), timeout]);
  for (const r of result ?? []) {
    if (r.state === 'retired') continue;
    metrics.projectionLag.set({ projector: `${r.name}@${r.version}`, unit: 'events' }, r.lag_events);
    metrics.projectionLag.set({ projector: `${r.name}@${r.version}`, unit: 'seconds' }, r.lag_seconds);
  }
}

const sum = (values: { value: number }[]) => values.reduce((a, v) => a + v.value, 0);

/** GET /metrics: the app's registry in Prometheus text, or the JSON envelope the Sekha SDKs read. */
export const metricsRoutes = (deps: AppDeps, metrics: Metrics) => (app: App): void => {
  register(app, metricsRoute, async (c) => {
    await refreshProjectionLag(deps, metrics);
    const text = await metrics.registry.metrics();
    if (!wantsJson(c.req.header('accept'), c.req.header('content-type'))) {
      return c.body(text, 200, { 'Content-Type': metrics.registry.contentType });
    }
    const lag = (await metrics.projectionLag.get()).values.filter((v) => v.labels.unit === 'events');
    const pools: Record<string, Record<string, number>> = {};
    for (const v of (await metrics.registry.getSingleMetric('sekha_db_pool_connections')?.get())?.values ?? []) {
      (pools[String(v.labels.pool)] ??= {})[String(v.labels.state)] = v.value;
    }
    return c.json({
      metrics: text,
      uptime_seconds: Math.round((Date.now() - deps.startedAt.getTime()) / 1000),
      requests_total: sum((await metrics.httpRequests.get()).values),
      requests_in_flight: sum((await metrics.inFlight.get()).values),
      projection_lag_events: Object.fromEntries(lag.map((v) => [String(v.labels.projector), v.value])),
      db_pools: pools,
    });
  }, 'public');
};
