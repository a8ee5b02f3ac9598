import { z } from '@hono/zod-openapi';
import { formatPosition, type RecordedEvent } from '../eventstore/index.js';

/** How the audit routes show one event: what happened, to which version, by whom, when. */
export const eventViewSchema = z
  .object({
    event_id: z.string(),
    stream_id: z.string(),
    version: z.number(),
    type: z.string(),
    data: z.unknown(),
    metadata: z.object({
      actor: z.string(),
      request_id: z.string().nullable(),
      correlation_id: z.string().nullable(),
      causation_id: z.string().nullable(),
    }),
    created_at: z.string(),
    position: z.string(),
    global_position: z.number(),
  })
  .openapi('AuditEvent');

export const toEventView = (e: RecordedEvent) => ({
  event_id: e.eventId,
  stream_id: e.streamId,
  version: e.streamVersion,
  type: e.type,
  data: e.data,
  metadata: {
    actor: e.metadata.actor,
    request_id: e.metadata.request_id ?? null,
    correlation_id: e.metadata.correlation_id ?? null,
    causation_id: e.metadata.causation_id ?? null,
  },
  created_at: e.createdAt.toISOString(),
  position: formatPosition(e.position),
  global_position: e.position.globalPosition,
});
