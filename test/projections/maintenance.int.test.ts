import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventStore, type EventStore, type Position } from '../../src/eventstore/index.js';
import { withMaintenanceTransaction } from '../../src/projections/maintenance.js';
import { createIsolatedTestDatabase, type TestDatabase } from '../support/database.js';
import { until } from '../support/until.js';

/**
 * A maintenance transaction (long, writing no events) is not waited for by gap-safe readers of the
 * log, while any other open transaction still is. On a server of its own: the horizon is
 * cluster-wide, and other files' transactions would blur what these readers wait for.
 */
let db: TestDatabase;
let store: EventStore;
const meta = { actor: 'test' };

beforeAll(async () => {
  db = await createIsolatedTestDatabase();
  store = createEventStore(db.pool);
  await db.pool.query('create table maintenance_scratch (n int)');
}, 120_000);
afterAll(() => db?.drop());

const ids = async (after: Position) => (await store.readAll(after, 1000))._unsafeUnwrap().map((e) => e.streamId);
const appendOne = async () => {
  const stream = `s-${randomUUID()}`;
  (await store.append(stream, 0, [{ type: 'A', data: {} }], meta))._unsafeUnwrap();
  return stream;
};

describe('a maintenance transaction', () => {
  it('does not hold back readers of the log while it runs, nor leave its registration behind', async () => {
    const head = (await store.readHorizon())._unsafeUnwrap();
    let written: string | undefined;
    let seenDuring: string[] = [];
    let horizonDuring: Position | undefined;
    await withMaintenanceTransaction(db.pool, 'test', async (client) => {
      // It has an id (it writes), so a plain snapshot's xmin would stop at it.
      await client.query('insert into maintenance_scratch values (1)');
      written = await appendOne();
      await until(async () => (seenDuring = await ids(head)).includes(written!), 10_000, 'the append during maintenance to be read');
      horizonDuring = (await store.readHorizon())._unsafeUnwrap();
    });
    expect(seenDuring).toContain(written);
    expect(horizonDuring!.transactionId).toBeGreaterThan(head.transactionId);
    expect((await db.pool.query('select count(*)::int as n from maintenance_transactions')).rows[0].n).toBe(0);
    expect((await db.pool.query('select count(*)::int as n from maintenance_scratch')).rows[0].n).toBe(1);
  });

  it('rolls back like any transaction when its work throws, and leaves no registration', async () => {
    await expect(
      withMaintenanceTransaction(db.pool, 'test', async (client) => {
        await client.query('insert into maintenance_scratch values (2)');
        throw new Error('broken build');
      }),
    ).rejects.toThrow('broken build');
    expect((await db.pool.query('select count(*)::int as n from maintenance_scratch where n = 2')).rows[0].n).toBe(0);
    expect((await db.pool.query('select count(*)::int as n from maintenance_transactions')).rows[0].n).toBe(0);
  });
});

describe('any other open transaction', () => {
  it('still holds readers back until it ends', async () => {
    const head = (await store.readHorizon())._unsafeUnwrap();
    const other = await db.pool.connect();
    try {
      await other.query('begin');
      await other.query('insert into maintenance_scratch values (3)');
      const written = await appendOne();
      // Committed, yet behind an older open transaction: not read yet.
      expect(await ids(head)).not.toContain(written);
      await other.query('commit');
      await until(async () => (await ids(head)).includes(written), 10_000, 'the append to be read once the other transaction ended');
    } finally {
      other.release();
    }
  });
});
