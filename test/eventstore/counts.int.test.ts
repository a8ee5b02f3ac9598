import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countArrayItems, countEventsAfter, redactStream, START, type Position } from '../../src/eventstore/index.js';
import { createIsolatedTestDatabase, type TestDatabase } from '../support/database.js';

// A server of its own: whether an event is below the gap-safe horizon must not depend on another
// test file's open transaction.
let db: TestDatabase;
beforeAll(async () => {
  db = await createIsolatedTestDatabase();
});
afterAll(() => db.drop());

const insert = `insert into events (stream_id, stream_version, event_id, type, data) values ($1, $2, $3, $4, $5)`;
const items = (n: number) => ({ messages: Array.from({ length: n }, (_, i) => ({ content: `m${i}` })) });

/** The count as the whole log gives it, summed afresh. */
async function summedAfresh(): Promise<number> {
  const { rows } = await db.pool.query(`select coalesce(sum(jsonb_array_length(data->'messages')), 0)::int as n from events where type = 'MessagesAppended'`);
  return rows[0].n;
}

describe('countArrayItems', () => {
  it('agrees with a fresh sum after every append, whatever the other event types hold', async () => {
    const stream = `s-${randomUUID()}`;
    let version = 0;
    for (const [type, data] of [
      ['MessagesAppended', items(3)],
      ['ConversationLabeled', { label: 'x', messages: [1, 2, 3, 4] }],
      ['MessagesAppended', items(1)],
      ['MessagesAppended', { other: true }],
      ['MessagesAppended', items(7)],
    ] as const) {
      await db.pool.query(insert, [stream, ++version, randomUUID(), type, JSON.stringify(data)]);
      expect(await countArrayItems(db.pool, 'MessagesAppended', 'messages')).toBe(await summedAfresh());
    }
    expect(await summedAfresh()).toBe(11);
  });

  it('counts an event whose transaction commits after a later one, before and after it commits', async () => {
    const before = await countArrayItems(db.pool, 'MessagesAppended', 'messages');
    const a = await db.pool.connect();
    const b = await db.pool.connect();
    try {
      await a.query('begin');
      await a.query(insert, [`s-${randomUUID()}`, 1, randomUUID(), 'MessagesAppended', JSON.stringify(items(2))]);
      await b.query('begin');
      await b.query(insert, [`s-${randomUUID()}`, 1, randomUUID(), 'MessagesAppended', JSON.stringify(items(5))]);
      await b.query('commit');
      // B is visible and A is not; A's lower transaction id holds the horizon below B.
      expect(await countArrayItems(db.pool, 'MessagesAppended', 'messages')).toBe(before + 5);
      await a.query('commit');
      expect(await countArrayItems(db.pool, 'MessagesAppended', 'messages')).toBe(before + 7);
      expect(await countArrayItems(db.pool, 'MessagesAppended', 'messages')).toBe(await summedAfresh());
    } finally {
      a.release();
      b.release();
    }
  });

  it('reads settled events once per handle: a later call sums only what came after', async () => {
    const stream = `s-${randomUUID()}`;
    await db.pool.query(insert, [stream, 1, randomUUID(), 'MessagesAppended', JSON.stringify(items(4))]);
    const counted = await countArrayItems(db.pool, 'MessagesAppended', 'messages');
    // Nothing the service does changes an array's length; done here only to see whether the event is read again.
    await db.pool.query(`update events set data = $2 where stream_id = $1`, [stream, JSON.stringify(items(9))]);
    expect(await countArrayItems(db.pool, 'MessagesAppended', 'messages')).toBe(counted);
    // Another handle has remembered nothing and sums the log as it is.
    const other = new pg.Pool({ connectionString: db.url, max: 1 });
    try {
      expect(await countArrayItems(other, 'MessagesAppended', 'messages')).toBe(counted + 5);
    } finally {
      await other.end();
      await db.pool.query(`update events set data = $2 where stream_id = $1`, [stream, JSON.stringify(items(4))]);
    }
  });

  it('keeps the count through a purge, which redacts items in place', async () => {
    const stream = `s-${randomUUID()}`;
    await db.pool.query(insert, [stream, 1, randomUUID(), 'MessagesAppended', JSON.stringify(items(6))]);
    const counted = await countArrayItems(db.pool, 'MessagesAppended', 'messages');
    const client = await db.pool.connect();
    try {
      await client.query('begin');
      await redactStream(client, stream, 2, (e) => ({ messages: (e.data as ReturnType<typeof items>).messages.map(() => ({ content: '[redacted]' })) }));
      await client.query('commit');
    } finally {
      client.release();
    }
    expect(await countArrayItems(db.pool, 'MessagesAppended', 'messages')).toBe(counted);
    expect(await summedAfresh()).toBe(counted);
    const { rows } = await db.pool.query(`select data from events where stream_id = $1`, [stream]);
    expect(rows[0].data.messages.map((m: { content: string }) => m.content)).toEqual(Array(6).fill('[redacted]'));
  });
});

/** Every event's position, in the order readers take them. */
async function positions(): Promise<Position[]> {
  const { rows } = await db.pool.query(`select transaction_id::text as tx, global_position as pos from events order by transaction_id, global_position`);
  return rows.map((r) => ({ transactionId: BigInt(r.tx), globalPosition: Number(r.pos) }));
}

/** The count and the oldest age as the log gives them, counted afresh. */
async function afterAfresh(p: Position) {
  const { rows } = await db.pool.query(
    `select count(*)::int as n, extract(epoch from now() - min(created_at))::float8 as seconds from events where (transaction_id, global_position) > ($1::text::xid8, $2::bigint)`,
    [p.transactionId.toString(), p.globalPosition],
  );
  return { count: rows[0].n as number, oldestSeconds: rows[0].seconds as number | null };
}

async function expectAsAfresh(p: Position) {
  const fresh = await afterAfresh(p);
  const counted = await countEventsAfter(db.pool, p);
  expect(counted.count, `after ${p.transactionId}:${p.globalPosition}`).toBe(fresh.count);
  if (fresh.oldestSeconds === null) expect(counted.oldestSeconds).toBeNull();
  else expect(counted.oldestSeconds!).toBeCloseTo(fresh.oldestSeconds, 0);
}

describe('countEventsAfter', () => {
  it('agrees with a fresh count at any checkpoint, moving forward or back, while the log grows', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 30 }), fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 1, maxLength: 6 }), async (appended, picks) => {
        const client = await db.pool.connect();
        try {
          await client.query('begin');
          for (let i = 0; i < appended; i++) await client.query(insert, [`s-${randomUUID()}`, 1, randomUUID(), 'A', '{}']);
          await client.query('commit');
        } finally {
          client.release();
        }
        const all = await positions();
        await expectAsAfresh(START);
        await expectAsAfresh(all.at(-1)!);
        for (const pick of picks) await expectAsAfresh(all[pick % all.length]!);
      }),
      { numRuns: 40 },
    );
  });

  it('counts events of a transaction that commits after a later one, and positions above the horizon', async () => {
    const before = (await positions()).at(-1)!;
    await expectAsAfresh(before);
    const a = await db.pool.connect();
    const b = await db.pool.connect();
    try {
      await a.query('begin');
      await a.query(insert, [`s-${randomUUID()}`, 1, randomUUID(), 'A', '{}']);
      await b.query('begin');
      for (let i = 0; i < 3; i++) await b.query(insert, [`s-${randomUUID()}`, 1, randomUUID(), 'B', '{}']);
      await b.query('commit');
      // A holds the horizon below B's events: B's are counted, and B's own positions lie above the horizon.
      expect((await countEventsAfter(db.pool, before)).count).toBe(3);
      const bs = (await positions()).slice(-3);
      for (const p of bs) await expectAsAfresh(p);
      await a.query('commit');
      expect((await countEventsAfter(db.pool, before)).count).toBe(4);
      for (const p of await positions()) await expectAsAfresh(p);
    } finally {
      a.release();
      b.release();
    }
  });

  it('reads settled events once per handle: a later call counts only what came after', async () => {
    const start = (await positions()).at(-1)!;
    for (let i = 0; i < 5; i++) await db.pool.query(insert, [`s-${randomUUID()}`, 1, randomUUID(), 'A', '{}']);
    expect((await countEventsAfter(db.pool, start)).count).toBe(5);
    // Nothing the service does deletes an event; done here only to see whether settled ones are counted again.
    const last = (await positions()).at(-1)!;
    await db.pool.query(`delete from events where global_position = $1`, [last.globalPosition]);
    try {
      expect((await countEventsAfter(db.pool, start)).count).toBe(5);
      const other = new pg.Pool({ connectionString: db.url, max: 1 });
      try {
        expect((await countEventsAfter(other, start)).count).toBe(4);
      } finally {
        await other.end();
      }
    } finally {
      await db.pool.query(`insert into events (global_position, transaction_id, stream_id, stream_version, event_id, type, data) overriding system value
        values ($1, $2::text::xid8, $3, 1, $4, 'A', '{}')`, [last.globalPosition, last.transactionId.toString(), `s-${randomUUID()}`, randomUUID()]);
    }
    await expectAsAfresh(start);
  });
});
