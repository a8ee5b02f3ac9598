import { createHash } from 'node:crypto';
import type pg from 'pg';
import { redactEvent, textOf, type ConversationEvent } from '../domain/conversation/index.js';
import type { WithinAppend } from '../eventstore/index.js';

const textHash = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * Inside the purge event's transaction: redact every earlier event of the stream (content replaced by
 * a marker and a SHA-256 of what was removed) and forget cached embeddings of its message texts.
 * Read rows and vectors go when their projectors see the purge event.
 */
export const redactEarlierEvents: WithinAppend = async (client: pg.PoolClient, appended) => {
  const purge = appended[0]!;
  const { rows } = await client.query<{ global_position: number; type: string; data: ConversationEvent['data'] }>(
    `select global_position, type, data from events where stream_id = $1 and stream_version < $2 order by stream_version for update`,
    [purge.streamId, purge.streamVersion],
  );
  const texts: string[] = [];
  const changed: { position: number; data: unknown }[] = [];
  for (const row of rows) {
    const event = { type: row.type, data: row.data } as ConversationEvent;
    if (event.type === 'MessagesAppended') texts.push(...event.data.messages.filter((m) => !m.redacted).map((m) => textOf(m.content)));
    const redacted = redactEvent(event);
    if (redacted !== event) changed.push({ position: row.global_position, data: redacted.data });
  }
  if (changed.length > 0) {
    await client.query(
      `update events e set data = c.data from unnest($1::bigint[], $2::jsonb[]) as c(position, data) where e.global_position = c.position`,
      [changed.map((c) => c.position), changed.map((c) => JSON.stringify(c.data))],
    );
  }
  if (texts.length > 0) {
    // Every model's cached vector of these texts: a vector is content too.
    await client.query('delete from embedding_cache where text_hash = any($1::bytea[])', [[...new Set(texts)].map(textHash)]);
  }
};
