import { err, ok, type Result } from 'neverthrow';
import { apiError, type ApiError } from '../http/errors.js';

/** An opaque keyset cursor: base64url JSON of where the last page ended. */
export const encodeCursor = (value: Record<string, unknown>): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Decodes a cursor this API gave; `check` says whether its shape fits this query. */
export function decodeCursor<T>(raw: string, check: (v: unknown) => v is T): Result<T, ApiError> {
  const bad = apiError('invalid_input', 'query.cursor: is not a cursor this query gave (pass next_cursor back unchanged)', {
    field: 'query.cursor',
    reason: 'not a cursor of this query',
  });
  if (!/^[A-Za-z0-9_-]{1,2000}$/.test(raw)) return err(bad);
  try {
    const value: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    return check(value) ? ok(value) : err(bad);
  } catch {
    return err(bad);
  }
}
