import type pg from 'pg';

/**
 * `begin` for work rebuilt from the event log if lost: its commit does not wait for its WAL to reach
 * disk. A crash then loses at most the last ~0.6 s of such commits (3 × wal_writer_delay), each whole,
 * never half of one; a projector loses its checkpoint with its batch and applies that batch again.
 */
export const BEGIN_NO_FLUSH_WAIT = 'begin; set local synchronous_commit = off';

/**
 * Runs `fn` in one transaction on a client of its own: committed when it resolves, rolled back when
 * it throws (the throw goes on), the client released either way. `begin` may carry a mode
 * (`begin isolation level repeatable read read only`).
 */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>, begin = 'begin'): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(begin);
    const result = await fn(client);
    await client.query('commit');
    return result;
  } catch (e) {
    await client.query('rollback').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}

/**
 * Runs `fn` in a read-only repeatable-read snapshot on a client of its own. Nothing waits for the
 * snapshot's end (a round trip costs a request 1–3 ms on a busy small machine): a read-only snapshot
 * has nothing to commit, and the client goes back to the pool only once it has ended. Its statement
 * is sent on the next turn of the event loop, after the caller's continuation (the response) has
 * been written: a socket write cost ~0.6 ms of the event loop in profiles at 100,000 conversations.
 */
export async function withReadSnapshot<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  const end = (sql: string) =>
    setImmediate(() =>
      client.query(sql).then(
        () => client.release(),
        (e: Error) => client.release(e),
      ),
    );
  try {
    await client.query('begin isolation level repeatable read read only');
    const result = await fn(client);
    end('commit');
    return result;
  } catch (e) {
    end('rollback');
    throw e;
  }
}
