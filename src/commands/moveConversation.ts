import { z } from '@hono/zod-openapi';
import type { AppDeps } from '../deps.js';
import type { App } from '../http/openapi.js';
import { changeRoute } from './changeRoute.js';
import { folderSchema, type Limits } from '../http/schemas.js';

export const moveBody = (limits: Limits) => z.object({ folder: folderSchema(limits) });

export const moveConversationRoute = (deps: AppDeps) => (app: App) =>
  changeRoute({
    path: '/api/v1/conversations/{id}/folder',
    summary: 'Move the conversation to another folder',
    body: moveBody(deps.config.api),
    toCommand: (body, at) => ({ type: 'MoveToFolder', at, data: body }),
  })(deps)(app);
