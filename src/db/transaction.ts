import type pg from 'pg';

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
