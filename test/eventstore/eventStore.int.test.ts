import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventStore, START, comparePositions, type EventStore, type Position } from '../../src/eventstore/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { appendHeldOpen, untilWaitingOnLock } from './support/inFlight.js';

let db: TestDatabase;
let store: EventStore;
const meta = { actor: 'test' };

beforeAll(async () => {
  db = await createTestDatabase({ poolSize: 60 });
  store = createEventStore(db.pool);
});
afterAll(() => db.drop());

async function readEverything(after: Position = START) {
  const all = await store.readAll(after, 10_000);
  return all._unsafeUnwrap();
}

/**
 * Reads until `done` holds or a deadline passes. The xmin horizon is cluster-wide: a transaction still
 * open in another database (another test file) rightly holds readers back for a moment.
 */
async function readUntil(after: Position, done: (events: Awaited<ReturnType<typeof readEverything>>) => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = await readEverything(after);
    if (done(events) || Date.now() > deadline) return events;
    await new Promise((r) => setImmediate(r));
  }
}

describe('append', () => {
  it('appends in order and reads the stream back', async () => {
    const stream = `s-${randomUUID()}`;
    const first = (await store.append(stream, 0, [{ type: 'A', data: { n: 1 } }, { type: 'B', data: { n: 2 } }], meta))._unsafeUnwrap();
    expect(first.nextVersion).toBe(2);
    expect(first.duplicate).toBe(false);
    const second = (await store.append(stream, 2, [{ type: 'C', data: { n: 3 } }], meta))._unsafeUnwrap();
    expect(second.nextVersion).toBe(3);
    const events = (await store.readStream(stream))._unsafeUnwrap();
    expect(events.map((e) => [e.type, e.streamVersion, e.data])).toEqual([
      ['A', 1, { n: 1 }],
      ['B', 2, { n: 2 }],
      ['C', 3, { n: 3 }],
    ]);
    expect(events[0]!.metadata.actor).toBe('test');
    expect(comparePositions(first.position, second.position)).toBeLessThan(0);
  });

  it('answers the written events as a read gives them, with and without the withinAppend transaction', async () => {
    const stream = `s-${randomUUID()}`;
    const at = new Date('2026-01-02T03:04:05.678Z');
    // Data that JSON changes (a Date, an undefined field), ids in spellings PostgreSQL accepts for a uuid.
    const events = [
      { type: 'A', data: { at, gone: undefined, text: 'é\n"x"', nested: { list: [1, 2.5, null], big: 2 ** 53 } }, eventId: randomUUID().toUpperCase() },
      { type: 'B', data: [{ b: true }], eventId: randomUUID().replaceAll('-', '') },
      { type: 'C', data: 'just a string' },
    ];
    const written = (await store.append(stream, 0, events, { ...meta, request_id: 'r-1' }))._unsafeUnwrap();
    let withinSaw: unknown;
    const more = (await store.append(stream, 3, [{ type: 'D', data: { at } }], meta, async (_client, appended) => void (withinSaw = appended)))._unsafeUnwrap();
    const read = (await store.readStream(stream))._unsafeUnwrap();
    expect(written.events).toEqual(read.slice(0, 3));
    expect(more.events).toEqual(read.slice(3));
    expect(withinSaw).toEqual(read.slice(3));
    expect(read[0]!.data).toEqual({ at: at.toISOString(), text: 'é\n"x"', nested: { list: [1, 2.5, null], big: 2 ** 53 } });
    expect(written.position).toEqual(read[2]!.position);
  });

  it('turns a stale expected version into a typed conflict and writes nothing', async () => {
    const stream = `s-${randomUUID()}`;
    await store.append(stream, 0, [{ type: 'A', data: {} }], meta);
    const stale = await store.append(stream, 0, [{ type: 'B', data: {} }], meta);
    expect(stale._unsafeUnwrapErr()).toMatchObject({ type: 'version_conflict', expected: 0, actual: 1 });
    expect((await store.readStream(stream))._unsafeUnwrap()).toHaveLength(1);
  });

  it('appends nothing twice when the same event ids come again', async () => {
    const stream = `s-${randomUUID()}`;
    const ids = [randomUUID(), randomUUID()];
    const events = [
      { type: 'A', data: {}, eventId: ids[0] },
      { type: 'B', data: {}, eventId: ids[1] },
    ];
    const first = (await store.append(stream, 0, events, meta))._unsafeUnwrap();
    const retry = (await store.append(stream, 0, events, meta))._unsafeUnwrap();
    expect(retry.duplicate).toBe(true);
    expect(retry.position).toEqual(first.position);
    expect((await store.readStream(stream))._unsafeUnwrap()).toHaveLength(2);
  });

  it('lets exactly one of 50 concurrent appends with the same expected version win', async () => {
    const stream = `s-${randomUUID()}`;
    await store.append(stream, 0, [{ type: 'A', data: {} }], meta);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.append(stream, 1, [{ type: 'B', data: { i } }], meta)));
    expect(results.filter((r) => r.isOk())).toHaveLength(1);
    const failures = results.filter((r) => r.isErr()).map((r) => r._unsafeUnwrapErr().type);
    expect(failures).toEqual(Array(49).fill('version_conflict'));
    // Each loser names the winner's version, though the stream was at the expected one when it began.
    expect(new Set(results.filter((r) => r.isErr()).map((r) => (r._unsafeUnwrapErr() as { actual: number }).actual))).toEqual(new Set([2]));
    expect((await store.readStream(stream))._unsafeUnwrap()).toHaveLength(2);
  });

  it("lets 30 concurrent appends to one stream at version 'any' all succeed, in consecutive versions", async () => {
    const stream = `s-${randomUUID()}`;
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => store.append(stream, 'any', [{ type: 'A', data: { i } }, { type: 'B', data: { i } }], meta)));
    expect(results.every((r) => r.isOk())).toBe(true);
    expect(results.map((r) => r._unsafeUnwrap().nextVersion).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => 2 * (i + 1)));
    const events = (await store.readStream(stream))._unsafeUnwrap();
    expect(events.map((e) => e.streamVersion)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    // Each append's two events are adjacent: nobody got in between.
    for (let i = 0; i < 60; i += 2) expect(events[i]!.data).toEqual(events[i + 1]!.data);
  });

  it('names the current version of a stale append, and of an append to a stream that does not exist', async () => {
    const stream = `s-${randomUUID()}`;
    await store.append(stream, 0, [{ type: 'A', data: {} }, { type: 'B', data: {} }], meta);
    expect((await store.append(stream, 1, [{ type: 'C', data: {} }], meta))._unsafeUnwrapErr()).toMatchObject({ type: 'version_conflict', expected: 1, actual: 2 });
    expect((await store.append(`s-${randomUUID()}`, 3, [{ type: 'C', data: {} }], meta))._unsafeUnwrapErr()).toMatchObject({ type: 'version_conflict', expected: 3, actual: 0 });
  });

  it('tells a retry whose ids are partly stored for another append from a duplicate, writing nothing', async () => {
    const stream = `s-${randomUUID()}`;
    const id = randomUUID();
    await store.append(stream, 0, [{ type: 'A', data: {}, eventId: id }], meta);
    const mixed = await store.append(stream, 1, [{ type: 'A', data: {}, eventId: id }, { type: 'B', data: {}, eventId: randomUUID() }], meta);
    expect(mixed._unsafeUnwrapErr().type).toBe('idempotency_mismatch');
    const elsewhere = await store.append(`s-${randomUUID()}`, 0, [{ type: 'A', data: {}, eventId: id }], meta);
    expect(elsewhere._unsafeUnwrapErr().type).toBe('idempotency_mismatch');
    expect((await store.readStream(stream))._unsafeUnwrap()).toHaveLength(1);
  });

  it('of 20 concurrent retries with the same ids, one appends and the others answer its events as duplicates', async () => {
    const stream = `s-${randomUUID()}`;
    const events = [{ type: 'A', data: {}, eventId: randomUUID() }, { type: 'B', data: {}, eventId: randomUUID() }];
    const results = (await Promise.all(Array.from({ length: 20 }, () => store.append(stream, 0, events, meta)))).map((r) => r._unsafeUnwrap());
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    const first = results.find((r) => !r.duplicate)!;
    for (const r of results) expect(r.position).toEqual(first.position);
    expect((await store.readStream(stream))._unsafeUnwrap()).toHaveLength(2);
  });

  it.each([0, 1, 'any'] as const)('answers a retry that waited on its original in flight (expected %s) as its duplicate', async (expected) => {
    const stream = `s-${randomUUID()}`;
    if (expected !== 0) await store.append(stream, 0, [{ type: 'Start', data: {} }], meta);
    const events = [{ type: 'A', data: { n: 1 }, eventId: randomUUID() }, { type: 'B', data: { n: 2 }, eventId: randomUUID() }];
    // The original has written and holds its transaction open until the retry waits on it.
    const { original, release } = await appendHeldOpen(store, stream, expected, events, meta);
    const retry = store.append(stream, expected, events, meta);
    await untilWaitingOnLock(db.pool, 'the retry waiting on its original');
    release();
    const [first, second] = [(await original)._unsafeUnwrap(), (await retry)._unsafeUnwrap()];
    expect([first.duplicate, second.duplicate]).toEqual([false, true]);
    expect(second.position).toEqual(first.position);
    expect(second.events.map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }]);
    expect((await store.readStream(stream))._unsafeUnwrap()).toHaveLength(expected === 0 ? 2 : 3);
  });

  it("catches up with events written without the streams table (a writer of an older version), answering each append truly", async () => {
    // Rows as an older version wrote them during an upgrade: events only, no row in streams.
    const legacy = async (stream: string, versions: number[]) => {
      for (const v of versions) {
        await db.pool.query(`insert into events (stream_id, stream_version, event_id, type, data) values ($1, $2, $3, 'Old', '{}')`, [stream, v, randomUUID()]);
      }
    };
    const a = `s-${randomUUID()}`;
    await legacy(a, [1, 2]);
    expect((await store.append(a, 2, [{ type: 'New', data: {} }], meta))._unsafeUnwrap().nextVersion).toBe(3);
    const b = `s-${randomUUID()}`;
    await legacy(b, [1, 2]);
    expect((await store.append(b, 0, [{ type: 'New', data: {} }], meta))._unsafeUnwrapErr()).toMatchObject({ type: 'version_conflict', actual: 2 });
    // A stream the table knows, moved on by the older writer.
    const c = `s-${randomUUID()}`;
    await store.append(c, 0, [{ type: 'New', data: {} }], meta);
    await legacy(c, [2, 3]);
    expect((await store.append(c, 1, [{ type: 'New', data: {} }], meta))._unsafeUnwrapErr()).toMatchObject({ type: 'version_conflict', actual: 3 });
    expect((await store.append(c, 'any', [{ type: 'New', data: {} }], meta))._unsafeUnwrap().nextVersion).toBe(4);
    expect((await store.readStream(c))._unsafeUnwrap().map((e) => e.streamVersion)).toEqual([1, 2, 3, 4]);
  });

  it('commits the withinAppend work with the events, and neither when it throws', async () => {
    const stream = `s-${randomUUID()}`;
    await db.pool.query('create table if not exists within_probe (stream_id text, n int)');
    const ok = await store.append(stream, 0, [{ type: 'A', data: {} }], meta, async (client, appended) => {
      await client.query('insert into within_probe values ($1, $2)', [stream, appended.length]);
    });
    expect(ok._unsafeUnwrap().nextVersion).toBe(1);
    const failed = await store.append(stream, 1, [{ type: 'B', data: {} }], meta, async (client) => {
      await client.query('insert into within_probe values ($1, 99)', [stream]);
      throw new Error('no');
    });
    expect(failed._unsafeUnwrapErr().type).toBe('store_unavailable');
    expect((await db.pool.query('select n from within_probe where stream_id = $1', [stream])).rows).toEqual([{ n: 1 }]);
    expect((await store.readStream(stream))._unsafeUnwrap()).toHaveLength(1);
    // The stream's version did not move either: the next append at 1 wins.
    expect((await store.append(stream, 1, [{ type: 'C', data: {} }], meta))._unsafeUnwrap().nextVersion).toBe(2);
  });

  it('lets 50 concurrent appends to 50 streams all succeed', async () => {
    const before = (await db.pool.query('select count(*)::int as n from events')).rows[0].n as number;
    const streams = Array.from({ length: 50 }, () => `s-${randomUUID()}`);
    const results = await Promise.all(streams.map((s) => store.append(s, 0, [{ type: 'A', data: {} }], meta)));
    expect(results.every((r) => r.isOk())).toBe(true);
    const after = (await db.pool.query('select count(*)::int as n from events')).rows[0].n as number;
    expect(after - before).toBe(50);
  });
});

describe('readAll', () => {
  it('never skips an event whose transaction commits after a later one', async () => {
    const head = (await store.readHead())._unsafeUnwrap()?.position ?? START;
    const a = await db.pool.connect();
    const b = await db.pool.connect();
    try {
      const insert = `insert into events (stream_id, stream_version, event_id, type, data) values ($1, 1, $2, $3, '{}') returning global_position`;
      await a.query('begin');
      const posA = (await a.query(insert, [`s-${randomUUID()}`, randomUUID(), 'A'])).rows[0].global_position;
      await b.query('begin');
      const posB = (await b.query(insert, [`s-${randomUUID()}`, randomUUID(), 'B'])).rows[0].global_position;
      expect(Number(posB)).toBeGreaterThan(Number(posA));
      await b.query('commit');

      // B is committed but A, with the lower position, is still running: a reader must wait for A.
      const between = await readEverything(head);
      expect(between.map((e) => e.type)).not.toContain('B');

      await a.query('commit');
      const after = await readUntil(head, (events) => events.length >= 2);
      expect(after.map((e) => e.type)).toEqual(['A', 'B']);
    } finally {
      a.release();
      b.release();
    }
  });

  it('a reader paging while 8 writers append concurrently sees every event exactly once', async () => {
    const start = (await store.readHead())._unsafeUnwrap()?.position ?? START;
    const tag = randomUUID();
    const written: string[] = [];
    let writing = true;
    const writers = Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        const stream = `race-${tag}-${w}`;
        for (let v = 0; v < 25; v++) {
          const r = (await store.append(stream, v * 2, [{ type: 'R', data: { tag } }, { type: 'R', data: { tag } }], meta))._unsafeUnwrap();
          written.push(...r.events.map((e) => e.eventId));
        }
      }),
    ).finally(() => (writing = false));
    const seen: string[] = [];
    let checkpoint = start;
    const deadline = Date.now() + 30_000;
    while ((writing || seen.length < written.length) && Date.now() < deadline) {
      const page = (await store.readAll(checkpoint, 7))._unsafeUnwrap();
      for (const e of page) {
        expect(comparePositions(e.position, checkpoint)).toBeGreaterThan(0);
        checkpoint = e.position;
        if ((e.data as { tag?: string }).tag === tag) seen.push(e.eventId);
      }
      if (page.length === 0) await new Promise((r) => setImmediate(r));
    }
    await writers;
    expect(seen).toHaveLength(8 * 25 * 2);
    expect(new Set(seen)).toEqual(new Set(written));
  });

  it('reads in pages from a checkpoint without gaps or repeats', async () => {
    const stream = `s-${randomUUID()}`;
    const start = (await store.readHead())._unsafeUnwrap()?.position ?? START;
    for (let i = 0; i < 7; i++) await store.append(stream, i, [{ type: 'P', data: { i } }], meta);
    await readUntil(start, (events) => events.filter((e) => e.streamId === stream).length === 7);
    let checkpoint = start;
    const seen: number[] = [];
    for (;;) {
      const page = (await store.readAll(checkpoint, 3))._unsafeUnwrap();
      if (page.length === 0) break;
      seen.push(...page.filter((e) => e.streamId === stream).map((e) => (e.data as { i: number }).i));
      checkpoint = page.at(-1)!.position;
    }
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});
