import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countArrayItems, redactStream } from '../../src/eventstore/index.js';
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
