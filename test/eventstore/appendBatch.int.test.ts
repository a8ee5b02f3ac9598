import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPEND_SQL } from '../../src/eventstore/append.js';
import { APPEND_BATCH_SQL } from '../../src/eventstore/appendBatch.js';
import { createEventStore, type AppendError, type AppendResult, type EventStore, type ExpectedVersion, type NewEvent } from '../../src/eventstore/index.js';
import type { Result } from 'neverthrow';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { appendHeldOpen, untilWaitingOnLock } from './support/inFlight.js';

let db: TestDatabase;
let store: EventStore;
const meta = { actor: 'test' };

beforeAll(async () => {
  db = await createTestDatabase({ poolSize: 40 });
  // One statement in flight before appends queue, so that which appends share a batch is known.
  store = createEventStore(db.pool, { batch: { concurrency: 1 } });
});
afterAll(() => db.drop());

const newStream = () => `b-${randomUUID()}`;
const event = (n: number, eventId?: string): NewEvent => ({ type: 'E', data: { n }, ...(eventId ? { eventId } : {}) });

/**
 * Appends started in one turn of the event loop: the first finds nothing in flight and goes alone at
 * once; the others queue behind it and go together as the next batch (one per stream).
 */
async function inOneTurn(appends: Array<() => PromiseLike<Result<AppendResult, AppendError>>>, on = store) {
  const before = { ...on.appendBatches };
  const results = await Promise.all(appends.map((a) => a()));
  const after = on.appendBatches;
  return {
    results,
    batches: after.batches - before.batches,
    batchedAppends: after.batchedAppends - before.batchedAppends,
    fallbacks: after.fallbacks - before.fallbacks,
  };
}

/** Something for the batcher to have in flight, so that what follows in the same turn is batched. */
const opener = () => store.append(newStream(), 0, [event(0)], meta);

const readStream = async (stream: string) => (await store.readStream(stream))._unsafeUnwrap();

describe('append batching', () => {
  it('commits concurrent appends to many streams in one statement, each answered as alone', async () => {
    const streams = Array.from({ length: 40 }, newStream);
    // Text that array literals must quote: quotes, backslashes, braces, commas, newlines, non-ASCII, NULL as a word.
    const awkward = 'é\n"x" \\ {a,b} NULL';
    const eventsOf = (i: number) => Array.from({ length: 1 + (i % 4) }, (_, k) => ({ type: 'E', data: { n: k, text: awkward, list: [i, null] } }));
    const run = await inOneTurn([opener, ...streams.map((s, i) => () => store.append(s, 0, eventsOf(i), { ...meta, i, note: awkward }))]);
    expect(run.batches).toBe(1);
    expect(run.batchedAppends).toBe(40);
    expect(run.fallbacks).toBe(0);
    const answers = run.results.slice(1).map((r) => r._unsafeUnwrap());
    for (const [i, s] of streams.entries()) {
      const stored = await readStream(s);
      expect(answers[i]!.events).toEqual(stored);
      expect(answers[i]!.nextVersion).toBe(1 + (i % 4));
      expect(answers[i]!.position).toEqual(stored.at(-1)!.position);
      expect(answers[i]!.duplicate).toBe(false);
      expect(stored.map((e) => e.data)).toEqual(eventsOf(i).map((e) => e.data));
      expect(stored[0]!.metadata).toEqual({ ...meta, i, note: awkward });
    }
    // One transaction: one commit for the forty.
    expect(new Set(answers.map((a) => a.position.transactionId)).size).toBe(1);
  });

  it('sends a lone writer alone, at once', async () => {
    const before = { ...store.appendBatches };
    const stream = newStream();
    for (let v = 0; v < 5; v++) expect((await store.append(stream, v, [event(v)], meta)).isOk()).toBe(true);
    expect(store.appendBatches).toEqual(before);
  });

  it('sends as many appends as its concurrency at once, side by side, and batches those that come while they are in flight', async () => {
    const pair = createEventStore(db.pool, { batch: { concurrency: 2 } });
    const twice = await Promise.all([newStream(), newStream()].map((s) => pair.append(s, 0, [event(1)], meta)));
    expect(twice.every((r) => r.isOk())).toBe(true);
    expect(pair.appendBatches.batches).toBe(0);
    const six = await Promise.all(Array.from({ length: 6 }, newStream).map((s) => pair.append(s, 0, [event(1)], meta)));
    expect(six.every((r) => r.isOk())).toBe(true);
    expect(pair.appendBatches).toMatchObject({ batches: 1, batchedAppends: 4 });
  });

  it("keeps each append's version check: one stream's conflict fails no other append", async () => {
    const [a, b, c, d, e, f, g] = Array.from({ length: 7 }, newStream);
    await store.append(a!, 0, [event(1)], meta);
    await store.append(b!, 0, [event(1), event(2)], meta);
    await store.append(e!, 0, [event(1)], meta);
    await store.append(g!, 0, [event(1)], meta);
    const run = await inOneTurn([
      opener,
      () => store.append(a!, 1, [event(2)], meta), // right
      () => store.append(b!, 1, [event(3)], meta), // stale
      () => store.append(c!, 0, [event(1)], meta), // new
      () => store.append(d!, 3, [event(4)], meta), // a stream that does not exist
      () => store.append(e!, 'any', [event(2), event(3)], meta),
      () => store.append(f!, 'any', [event(1)], meta), // 'any' to a new stream
      () => store.append(g!, 0, [event(2)], meta), // a stream that exists, as new
    ]);
    expect(run.batches).toBe(1);
    const [, ra, rb, rc, rd, re, rf, rg] = run.results;
    expect(ra!._unsafeUnwrap().nextVersion).toBe(2);
    expect(rb!._unsafeUnwrapErr()).toEqual({ type: 'version_conflict', streamId: b, expected: 1, actual: 2 });
    expect(rc!._unsafeUnwrap().nextVersion).toBe(1);
    expect(rd!._unsafeUnwrapErr()).toEqual({ type: 'version_conflict', streamId: d, expected: 3, actual: 0 });
    expect(re!._unsafeUnwrap().nextVersion).toBe(3);
    expect(rf!._unsafeUnwrap().nextVersion).toBe(1);
    expect(rg!._unsafeUnwrapErr()).toEqual({ type: 'version_conflict', streamId: g, expected: 0, actual: 1 });
    expect((await readStream(a!)).map((x) => x.data)).toEqual([{ n: 1 }, { n: 2 }]);
    expect((await readStream(b!)).map((x) => x.data)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(await readStream(d!)).toEqual([]);
    expect((await readStream(e!)).map((x) => x.streamVersion)).toEqual([1, 2, 3]);
    expect(await readStream(g!)).toHaveLength(1);
  });

  it('answers retries and reused ids inside a batch as alone: duplicates, mismatches, new appends', async () => {
    const [s, t, u] = [newStream(), newStream(), newStream()];
    const ids = [randomUUID(), randomUUID()];
    const original = (await store.append(s, 0, [event(1, ids[0]), event(2, ids[1])], meta))._unsafeUnwrap();
    const fresh = [randomUUID(), randomUUID()];
    // The retry of u must go after its original's batch: a statement in flight past the stall time
    // (50 ms, which a loaded machine's batch can take) would let it go beside it, and win.
    const patient = createEventStore(db.pool, { batch: { concurrency: 1, stallMs: 60_000 } });
    const run = await inOneTurn(
      [
        () => patient.append(newStream(), 0, [event(0)], meta),
        () => patient.append(s, 0, [event(1, ids[0]), event(2, ids[1])], meta), // a retry
        () => patient.append(t, 0, [event(1, ids[0]), event(2, randomUUID())], meta), // one id of another append
        () => patient.append(u, 0, [event(1, fresh[0]), event(2, fresh[1])], meta),
        () => patient.append(u, 0, [event(1, fresh[0]), event(2, fresh[1])], meta), // its retry, in the batch after
      ],
      patient,
    );
    expect(run.batches).toBe(1);
    const [, retry, mismatch, first, again] = run.results;
    expect(retry!._unsafeUnwrap()).toMatchObject({ duplicate: true, position: original.position, nextVersion: 2 });
    expect(retry!._unsafeUnwrap().events).toEqual(original.events);
    expect(mismatch!._unsafeUnwrapErr().type).toBe('idempotency_mismatch');
    expect(first!._unsafeUnwrap().duplicate).toBe(false);
    expect(again!._unsafeUnwrap()).toMatchObject({ duplicate: true, position: first!._unsafeUnwrap().position });
    expect(await readStream(s)).toHaveLength(2);
    expect(await readStream(t)).toEqual([]);
    expect((await readStream(u)).map((e) => e.eventId)).toEqual(fresh);
  });

  it('sends the appends of a batch an error aborts one by one, each with its own answer', async () => {
    // The same new id on two streams in one batch: the statement fails on the unique id, nothing commits.
    const shared = randomUUID();
    const [x, y, z] = [newStream(), newStream(), newStream()];
    const run = await inOneTurn([
      opener,
      () => store.append(x, 0, [event(1, shared)], meta),
      () => store.append(y, 0, [event(1, shared)], meta),
      () => store.append(z, 0, [event(1)], meta),
      () => store.append(newStream(), 0, [event(1, 'not-a-uuid')], meta),
    ]);
    expect(run.fallbacks).toBe(1);
    const [, rx, ry, rz, bad] = run.results;
    const winners = [rx!, ry!].filter((r) => r.isOk());
    expect(winners).toHaveLength(1);
    expect([rx!, ry!].filter((r) => r.isErr()).map((r) => r._unsafeUnwrapErr().type)).toEqual(['idempotency_mismatch']);
    expect(rz!._unsafeUnwrap().nextVersion).toBe(1);
    expect(bad!._unsafeUnwrapErr().type).toBe('store_unavailable');
    expect((await readStream(x)).length + (await readStream(y)).length).toBe(1);
  });

  it('keeps one generic plan of each append statement instead of planning it at every execution', async () => {
    // One connection, so that its prepared statements are the ones counted. (On this small events table
    // a custom plan of APPEND_SQL would not look cheaper anyway; the batch statement's would.)
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    try {
      const one = createEventStore(pool, { batch: { concurrency: 1 } });
      for (let i = 0; i < 8; i++) {
        // Alone without ids (as most appends come), then a batch of three behind it, with ids every other round.
        const results = await Promise.all([0, 1, 2, 3].map((k) => one.append(newStream(), 0, [event(k, k > 0 && i % 2 ? randomUUID() : undefined)], meta)));
        expect(results.every((r) => r.isOk())).toBe(true);
      }
      expect(one.appendBatches.batches).toBe(8);
      const { rows } = await pool.query<{ name: string; generic_plans: string }>(`select name, generic_plans from pg_prepared_statements where name like 'sekha-append%'`);
      expect(Object.fromEntries(rows.map((r) => [r.name, Number(r.generic_plans) > 0]))).toEqual({ 'sekha-append': true, 'sekha-append-batch': true });
    } finally {
      await pool.end();
    }
  });

  it('answers every append of a batch store_unavailable when the database cannot be reached', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    const gone = createEventStore(pool, { batch: { concurrency: 1 } });
    const appends = [newStream(), newStream(), newStream(), newStream()].map((s) => gone.append(s, 0, [event(1)], meta));
    // Closed while the first is in flight: the batch behind it, and each of its appends alone, fail.
    const closed = pool.end();
    const results = await Promise.all(appends);
    await closed;
    expect(gone.appendBatches.fallbacks).toBe(1);
    expect(results.slice(1).map((r) => r._unsafeUnwrapErr().type)).toEqual(Array(3).fill('store_unavailable'));
  });

  it.each([0, 1, 'any'] as const)('answers a batched retry whose original is in flight (expected %s) as its duplicate', async (expected) => {
    const stream = newStream();
    if (expected !== 0) await store.append(stream, 0, [event(0)], meta);
    const events = [event(1, randomUUID()), event(2, randomUUID())];
    // The original has written and holds its transaction open until the retry waits on it.
    const { original, release } = await appendHeldOpen(store, stream, expected, events, meta);
    const other = newStream();
    const run = inOneTurn([opener, () => store.append(stream, expected, events, meta), () => store.append(other, 0, [event(1)], meta)]);
    await untilWaitingOnLock(db.pool, 'the retry waiting on its original');
    release();
    const [first, { results, batches }] = [(await original)._unsafeUnwrap(), await run];
    expect(batches).toBe(1);
    const retry = results[1]!._unsafeUnwrap();
    expect([first.duplicate, retry.duplicate]).toEqual([false, true]);
    expect(retry.position).toEqual(first.position);
    expect(retry.events.map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(results[2]!._unsafeUnwrap().nextVersion).toBe(1);
    expect(await readStream(stream)).toHaveLength(expected === 0 ? 2 : 3);
  });

  /** An append whose transaction holds its stream's row (as a purge's does) until `release`. */
  async function holdStream(stream: string, expected: number) {
    let release!: () => void;
    let written!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const inFlight = new Promise<void>((r) => (written = r));
    const done = store.append(stream, expected, [event(expected + 1)], meta, () => (written(), held));
    await inFlight;
    return { release: () => (release(), done) };
  }

  it('skips a stream whose row another transaction holds: that append goes alone, the rest of its batch commits', async () => {
    const held = newStream();
    await store.append(held, 0, [event(0)], meta);
    const holder = await holdStream(held, 1);
    const before = { ...store.appendBatches };
    const others = [newStream(), newStream()];
    const open = opener();
    const waiting = store.append(held, 'any', [event(2)], meta);
    const rest = others.map((s) => store.append(s, 0, [event(1)], meta));
    // These finish while the row is still held: the batch did not wait for it.
    expect((await Promise.all([open, ...rest])).every((r) => r.isOk())).toBe(true);
    expect(store.appendBatches.batches - before.batches).toBe(1);
    expect(store.appendBatches.batchedAppends - before.batchedAppends).toBe(3);
    expect((await holder.release())._unsafeUnwrap().nextVersion).toBe(2);
    expect((await waiting)._unsafeUnwrap().nextVersion).toBe(3);
  });

  it('stops holding the queue behind a lone append that waits on a lock', async () => {
    const held = newStream();
    await store.append(held, 0, [event(0)], meta);
    const holder = await holdStream(held, 1);
    const before = { ...store.appendBatches };
    // Nothing in flight: this goes alone at once, and waits on the held row.
    const waiting = store.append(held, 'any', [event(2)], meta);
    const others = await Promise.all([newStream(), newStream()].map((s) => store.append(s, 0, [event(1)], meta)));
    expect(others.every((r) => r.isOk())).toBe(true);
    expect(store.appendBatches.stalls - before.stalls).toBe(1);
    expect((await holder.release())._unsafeUnwrap().nextVersion).toBe(2);
    expect((await waiting)._unsafeUnwrap().nextVersion).toBe(3);
  });

  it('keeps one winner per expected version, unique ids and gapless streams under random interleavings', async () => {
    const op = fc.record({
      stream: fc.integer({ min: 0, max: 3 }),
      expected: fc.oneof(fc.constant<ExpectedVersion>('any'), fc.integer({ min: 0, max: 4 })),
      size: fc.integer({ min: 1, max: 3 }),
      // Ids from a small pool, so that retries, reuses across streams and fresh ids all happen.
      ids: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
      // The op starts when this earlier op has finished (or at once).
      after: fc.option(fc.nat(), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 2, maxLength: 24 }), async (ops) => {
        const tag = randomUUID();
        const streams = [0, 1, 2, 3].map((i) => `p-${tag}-${i}`);
        const idPool = Array.from({ length: 6 }, () => Array.from({ length: 3 }, () => randomUUID()));
        const commands = ops.map((o, i) => ({
          ...o,
          streamId: streams[o.stream]!,
          events: Array.from({ length: o.size }, (_, k) => event(i * 10 + k, o.ids === undefined ? undefined : idPool[o.ids]![k])),
        }));
        const promises: PromiseLike<Result<AppendResult, AppendError>>[] = [];
        for (const [i, c] of commands.entries()) {
          const start = c.after === undefined || i === 0 ? Promise.resolve() : promises[c.after % i]!.then(() => undefined);
          promises.push(start.then(() => store.append(c.streamId, c.expected, c.events, meta)));
        }
        const results = await Promise.all(promises);

        const stored = new Map(await Promise.all(streams.map(async (s) => [s, await readStream(s)] as const)));
        const all = [...stored.values()].flat();
        // Gapless, unique ids.
        for (const events of stored.values()) expect(events.map((e) => e.streamVersion)).toEqual(events.map((_, i) => i + 1));
        expect(new Set(all.map((e) => e.eventId)).size).toBe(all.length);
        const winners = new Map<string, number>();
        for (const [i, r] of results.entries()) {
          const c = commands[i]!;
          if (r.isErr()) {
            expect(['version_conflict', 'idempotency_mismatch']).toContain(r.error.type);
            continue;
          }
          const answer = r.value;
          const events = stored.get(c.streamId)!;
          // Every answer is what the stream holds at those versions.
          expect(answer.events).toEqual(events.slice(answer.nextVersion - c.size, answer.nextVersion));
          if (answer.duplicate) {
            expect(answer.events.map((e) => e.eventId)).toEqual(c.events.map((e) => e.eventId));
            continue;
          }
          expect(answer.events.map((e) => e.data)).toEqual(c.events.map((e) => e.data));
          if (c.expected !== 'any') {
            expect(answer.nextVersion - c.size).toBe(c.expected);
            // Exactly one winner per stream and expected version.
            const key = `${c.streamId}@${c.expected}`;
            expect(winners.has(key)).toBe(false);
            winners.set(key, i);
          }
        }
        // Every stored event was answered to exactly one writer.
        const written = results.flatMap((r) => (r.isOk() && !r.value.duplicate ? r.value.events.map((e) => e.eventId) : []));
        expect(written.sort()).toEqual(all.map((e) => e.eventId).sort());
      }),
      { numRuns: 40 },
    );
    expect(store.appendBatches.batches).toBeGreaterThan(0);
  });
});

describe('append statements plan index lookups even when made on empty tables', () => {
  // PostgreSQL keeps a prepared statement's generic plan, made at its sixth run: on a new database that
  // is while `streams` and `events` are nearly empty, and a plan that scans them whole (cheap then)
  // would go on scanning them at every append as they grow, until statistics happen to replan it.
  it.each([
    ['APPEND_BATCH_SQL', APPEND_BATCH_SQL, `'{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}'`],
    ['APPEND_SQL', APPEND_SQL, `'s', 0, '{}', '{}', '{}', '{}', true`],
  ])('%s: no sequential scan of streams or events in its generic plan', async (_name, sql, args) => {
    const empty = await createTestDatabase();
    const client = await empty.pool.connect();
    try {
      await client.query(`prepare statement_under_test as ${sql}`);
      await client.query('set plan_cache_mode = force_generic_plan');
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(`explain (costs off) execute statement_under_test(${args})`);
      const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(plan).not.toMatch(/Seq Scan on (streams|events)\b/);
    } finally {
      client.release();
      await empty.drop();
    }
  });
});
