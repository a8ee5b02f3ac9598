import { createRoute, z } from '@hono/zod-openapi';
import { conversationIdParams, folderSchema, labelSchema } from '../http/schemas.js';
import type { AppDeps } from '../deps.js';
import { errorResponse } from '../http/errors.js';
import { conversationReadErrors, errorResponses, register, type App } from '../http/openapi.js';
import { consistencyParams, readYourWrites } from './readYourWrites.js';
import { loadConversation, loadConversations } from './loadConversation.js';
import { conversationExportJson, conversationMarkdown } from './exportFormats.js';
import type { Result } from 'neverthrow';
import type { ApiError } from '../http/errors.js';

const format = z.enum(['json', 'markdown'], { message: 'must be json or markdown' }).default('json');

export const exportQuery = (deps: AppDeps) =>
  z.object({ label: labelSchema(deps.config.api).optional(), folder: folderSchema(deps.config.api).optional(), format });
export type ExportQuery = z.infer<ReturnType<typeof exportQuery>>;

// Enough for any one export answer; a larger archive is exported folder by folder.
const MAX_EXPORT = 10_000;

/** The bulk export: `{format, count, content}`, content a JSON array or one Markdown document. */
export async function exportMany(deps: AppDeps, q: ExportQuery): Promise<Result<{ format: string; count: number; content: unknown }, ApiError>> {
  const loaded = await loadConversations(deps.pools.read, q, MAX_EXPORT);
  return loaded.map((list) => ({
    format: q.format,
    count: list.length,
    content: q.format === 'markdown' ? list.map(conversationMarkdown).join('\n---\n\n') : list.map(conversationExportJson),
  }));
}

export const exportRoutes = (deps: AppDeps) => (app: App) => {
  register(
    app,
    createRoute({
      method: 'get',
      path: '/api/v1/conversations/{id}/export',
      tags: ['memory'],
      summary: 'One conversation with its messages, as JSON or Markdown (text/markdown)',
      middleware: [readYourWrites(deps)] as const,
      request: { params: conversationIdParams, query: z.object({ format, ...consistencyParams(deps) }) },
      responses: { 200: { description: 'The conversation' }, ...errorResponses, ...conversationReadErrors },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { format: f } = c.req.valid('query');
      const loaded = await loadConversation(deps.pools.read, id);
      if (loaded.isErr()) return errorResponse(c, loaded.error);
      if (f === 'json') return c.json(conversationExportJson(loaded.value));
      c.header('Content-Type', 'text/markdown; charset=utf-8');
      c.header('Content-Disposition', `attachment; filename="conversation-${id}.md"`);
      return c.body(conversationMarkdown(loaded.value));
    },
  );
  register(
    app,
    createRoute({
      method: 'get',
      path: '/api/v1/export',
      tags: ['memory'],
      summary: 'Export conversations (by label and/or folder and its subfolders) as `{format, count, content}`',
      middleware: [readYourWrites(deps)] as const,
      request: { query: exportQuery(deps).extend(consistencyParams(deps)) },
      responses: { 200: { description: 'The export' }, ...errorResponses },
    }),
    async (c) => {
      const answer = await exportMany(deps, c.req.valid('query'));
      return answer.match((body) => c.json(body), (e) => errorResponse(c, e));
    },
  );
};
