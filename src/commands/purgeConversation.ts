import type pg from 'pg';
import { redactEvent, textOf, type ConversationEvent } from '../domain/conversation/index.js';
import { forgetCachedTexts } from '../embeddings/cache.js';
import { redactStream, type WithinAppend } from '../eventstore/index.js';

/**
 * Inside the purge event's transaction: redact every earlier event of the stream (content replaced by
 * a marker and a SHA-256 of what was removed) and forget cached embeddings of its message texts.
 * Read rows and vectors go when their projectors see the purge event.
 */
export const redactEarlierEvents: WithinAppend = async (client: pg.PoolClient, appended) => {
  const purge = appended[0]!;
  const texts: string[] = [];
  await redactStream(client, purge.streamId, purge.streamVersion, (recorded) => {
    // The stream's own events, as the decider wrote them (earlier purges may have redacted some).
    const event = { type: recorded.type, data: recorded.data } as ConversationEvent;
    if (event.type === 'MessagesAppended') texts.push(...event.data.messages.filter((m) => !m.redacted).map((m) => textOf(m.content)));
    const redacted = redactEvent(event);
    return redacted === event ? undefined : redacted.data;
  });
  // Every model's cached vector of these texts: a vector is content too.
  await forgetCachedTexts(client, texts);
};
