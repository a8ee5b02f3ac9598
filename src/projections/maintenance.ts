import pg from 'pg';
import { withTransaction } from '../db/transaction.js';

/**
 * Runs `fn` in one transaction that gap-safe readers of the log do not wait for (see
 * SAFE_HORIZON_SQL): for long maintenance, such as a rebuild's bulk build, that must not hold every
 * projector back while it runs. `fn` must write no events. The transaction's id is registered from a
 * connection of its own (committed at once, so readers see it; a pool of one would wait on itself)
 * before `fn` runs, and removed once it has ended.
 */
export async function withMaintenanceTransaction<T>(pool: pg.Pool, what: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const registrar = await untimedClient(pool);
  let id: string | undefined;
  try {
    return await withTransaction(pool, async (client) => {
      // Maintenance takes as long as it takes: the pool's statement timeout is for requests (under
      // load even the build's table creation outlasted a short one).
      await client.query('set local statement_timeout = 0');
      id = (await client.query<{ id: string }>('select pg_current_xact_id()::text as id')).rows[0]!.id;
      // Rows of maintenance that ended without removing its row (a crash) go with the next one.
      await registrar.query(
        `with gone as (delete from maintenance_transactions where transaction_id < pg_snapshot_xmin(pg_current_snapshot()))
         insert into maintenance_transactions (transaction_id, what) values ($1::text::xid8, $2)`,
        [id, what],
      );
      return fn(client);
    });
  } finally {
    if (id !== undefined) await registrar.query('delete from maintenance_transactions where transaction_id = $1::text::xid8', [id]).catch(() => {});
    await registrar.end().catch(() => {});
  }
}

/**
 * A connection of its own to the pool's database, without the pool's statement timeout (that is for
 * requests; maintenance takes as long as it takes). The caller ends it.
 */
async function untimedClient(pool: pg.Pool): Promise<pg.Client> {
  const client = new pg.Client(pool.options);
  await client.connect();
  try {
    await client.query('set statement_timeout = 0');
  } catch (e) {
    await client.end().catch(() => {});
    throw e;
  }
  return client;
}

/** Vacuums and analyzes tables: outside any transaction, which is why it needs a connection of its own. */
export async function vacuumTables(pool: pg.Pool, tables: readonly string[]): Promise<void> {
  const client = await untimedClient(pool);
  try {
    await client.query(`vacuum (analyze) ${tables.join(', ')}`);
  } finally {
    await client.end().catch(() => {});
  }
}
