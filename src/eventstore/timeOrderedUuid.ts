import { randomUUID } from 'node:crypto';

let prefixMs = -1;
let prefix = '';

/**
 * A UUIDv7 (RFC 9562): the Unix time in milliseconds, then random bits. Ids made one after another
 * sort by time, so a unique index on them grows at its right edge (its last leaf page, reached
 * without a descent) instead of touching a random leaf per insert as random (v4) ids do.
 * Within one millisecond the order is random. The random bits are `randomUUID`'s (node's pooled
 * entropy), and the time prefix is spelled once per millisecond: the `uuid` package's `v7` costs
 * about ten times as much per id.
 */
export function timeOrderedUuid(): string {
  const now = Date.now();
  if (now !== prefixMs) {
    const hex = now.toString(16).padStart(12, '0');
    prefix = `${hex.slice(0, 8)}-${hex.slice(8)}-7`;
    prefixMs = now;
  }
  // randomUUID: xxxxxxxx-xxxx-4xxx-Nxxx-xxxxxxxxxxxx; its version digit gives way to 7, its variant stays.
  return prefix + randomUUID().slice(15);
}
