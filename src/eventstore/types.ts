import type { Position } from './position.js';

/** Who and what caused an append; stored with every event of it. */
export interface EventMetadata {
  actor: string;
  request_id?: string;
  correlation_id?: string;
  causation_id?: string;
  idempotency_key?: string;
  request_hash?: string;
  [key: string]: unknown;
}

/** An event to append; `eventId` makes the append idempotent (a retry with the same ids appends nothing). */
export interface NewEvent<T extends string = string, D = unknown> {
  type: T;
  data: D;
  eventId?: string;
}

/** An event as stored. */
export interface RecordedEvent<T extends string = string, D = unknown> {
  type: T;
  data: D;
  eventId: string;
  streamId: string;
  streamVersion: number;
  position: Position;
  metadata: EventMetadata;
  createdAt: Date;
}

/** The version a writer expects the stream to be at: a number (0 = no stream yet), or 'any'. */
export type ExpectedVersion = number | 'any';

export interface AppendResult {
  /** The stream's version after the append. */
  nextVersion: number;
  /** Position of the last event written (or found, when the append was a retry). */
  position: Position;
  events: RecordedEvent[];
  /** True when every event id was already stored: nothing was appended. */
  duplicate: boolean;
}

export type AppendError =
  | { type: 'version_conflict'; streamId: string; expected: ExpectedVersion; actual: number }
  | { type: 'idempotency_mismatch'; streamId: string; message: string }
  | { type: 'store_unavailable'; cause: unknown };

export const EVENTS_CHANNEL = 'sekha_events';

/**
 * More work to do inside the append's transaction, after the events are inserted (a purge redacts the
 * stream's earlier events here, so the purge event and the redaction commit together or not at all).
 */
export type WithinAppend = (client: import('pg').PoolClient, appended: RecordedEvent[]) => Promise<void>;

/** A recorded event of a known union: keeps the union's type/data pairing. */
export type Recorded<E extends { type: string; data: unknown }> = E extends unknown ? E & Omit<RecordedEvent, 'type' | 'data'> : never;
