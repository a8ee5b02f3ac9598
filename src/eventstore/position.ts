/**
 * Where an event stands in the global order: its writing transaction, then its sequence number.
 * Written as `"<transaction_id>:<global_position>"` in answers and the X-Sekha-Position header.
 */
export interface Position {
  transactionId: bigint;
  globalPosition: number;
}

export const START: Position = { transactionId: 0n, globalPosition: 0 };

export const formatPosition = (p: Position): string => `${p.transactionId}:${p.globalPosition}`;

/** A position as two SQL parameters, read back by `$n::text::xid8, $m::bigint`. */
export const positionParams = (p: Position): [string, number] => [p.transactionId.toString(), p.globalPosition];

/** Parses `"<tx>:<pos>"`; undefined when it is not one. */
export function parsePosition(text: string): Position | undefined {
  const match = /^(\d{1,20}):(\d{1,18})$/.exec(text.trim());
  if (!match) return undefined;
  const globalPosition = Number(match[2]);
  if (!Number.isSafeInteger(globalPosition)) return undefined;
  return { transactionId: BigInt(match[1]!), globalPosition };
}

/** Orders positions as the event store reads them: by transaction, then by sequence. */
export function comparePositions(a: Position, b: Position): number {
  if (a.transactionId !== b.transactionId) return a.transactionId < b.transactionId ? -1 : 1;
  return a.globalPosition - b.globalPosition;
}
