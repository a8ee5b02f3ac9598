import { z } from '@hono/zod-openapi';
import type { AppDeps } from '../deps.js';
import type { App } from '../http/openapi.js';
import { changeRoute } from './changeRoute.js';
import { importanceSchema } from '../http/schemas.js';

export const importanceBody = z.preprocess((body) => {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const b = body as Record<string, unknown>;
  return b.importance_score === undefined && b.importanceScore !== undefined ? { ...b, importance_score: b.importanceScore } : b;
}, z.object({ importance_score: importanceSchema }));

export const setImportanceRoute = (deps: AppDeps) => (app: App) =>
  changeRoute({
    path: '/api/v1/conversations/{id}/importance',
    summary: 'Set the importance score (1–10)',
    body: importanceBody,
    toCommand: (body, at) => ({ type: 'SetImportance', at, data: body }),
  })(deps)(app);
