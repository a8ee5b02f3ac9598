import type pg from 'pg';
import { createHash } from 'node:crypto';
import { ResultAsync } from 'neverthrow';
import { apiError, unavailable, type ApiError } from '../http/errors.js';

/**
 * A statement PostgreSQL plans once per connection rather than on every call: named by its text's
 * hash, so one text is one prepared statement. For the read path's statements, whose planning cost
 * as much as their execution at 1,000 bench conversations (the first BM25 statement: ~3 ms of ~6).
 * Only for texts that hold no values (those are parameters): each distinct text stays prepared on
 * each connection. PostgreSQL re-plans it when a table or view it reads is replaced (a blue/green switch).
 */
export const prepared = (text: string, values: unknown[]): pg.QueryConfig => ({ name: statementName(text), text, values });

const statementNames = new Map<string, string>();
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `sekha_${createHash('sha1').update(text).digest('base64url').slice(0, 20)}`;
    statementNames.set(text, name);
  }
  return name;
}

/**
 * Runs a read query (`prepared`: see prepared()); a failure is an ApiError, never a throw: a value Postgres cannot take (class 22,
 * "data exception": e.g. a NUL byte or an out-of-range date) is the caller's 400, anything else a 503.
 */
export function readQuery<R extends pg.QueryResultRow>(pool: pg.Pool, text: string, values: unknown[] = [], how: 'planned' | 'prepared' = 'planned'): ResultAsync<R[], ApiError> {
  return ResultAsync.fromPromise(
    retryingDeadlocks(() => pool.query<R>(how === 'prepared' ? prepared(text, values) : { text, values }).then((r) => r.rows)),
    queryError,
  );
}

/**
 * Runs a read again when PostgreSQL chose it as a deadlock's victim (40P01), twice at most. A
 * blue/green switch replaces the views a query reads one by one; a read that holds one view while it
 * waits for the next deadlocks with it unless both take them in one order (LEXICAL_VIEWS keeps the
 * lexical ones in the order today's queries lock them; a query written later may not). A read has
 * nothing to undo, and the switch has committed by the time it runs again.
 */
export async function retryingDeadlocks<T>(read: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (e) {
      if ((e as { code?: string }).code !== '40P01' || attempt >= attempts) throw e;
    }
  }
}

/** A failed read query as an ApiError: a value Postgres cannot take is a 400, anything else a 503. */
export function queryError(e: unknown): ApiError {
  const code = (e as { code?: string }).code ?? '';
  if (code.startsWith('22')) return apiError('invalid_input', 'a value in this request cannot be used in a query', { reason: (e as Error).message });
  return unavailable('the read database');
}

/** Collects SQL conditions and their parameters: `add('label = ?', v)` numbers the placeholder. */
export class Conditions {
  readonly parts: string[] = [];
  readonly values: unknown[] = [];

  add(sql: string, ...values: unknown[]): this {
    let text = sql;
    for (const v of values) {
      this.values.push(v);
      text = text.replace('?', `$${this.values.length}`);
    }
    this.parts.push(text);
    return this;
  }

  /** The next placeholder for a value used outside a condition (limit, offset…). */
  param(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }

  get where(): string {
    return this.parts.length ? `where ${this.parts.join(' and ')}` : '';
  }
}
