import type pg from 'pg';
import { textOf, wordCount, type ConversationEventType, type MessageContent } from '../../domain/conversation/index.js';
import type { RecordedEvent } from '../../eventstore/index.js';
import { tablesOf } from './schema.js';

/** The conversation event types the read model applies; others (e.g. a later purge) are skipped. */
export const READ_MODEL_EVENTS = [
  'ConversationStarted',
  'MessagesAppended',
  'ConversationLabeled',
  'ConversationMovedToFolder',
  'ConversationPinned',
  'ConversationUnpinned',
  'ConversationArchived',
  'ConversationUnarchived',
  'ImportanceSet',
  'ConversationDeleted',
  'ConversationPurged',
] as const satisfies readonly ConversationEventType[];

// Event data is read defensively: a purge may have redacted fields, so nothing is assumed present.
type Loose = Record<string, unknown>;
const str = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : fallback);
const num = (v: unknown, fallback: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);
const obj = (v: unknown): Loose => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Loose) : {});

/** The searchable text of possibly redacted content. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return textOf(content.filter((p) => typeof p === 'object' && p !== null) as MessageContent);
  return '';
}

export interface MessageRow {
  id: string;
  seq: number;
  role: string;
  content: string;
  parts: unknown;
  timestamp: string;
  metadata: Loose;
}

/** The rows of a MessagesAppended event (pure). */
export function messageRows(data: Loose, at: string): MessageRow[] {
  const messages = Array.isArray(data.messages) ? (data.messages as unknown[]) : [];
  return messages.map((raw, i) => {
    const m = obj(raw);
    return {
      id: str(m.id),
      seq: num(m.seq, i + 1),
      role: str(m.role, 'user'),
      content: contentText(m.content),
      parts: Array.isArray(m.content) ? m.content : null,
      timestamp: str(m.timestamp, at),
      metadata: obj(m.metadata),
    };
  });
}

/** Column changes of the simple events (pure); undefined for the ones handled apart. */
export function conversationChanges(type: string, data: Loose): Record<string, unknown> | undefined {
  switch (type) {
    case 'ConversationLabeled':
      return typeof data.folder === 'string' ? { label: str(data.label), folder: data.folder } : { label: str(data.label) };
    case 'ConversationMovedToFolder':
      return { folder: str(data.folder, '/') };
    case 'ConversationPinned':
      return { pinned: true };
    case 'ConversationUnpinned':
      return { pinned: false };
    case 'ConversationArchived':
      return { status: 'archived' };
    case 'ConversationUnarchived':
      return { status: 'active' };
    case 'ImportanceSet':
      return { importance_score: num(data.importance_score, 5) };
    case 'ConversationDeleted':
      return { status: 'deleted' };
    default:
      return undefined;
  }
}

const idOf = (event: RecordedEvent, data: Loose) => str(data.conversation_id) || event.streamId.replace(/^conversation-/, '');

/** Applies a batch to one version's tables, inside the runtime's transaction. */
export async function applyReadModel(client: pg.PoolClient, version: number, events: RecordedEvent[]): Promise<void> {
  const { conversations, messages } = tablesOf(version);
  for (const event of events) {
    const data = obj(event.data);
    const id = idOf(event, data);
    const at = str(data.at) || event.createdAt.toISOString();
    if (event.type === 'ConversationStarted') {
      await client.query(
        `insert into ${conversations} (id, label, folder, status, pinned, importance_score, metadata, created_at, updated_at, version)
         values ($1, $2, $3, 'active', false, $4, $5, $6, $6, $7)`,
        [id, str(data.label), str(data.folder, '/'), num(data.importance_score, 5), obj(data.metadata), at, event.streamVersion],
      );
      continue;
    }
    if (event.type === 'MessagesAppended') {
      const rows = messageRows(data, at);
      if (rows.length > 0) {
        await client.query(
          `insert into ${messages} (id, conversation_id, seq, role, content, parts, timestamp, metadata)
           select r.id, $1, r.seq, r.role, r.content, r.parts, r.timestamp, r.metadata
             from jsonb_to_recordset($2::jsonb) as r(id uuid, seq int, role text, content text, parts jsonb, timestamp timestamptz, metadata jsonb)`,
          [id, JSON.stringify(rows)],
        );
      }
      const words = rows.reduce((n, r) => n + wordCount(r.content), 0);
      await client.query(
        `update ${conversations}
            set message_count = message_count + $2, word_count = word_count + $3,
                last_message_at = coalesce($4::timestamptz, last_message_at), updated_at = $5, version = $6
          where id = $1`,
        [id, rows.length, words, rows.at(-1)?.timestamp ?? null, at, event.streamVersion],
      );
      continue;
    }
    if (event.type === 'ConversationPurged') {
      await purge(client, version, id, event, at);
      continue;
    }
    const changes = conversationChanges(event.type, data);
    if (!changes) continue;
    const columns = Object.keys(changes);
    const sets = columns.map((c, i) => `${c} = $${i + 4}`).join(', ');
    await client.query(`update ${conversations} set ${sets}, updated_at = $2, version = $3 where id = $1`, [
      id,
      at,
      event.streamVersion,
      ...Object.values(changes),
    ]);
  }
}

/**
 * Forgotten: no read row keeps content (the events were redacted in the purge's transaction). The
 * messages go; the conversation stays as `deleted` (so it answers 410) with the redacted metadata of
 * its ConversationStarted event, which is what a rebuild from the redacted events gives too.
 */
async function purge(client: pg.PoolClient, version: number, id: string, event: RecordedEvent, at: string): Promise<void> {
  const { conversations, messages } = tablesOf(version);
  await client.query(`delete from ${messages} where conversation_id = $1`, [id]);
  await client.query(
    `update ${conversations}
        set status = 'deleted', word_count = 0, updated_at = $2, version = $3,
            metadata = coalesce((select e.data->'metadata' from events e where e.stream_id = $4 and e.type = 'ConversationStarted' limit 1), '{}'::jsonb)
      where id = $1`,
    [id, at, event.streamVersion, event.streamId],
  );
}
