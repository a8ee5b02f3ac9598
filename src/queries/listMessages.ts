import { createRoute, z } from '@hono/zod-openapi';
import { conversationIdParams } from '../http/schemas.js';
import type { AppDeps } from '../deps.js';
import { conversationDeleted, errorResponse, toApiError } from '../http/errors.js';
import { conversationReadErrors, errorResponses, register, type App } from '../http/openapi.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { sizeParam } from './params.js';
import { consistencyParams, readYourWrites } from './readYourWrites.js';
import { readQuery } from './sql.js';
import { MESSAGE_COLUMNS, messageJson, messageViewSchema, type MessageRow } from './views.js';

const isSeqCursor = (v: unknown): v is { seq: number } =>
  typeof v === 'object' && v !== null && Number.isSafeInteger((v as { seq: unknown }).seq) && (v as { seq: number }).seq >= 0;

const route = (deps: AppDeps) =>
  createRoute({
    method: 'get',
    path: '/api/v1/conversations/{id}/messages',
    tags: ['conversations'],
    summary: 'The messages of a conversation in order, keyset-paged',
    middleware: [readYourWrites(deps)] as const,
    request: {
      params: conversationIdParams,
      query: z.object({ cursor: z.string().optional(), limit: sizeParam(deps.config.api).optional(), ...consistencyParams(deps) }),
    },
    responses: {
      200: {
        description: 'A page of messages',
        content: {
          'application/json': {
            schema: z.object({ conversation_id: z.string(), messages: z.array(messageViewSchema), next_cursor: z.string().nullable() }),
          },
        },
      },
      ...errorResponses,
      ...conversationReadErrors,
    },
  });

export const listMessagesRoute = (deps: AppDeps) => (app: App) => {
  register(app, route(deps), async (c) => {
    const { id } = c.req.valid('param');
    const q = c.req.valid('query');
    let afterSeq = 0;
    if (q.cursor !== undefined) {
      const cursor = decodeCursor(q.cursor, isSeqCursor);
      if (cursor.isErr()) return errorResponse(c, cursor.error);
      afterSeq = cursor.value.seq;
    }
    const limit = q.limit ?? 50;
    const conversation = await readQuery<{ status: string; updated_at: Date }>(deps.pools.read, 'select status, updated_at from conversations where id = $1', [id]);
    if (conversation.isErr()) return errorResponse(c, conversation.error);
    const found = conversation.value[0];
    if (!found) return errorResponse(c, toApiError('CONVERSATION_NOT_FOUND'));
    if (found.status === 'deleted') return errorResponse(c, conversationDeleted(found.updated_at));
    const rows = await readQuery<MessageRow>(
      deps.pools.read,
      `select ${MESSAGE_COLUMNS} from messages m where m.conversation_id = $1 and m.seq > $2 order by m.seq limit $3`,
      [id, afterSeq, limit + 1],
    );
    if (rows.isErr()) return errorResponse(c, rows.error);
    const page = rows.value.slice(0, limit);
    const more = rows.value.length > limit;
    return c.json({
      conversation_id: id,
      messages: page.map(messageJson),
      next_cursor: more ? encodeCursor({ seq: page.at(-1)!.seq }) : null,
    });
  });
};
