import type pg from 'pg';
import { CONVERSATION_STATE_EVENTS, readLoggedEvent, TEXT_SEARCH_CONFIG } from '../../domain/conversation/index.js';
import { readStream, type RecordedEvent } from '../../eventstore/index.js';
import { foldBatch, type PurgeStep, type Segment } from './fold.js';

import { tablesOf } from './schema.js';

/** The conversation event types the read model applies; others are skipped. */
export const READ_MODEL_EVENTS = CONVERSATION_STATE_EVENTS;

const CONVERSATION_RECORD =
  'id uuid, label text, folder text, status text, pinned boolean, importance_score int, message_count int, word_count int, metadata jsonb, created_at timestamptz, updated_at timestamptz, last_message_at timestamptz, version int';
const CONVERSATION_COLUMNS = 'id, label, folder, status, pinned, importance_score, message_count, word_count, metadata, created_at, updated_at, last_message_at, version';

/** Writes one folded segment: at most three statements, whatever the number of events. */
async function writeSegment(client: pg.PoolClient, version: number, segment: Segment): Promise<void> {
  const { conversations, messages } = tablesOf(version);
  if (segment.inserts.length > 0) {
    await client.query(
      `insert into ${conversations} (${CONVERSATION_COLUMNS})
       select ${CONVERSATION_COLUMNS} from jsonb_to_recordset($1::jsonb) as r(${CONVERSATION_RECORD})`,
      [JSON.stringify(segment.inserts)],
    );
  }
  if (segment.patches.length > 0) {
    // Each column is set only when the patch names it; counters add up.
    const keep = (col: string, type: string) => `${col} = case when p.s ? '${col}' then (p.s->>'${col}')::${type} else t.${col} end`;
    await client.query(
      `update ${conversations} t set
          ${keep('label', 'text')}, ${keep('folder', 'text')}, ${keep('status', 'text')}, ${keep('pinned', 'boolean')},
          ${keep('importance_score', 'int')}, ${keep('last_message_at', 'timestamptz')}, ${keep('updated_at', 'timestamptz')}, ${keep('version', 'int')},
          message_count = t.message_count + p.add_messages, word_count = t.word_count + p.add_words
        from jsonb_to_recordset($1::jsonb) as p(id uuid, s jsonb, add_messages int, add_words int)
       where t.id = p.id`,
      [JSON.stringify(segment.patches.map((p) => ({ id: p.id, s: p.set, add_messages: p.add_messages, add_words: p.add_words })))],
    );
  }
  if (segment.messages.length > 0) {
    await client.query(
      `insert into ${messages} (id, conversation_id, seq, role, name, content, parts, timestamp, metadata, search)
       select id, conversation_id, seq, role, name, content, parts, timestamp, metadata, to_tsvector('${TEXT_SEARCH_CONFIG}', document)
         from jsonb_to_recordset($1::jsonb) as r(id uuid, conversation_id uuid, seq int, role text, name text, content text, parts jsonb, timestamp timestamptz, metadata jsonb, document text)`,
      [JSON.stringify(segment.messages)],
    );
  }
}

/** Applies a batch to one version's tables, inside the runtime's transaction. */
export async function applyReadModel(client: pg.PoolClient, version: number, events: RecordedEvent[]): Promise<void> {
  for (const step of foldBatch(events)) {
    if (step.kind === 'rows') await writeSegment(client, version, step);
    else await purge(client, version, step);
  }
}

/**
 * Forgotten: no read row keeps content (the events were redacted in the purge's transaction). The
 * messages go; the conversation stays as `deleted` (so it answers 404 `deleted`) with the redacted metadata of
 * its ConversationStarted event, which is what a rebuild from the redacted events gives too.
 */
async function purge(client: pg.PoolClient, version: number, step: PurgeStep): Promise<void> {
  const { conversations, messages } = tablesOf(version);
  const first = await readStream(client, step.streamId, { limit: 1 });
  if (first.isErr()) throw first.error.cause;
  const started = first.value[0] && readLoggedEvent(first.value[0]);
  const metadata = started?.type === 'ConversationStarted' ? started.data.metadata : {};
  await client.query(`delete from ${messages} where conversation_id = $1`, [step.id]);
  await client.query(
    `update ${conversations}
        set status = 'deleted', word_count = 0, updated_at = $2, version = $3, metadata = $4::jsonb
      where id = $1`,
    [step.id, step.at, step.version, JSON.stringify(metadata)],
  );
}
