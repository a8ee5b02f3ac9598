import { createRoute, z } from '@hono/zod-openapi';
import { vectorChecks } from '../vectors/health.js';
import type { AppDeps, Check } from '../deps.js';
import { register, type App } from '../http/openapi.js';

/** A readiness check: `'ok'` when ready, otherwise a short reason. */
export type ReadinessCheck = Check;

const TIMEOUT_MS = 2000;

const readyRoute = createRoute({
  method: 'get',
  path: '/ready',
  tags: ['operations'],
  summary: 'Readiness: 200 only when the databases answer and projectors run',
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: z.object({ status: z.literal('ready'), checks: z.record(z.string(), z.string()) }) } } },
    503: { description: 'Not ready; `checks` says which dependency is not', content: { 'application/json': { schema: z.object({ status: z.literal('not_ready'), checks: z.record(z.string(), z.string()) }) } } },
  },
});

const withDeadline = (check: ReadinessCheck): Promise<string> =>
  Promise.race([
    Promise.resolve()
      .then(check)
      .catch((e: unknown) => `error: ${e instanceof Error ? e.message.slice(0, 200) : 'failed'}`),
    new Promise<string>((r) => setTimeout(() => r('timeout'), TIMEOUT_MS).unref()),
  ]);

/** The built-in checks: both pools answer; the projectors this process runs are not failed or stopped. */
export function builtinReadiness(deps: AppDeps): Record<string, ReadinessCheck> {
  const checks: Record<string, ReadinessCheck> = {
    database: () => deps.pools.write.query('select 1').then(() => 'ok'),
  };
  if (deps.pools.separateRead) checks.read_database = () => deps.pools.read.query('select 1').then(() => 'ok');
  if (deps.vectors) Object.assign(checks, vectorChecks(deps.vectors));
  const runtime = deps.projections;
  if (runtime) {
    checks.projectors = () => {
      const bad = runtime.status().filter((s) => s.status === 'failed' || s.status === 'stopped');
      return bad.length === 0 ? 'ok' : bad.map((s) => `${s.name}@${s.version} ${s.status}`).join(', ');
    };
  }
  return checks;
}

/** GET /ready: every check in parallel, each bounded by a deadline; 503 with Retry-After when one fails. */
export const readyRoutes = (deps: AppDeps) => (app: App): void => {
  register(app, readyRoute, async (c) => {
    const all = { ...builtinReadiness(deps), ...deps.readiness };
    const names = Object.keys(all);
    const results = await Promise.all(names.map((n) => withDeadline(all[n]!)));
    const checks = Object.fromEntries(names.map((n, i) => [n, results[i]!]));
    const ready = results.every((r) => r === 'ok');
    if (!ready) c.header('Retry-After', '1');
    return c.json({ status: ready ? 'ready' : 'not_ready', checks }, ready ? 200 : 503);
  }, 'public');
};
