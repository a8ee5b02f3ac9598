import { z } from '@hono/zod-openapi';
import type { AppDeps } from '../deps.js';
import type { App } from '../http/openapi.js';
import { changeRoute } from './changeRoute.js';
import { folderSchema, labelSchema, type Limits } from '../http/schemas.js';

export const relabelBody = (limits: Limits) => z.object({ label: labelSchema(limits), folder: folderSchema(limits).optional() });

export const relabelConversationRoute = (deps: AppDeps) => (app: App) =>
  changeRoute({
    path: '/api/v1/conversations/{id}/label',
    summary: 'Change the label (and optionally the folder)',
    body: relabelBody(deps.config.api),
    toCommand: (body, at) => ({ type: 'Relabel', at, data: body.folder === undefined ? { label: body.label } : body }),
  })(deps)(app);
