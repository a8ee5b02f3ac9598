import type { Context, MiddlewareHandler } from 'hono';
import type { Metrics } from '../../metrics/index.js';
import { routeTemplate } from '../route.js';

/** Records one answered request into the duration histogram and the counter. */
function observe(metrics: Metrics, c: Context, started: number): void {
  const labels = { method: c.req.method, route: routeTemplate(c) ?? 'unmatched', status: String(c.res.status) };
  metrics.httpDuration.observe(labels, (performance.now() - started) / 1000);
  metrics.httpRequests.inc(labels);
  c.set('metricsRecorded', true);
}

/** Times every request into the duration histogram, labelled by route template (`unmatched` for 404s). */
export function recordMetrics(metrics: Metrics): MiddlewareHandler {
  return async function metricsMiddleware(c, next) {
    metrics.inFlight.inc();
    const started = performance.now();
    try {
      await next();
    } finally {
      metrics.inFlight.dec();
      observe(metrics, c, started);
    }
  };
}

/**
 * Outermost: records the requests answered before `recordMetrics` runs — refused by auth (401, 403)
 * or the rate limit (429), or a CORS preflight — so that the histograms show every answer.
 */
export function recordEarlyAnswers(metrics: Metrics): MiddlewareHandler {
  return async function earlyAnswersMiddleware(c, next) {
    const started = performance.now();
    await next();
    if (!c.get('metricsRecorded')) observe(metrics, c, started);
  };
}
