import type { RecordedEvent } from './types.js';

/** The columns every event read selects, in the shape `toRecordedEvent` takes. */
export const EVENT_COLUMNS =
  'global_position, transaction_id::text as transaction_id, stream_id, stream_version, event_id, type, data, metadata, created_at';

export interface EventRow {
  global_position: number;
  transaction_id: string;
  stream_id: string;
  stream_version: number;
  event_id: string;
  type: string;
  data: unknown;
  metadata: RecordedEvent['metadata'];
  created_at: Date;
}

export const toRecordedEvent = (row: EventRow): RecordedEvent => ({
  type: row.type,
  data: row.data,
  eventId: row.event_id,
  streamId: row.stream_id,
  streamVersion: row.stream_version,
  position: { transactionId: BigInt(row.transaction_id), globalPosition: Number(row.global_position) },
  metadata: row.metadata,
  createdAt: row.created_at,
});
