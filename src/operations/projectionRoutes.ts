import { createRoute, z } from '@hono/zod-openapi';
import type { AppDeps } from '../deps.js';
import { apiError, errorResponse, unavailable } from '../http/errors.js';
import { errorResponses, register, type App } from '../http/openapi.js';
import { listCheckpoints } from '../projections/checkpoints.js';
import { projectionReports } from '../projections/report.js';
import { requestRebuild } from '../projections/versions.js';

const reportSchema = z
  .object({
    name: z.string(),
    version: z.number(),
    state: z.string().openapi({ description: 'live, building (a rebuild beside the live one) or retired' }),
    position: z.string(),
    head: z.string().nullable(),
    lag_events: z.number(),
    lag_seconds: z.number(),
    status: z.string(),
    last_error: z.string().nullable(),
  })
  .openapi('ProjectionStatus');

const listRoute = createRoute({
  method: 'get',
  path: '/api/v1/projections',
  tags: ['operations'],
  summary: 'Every projector version: checkpoint, head, lag in events and seconds, status',
  responses: {
    200: { description: 'Projectors', content: { 'application/json': { schema: z.object({ projections: z.array(reportSchema) }) } } },
    ...errorResponses,
  },
});

const rebuildRoute = createRoute({
  method: 'post',
  path: '/api/v1/projections/{name}/rebuild',
  tags: ['operations'],
  summary: 'Rebuild a projection beside the live one (admin); queries keep answering and it is switched to once caught up',
  request: { params: z.object({ name: z.string().regex(/^[a-z0-9-]{1,64}$/, 'must be a projection name').openapi({ param: { name: 'name', in: 'path' } }) }) },
  responses: {
    202: {
      description: 'Rebuild started (or already running)',
      content: { 'application/json': { schema: z.object({ name: z.string(), version: z.number(), state: z.string(), status_url: z.string() }) } },
    },
    ...errorResponses,
    404: { description: 'Unknown projection' },
  },
});

/** GET /api/v1/projections and POST /api/v1/projections/{name}/rebuild. */
export const projectionRoutes = (deps: AppDeps) => (app: App) => {
  register(app, listRoute, async (c) => {
    try {
      const reports = await projectionReports(deps.pools.write, deps.projections?.status(), deps.config.projections.lease);
      return c.json({ projections: reports });
    } catch {
      return errorResponse(c, unavailable('the database'));
    }
  });
  register(app, rebuildRoute, async (c) => {
    const { name } = c.req.valid('param');
    try {
      const known = deps.projections
        ? deps.projections.definitions.some((d) => d.name === name)
        : (await listCheckpoints(deps.pools.write, [name])).length > 0;
      if (!known) return errorResponse(c, apiError('not_found', `no projection named ${name}`));
      // The instance holding the new version's lease builds it; here when this process runs projectors.
      const { version } = deps.projections ? await deps.projections.rebuild(name) : await requestRebuild(deps.pools.write, name);
      return c.json({ name, version, state: 'building', status_url: '/api/v1/projections' }, 202);
    } catch {
      return errorResponse(c, unavailable('the database'));
    }
  }, 'admin');
};
