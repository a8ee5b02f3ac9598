import { createRoute, z } from '@hono/zod-openapi';
import type { AppDeps } from '../deps.js';
import { apiError, errorResponse, unavailable } from '../http/errors.js';
import { errorResponses, register, type App } from '../http/openapi.js';
import { rebuildStatus, requestVectorRebuild } from '../projections/vectorRebuild.js';

const startRoute = createRoute({
  method: 'post',
  path: '/api/v1/rebuild-embeddings',
  tags: ['operations'],
  summary: 'Rebuild every vector (optionally with another model) into a new collection, beside the one that keeps serving',
  request: {
    body: {
      required: false,
      content: { 'application/json': { schema: z.object({ model: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters').optional() }) } },
    },
  },
  responses: {
    202: {
      description: 'The job: poll status_url',
      content: { 'application/json': { schema: z.object({ job_id: z.string(), collection: z.string(), model: z.string(), status_url: z.string() }) } },
    },
    422: { description: 'The embedding provider cannot serve that model' },
    ...errorResponses,
  },
});

const statusRoute = createRoute({
  method: 'get',
  path: '/api/v1/rebuild-embeddings/{job_id}',
  tags: ['operations'],
  summary: 'Progress of an embeddings rebuild',
  request: { params: z.object({ job_id: z.uuid({ message: 'must be a UUID' }).openapi({ param: { name: 'job_id', in: 'path' } }) }) },
  responses: {
    200: {
      description: 'status running · completed · superseded, messages processed of total, rate per second, eta',
      content: {
        'application/json': {
          schema: z.object({
            job_id: z.string(),
            collection: z.string(),
            model: z.string(),
            status: z.string(),
            processed: z.number(),
            total: z.number(),
            rate: z.number(),
            eta_seconds: z.number().nullable(),
          }),
        },
      },
    },
    404: { description: 'No such job' },
    ...errorResponses,
  },
});

export const rebuildEmbeddingsRoutes = (deps: AppDeps) => (app: App) => {
  register(app, startRoute, async (c) => {
    const vectors = deps.vectors;
    if (!vectors) return errorResponse(c, unavailable('vector search'));
    const body = c.req.valid('json') ?? {};
    let result: Awaited<ReturnType<typeof requestVectorRebuild>>;
    try {
      result = await requestVectorRebuild(deps.pools.write, vectors, deps.projections, body.model);
    } catch (e) {
      c.get('log')?.warn({ err: { message: (e as Error).message } }, 'rebuild-embeddings could not start');
      return errorResponse(c, unavailable('the embedder or the database'));
    }
    if ('err' in result) return errorResponse(c, apiError('model_unsupported', result.err.message, { model: result.err.model }));
    const job = result.ok;
    return c.json({ job_id: job.job_id, collection: job.collection, model: job.model, status_url: `/api/v1/rebuild-embeddings/${job.job_id}` }, 202);
  }, 'admin');

  register(app, statusRoute, async (c) => {
    const { job_id } = c.req.valid('param');
    try {
      const status = await rebuildStatus(deps.pools.write, job_id);
      if (!status) return errorResponse(c, apiError('not_found', 'no rebuild job with this id'));
      return c.json(status);
    } catch {
      return errorResponse(c, unavailable('the database'));
    }
  });
};
