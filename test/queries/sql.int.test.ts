import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '../../src/db/transaction.js';
import { retryingDeadlocks } from '../../src/queries/sql.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { until } from '../support/until.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase({ migrate: false });
  await db.pool.query('create table first_view (n int); create table second_view (n int); insert into first_view values (1); insert into second_view values (2)');
});
afterAll(() => db.drop());

describe('retryingDeadlocks', () => {
  it('runs a read again when it was a deadlock victim, as with a switch that replaces two views in the other order', async () => {
    const switcher = await db.pool.connect();
    const errors: string[] = [];
    try {
      await switcher.query('begin');
      // Only the read may detect the cycle: under load the switch's own check could run first and
      // make it the victim instead (seen once in CI).
      await switcher.query(`set local deadlock_timeout = '10min'`);
      await switcher.query('lock table second_view in access exclusive mode');
      // The read holds the first view and waits for the second; the switch then wants the first: a cycle.
      const read = retryingDeadlocks(async () => {
        try {
          return await withTransaction(db.pool, async (c) => {
            const first = (await c.query<{ n: number }>('select n from first_view')).rows[0]!.n;
            const second = (await c.query<{ n: number }>('select n from second_view')).rows[0]!.n;
            return first + second;
          });
        } catch (e) {
          errors.push((e as { code?: string }).code ?? 'none');
          throw e;
        }
      });
      await until(async () => (await db.pool.query(`select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`)).rows.length > 0, 10_000, 'the read to wait');
      // The read's deadlock check finds the cycle, so the read is the victim; the switch goes on.
      await switcher.query('lock table first_view in access exclusive mode');
      await switcher.query('commit');
      expect(await read).toBe(3);
      expect(errors).toEqual(['40P01']);
    } finally {
      // Never back into the pool in a failed transaction (the next test would get it).
      switcher.release(true);
    }
  });

  it('does not run again any other failure', async () => {
    let attempts = 0;
    await expect(
      retryingDeadlocks(async () => {
        attempts++;
        return db.pool.query('select no_such_column from first_view');
      }),
    ).rejects.toThrow(/no_such_column/);
    expect(attempts).toBe(1);
  });
});
