import { createRoute, z } from '@hono/zod-openapi';
import { conversationStream } from '../domain/conversation/index.js';
import { EVENT_COLUMNS, toRecordedEvent, type EventRow } from '../eventstore/rows.js';
import type { AppDeps } from '../deps.js';
import { errorResponse } from '../http/errors.js';
import { errorResponses, register, type App } from '../http/openapi.js';
import { readQuery } from '../queries/sql.js';
import { eventViewSchema, toEventView } from './eventView.js';

/** A comma-separated list of event types (or anything else) in a query parameter. */
export const commaList = z
  .string()
  .max(2000)
  .transform((s) => s.split(',').map((t) => t.trim()).filter(Boolean));

export const auditQuery = z.object({
  type: commaList.optional().openapi({ description: 'event type, or several comma-separated' }),
  actor: z.string().min(1).max(200).optional(),
  stream: z.string().min(1).max(300).optional().openapi({ description: 'a stream id or a conversation id' }),
  from: z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time' }).optional(),
  to: z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time' }).optional(),
  after_position: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
export type AuditQuery = z.infer<typeof auditQuery>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A `stream` filter names a stream id or, for short, a conversation id. */
export const streamIdOf = (stream: string) => (UUID.test(stream) ? conversationStream(stream.toLowerCase()) : stream);

/**
 * The SQL of an audit page: every filter a parameter, keyset on global_position. With a time range
 * the page walks the (created_at, global_position) index instead (same order up to commit skew), so
 * a narrow window deep in the log does not scan the whole log.
 */
export function auditSql(q: AuditQuery): { text: string; values: unknown[] } {
  const byTime = q.from !== undefined || q.to !== undefined;
  const values: unknown[] = [q.after_position];
  const where = [
    byTime
      ? '($1::bigint = 0 or (created_at, global_position) > (select created_at, global_position from events where global_position = $1))'
      : 'global_position > $1',
  ];
  const add = (clause: (n: number) => string, value: unknown) => {
    values.push(value);
    where.push(clause(values.length));
  };
  if (q.type && q.type.length > 0) add((n) => `type = any($${n}::text[])`, q.type);
  if (q.actor) add((n) => `metadata->>'actor' = $${n}`, q.actor);
  if (q.stream) add((n) => `stream_id = $${n}`, streamIdOf(q.stream));
  if (q.from) add((n) => `created_at >= $${n}::timestamptz`, q.from);
  if (q.to) add((n) => `created_at < $${n}::timestamptz`, q.to);
  values.push(q.limit + 1);
  return {
    text: `select ${EVENT_COLUMNS} from events where ${where.join(' and ')}
           order by ${byTime ? 'created_at, global_position' : 'global_position'} limit $${values.length}`,
    values,
  };
}

/** GET /api/v1/audit/events: events across streams by type, actor, stream and time; keyset-paged by position. */
export const auditEventsRoute = (deps: AppDeps) => (app: App) => {
  const route = createRoute({
    method: 'get',
    path: '/api/v1/audit/events',
    tags: ['audit'],
    summary: 'Events across all conversations, filtered, keyset-paged by position',
    request: { query: auditQuery },
    responses: {
      200: {
        description: 'A page of events',
        content: { 'application/json': { schema: z.object({ events: z.array(eventViewSchema), next_after_position: z.number().nullable() }) } },
      },
      ...errorResponses,
    },
  });
  register(app, route, async (c) => {
    const q = c.req.valid('query') as AuditQuery;
    const sql = auditSql(q);
    // readQuery: a value Postgres refuses (a NUL byte in actor or type) is the caller's 400, not a 503.
    const read = await readQuery<EventRow>(deps.pools.read, sql.text, sql.values);
    if (read.isErr()) return errorResponse(c, read.error);
    const rows = read.value;
    const page = rows.slice(0, q.limit).map(toRecordedEvent);
    return c.json({
      events: page.map(toEventView),
      next_after_position: rows.length > q.limit ? page.at(-1)!.position.globalPosition : null,
    });
  });
};
