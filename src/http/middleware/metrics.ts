import type { MiddlewareHandler } from 'hono';
import type { Metrics } from '../../metrics/index.js';
import { routeTemplate } from '../route.js';

/** Times every request into the duration histogram, labelled by route template (`unmatched` for 404s). */
export function recordMetrics(metrics: Metrics): MiddlewareHandler {
  return async function metricsMiddleware(c, next) {
    metrics.inFlight.inc();
    const started = performance.now();
    try {
      await next();
    } finally {
      metrics.inFlight.dec();
      const labels = { method: c.req.method, route: routeTemplate(c) ?? 'unmatched', status: String(c.res.status) };
      metrics.httpDuration.observe(labels, (performance.now() - started) / 1000);
      metrics.httpRequests.inc(labels);
    }
  };
}
