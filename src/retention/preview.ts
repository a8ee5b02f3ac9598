import { createRoute, z } from '@hono/zod-openapi';
import type { AppDeps } from '../deps.js';
import { errorResponse } from '../http/errors.js';
import { errorResponses, register, type App } from '../http/openapi.js';
import { planRetention } from './plan.js';

const itemSchema = z.object({
  conversation_id: z.string(),
  label: z.string(),
  folder: z.string(),
  rule: z.string(),
  action: z.enum(['archive', 'delete', 'purge']),
  last_activity: z.string(),
});

/** GET /api/v1/retention/preview: what the next retention run would do, conversation by conversation. */
export const retentionPreviewRoute = (deps: AppDeps) => (app: App) => {
  const route = createRoute({
    method: 'get',
    path: '/api/v1/retention/preview',
    tags: ['memory'],
    summary: 'What the next retention run would do: each conversation, the rule and the action',
    responses: {
      200: {
        description: 'The plan',
        content: { 'application/json': { schema: z.object({ at: z.string(), items: z.array(itemSchema), truncated: z.boolean(), rules: z.array(z.string()) }) } },
      },
      ...errorResponses,
    },
  });
  register(app, route, async (c) =>
    (await planRetention(deps)).match(
      (plan) => c.json({ ...plan, rules: deps.config.retention.rules.map((r) => r.name) }),
      (e) => errorResponse(c, e),
    ),
  );
};
