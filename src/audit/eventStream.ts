import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppDeps } from '../deps.js';
import { formatPosition, parsePosition, type Position, type RecordedEvent } from '../eventstore/index.js';
import { errorResponse } from '../http/errors.js';
import { errorResponses, register, type App } from '../http/openapi.js';
import { createSseChannel, type SseChannel } from '../http/sse.js';
import { localWakeup } from '../eventstore/wakeup.js';
import { commaList, streamIdOf } from './auditEvents.js';
import { toEventView } from './eventView.js';

const STREAM_PATH = '/api/v1/events/stream';

/** `start`, `now`, or a position `<transaction>:<sequence>` (the `id:` of every streamed event). */
const positionText = z
  .string()
  .max(60)
  .refine((s) => s === 'start' || s === 'now' || parsePosition(s) !== undefined, {
    message: 'must be "start", "now" or a position "<transaction>:<sequence>" (an event id: of this stream)',
  });

export const eventStreamQuery = z.object({
  from: positionText.optional().openapi({ description: 'where to start: "start" (the whole log), "now" (default), or a position; events after it come' }),
  type: commaList.optional().openapi({ description: 'event type, or several comma-separated' }),
  stream: z.string().min(1).max(300).optional().openapi({ description: 'a stream id or a conversation id' }),
});

const eventStreamHeaders = z.object({
  'last-event-id': positionText.optional().openapi({ description: 'sent by EventSource on reconnect; wins over `from`' }),
});

/** Which events one client may see and asked for. */
export interface StreamFilter {
  types?: readonly string[];
  streamId?: string;
  /** A key without admin scope sees only its own events (metadata actor = key name). */
  actor?: string;
}

export const streamMatches = (filter: StreamFilter, e: RecordedEvent): boolean =>
  (!filter.types || filter.types.length === 0 || filter.types.includes(e.type)) &&
  (filter.streamId === undefined || e.streamId === filter.streamId) &&
  (filter.actor === undefined || e.metadata.actor === filter.actor);

/**
 * Sends every matching event after `from`, then follows the log live until the client leaves, is too
 * slow, or the service stops. Reads go through the gap-safe `readAll`: an event whose transaction
 * commits late is waited for, never skipped, so resuming after any `id:` loses and repeats nothing.
 * Purges redact the stored events in the purge's own transaction, so what is read is already redacted.
 */
async function follow(deps: AppDeps, channel: SseChannel, from: Position, filter: StreamFilter): Promise<void> {
  const settings = deps.config.stream;
  // Without a LISTEN in this process (tests, tools) the slow poll alone wakes the stream.
  const wakeup = deps.events?.wakeup ?? localWakeup();
  const closing = deps.events?.closing;
  const stopped = closing ? new Promise<void>((r) => (closing.aborted ? r() : closing.addEventListener('abort', () => r(), { once: true }))) : undefined;
  const pollMs = deps.config.projections.poll_interval_ms;
  // Everything matching up to here is queued for the client: the place to resume.
  let delivered = from;
  let lastWrite = Date.now();
  const finish = (event: string, reason: string) =>
    channel.end({ event, id: formatPosition(delivered), data: JSON.stringify({ reason, resume_from: formatPosition(delivered) }) });

  await channel.send({ event: 'ready', id: formatPosition(from), data: JSON.stringify({ from: formatPosition(from) }) });
  while (!channel.closed) {
    if (closing?.aborted) return finish('closing', 'the service is stopping; reconnect with Last-Event-ID');
    const generation = wakeup.generation;
    const page = await deps.store.readAll(delivered, settings.batch_size);
    if (page.isErr()) return finish('unavailable', 'the event store is unavailable; reconnect with Last-Event-ID');
    for (const event of page.value) {
      if (streamMatches(filter, event)) {
        const sent = await channel.send({ id: formatPosition(event.position), data: JSON.stringify(toEventView(event)) });
        if (sent === 'closed') return;
        if (sent === 'slow') {
          deps.logger.info({ resume_from: formatPosition(delivered) }, 'event stream client too slow; dropped');
          return finish('dropped', `the client did not read for ${settings.slow_client_ms} ms; reconnect with Last-Event-ID`);
        }
        lastWrite = Date.now();
      }
      delivered = event.position;
    }
    if (page.value.length === settings.batch_size) continue;
    const heartbeatIn = lastWrite + settings.heartbeat_ms - Date.now();
    if (heartbeatIn > 0) await Promise.race([wakeup.wait(generation, Math.min(heartbeatIn, pollMs)), channel.finished, stopped]);
    if (Date.now() - lastWrite >= settings.heartbeat_ms) {
      channel.comment('heartbeat');
      lastWrite = Date.now();
    }
  }
}

/** GET /api/v1/events/stream: the event log as Server-Sent Events, from a position, then live. */
export const eventStreamRoute = (deps: AppDeps) => (app: App) => {
  const route = createRoute({
    method: 'get',
    path: STREAM_PATH,
    tags: ['audit'],
    summary: 'Every event from a position, then live, as Server-Sent Events (admin: all events; read: the key\'s own)',
    request: { query: eventStreamQuery, headers: eventStreamHeaders },
    responses: {
      200: { description: 'text/event-stream; each event\'s `id:` is its position; a final `dropped`/`closing` event carries `resume_from`', content: { 'text/event-stream': { schema: z.string() } } },
      ...errorResponses,
    },
  });
  register(app, route, async (c) => {
    const query = c.req.valid('query');
    const headers = c.req.valid('header');
    const fromText = headers['last-event-id'] ?? query.from ?? 'now';
    let from: Position;
    if (fromText === 'start') from = { transactionId: 0n, globalPosition: 0 };
    else if (fromText === 'now') {
      const horizon = await deps.store.readHorizon();
      if (horizon.isErr()) return errorResponse(c, horizon.error);
      from = horizon.value;
    } else from = parsePosition(fromText)!;
    const scopes = c.get('scopes') ?? [];
    const filter: StreamFilter = {
      ...(query.type ? { types: query.type } : {}),
      ...(query.stream ? { streamId: streamIdOf(query.stream) } : {}),
      ...(scopes.includes('admin') ? {} : { actor: c.get('actor') }),
    };
    const channel = createSseChannel({ bufferBytes: deps.config.stream.buffer_bytes, slowClientMs: deps.config.stream.slow_client_ms });
    c.req.raw.signal?.addEventListener('abort', () => channel.end(), { once: true });
    follow(deps, channel, from, filter).catch((e: Error) => {
      deps.logger.error({ err: { message: e.message, stack: e.stack } }, 'event stream failed');
      channel.end();
    });
    return new Response(channel.body, {
      status: 200,
      headers: {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        'x-accel-buffering': 'no',
        'x-request-id': c.get('requestId'),
      },
    });
  });
};
