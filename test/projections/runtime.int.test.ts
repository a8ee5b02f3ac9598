import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventStore, START, type EventStore } from '../../src/eventstore/index.js';
import { readAll } from '../../src/eventstore/read.js';
import { listCheckpoints, readCheckpoint } from '../../src/projections/checkpoints.js';
import { LEASE_NAMESPACE } from '../../src/projections/lease.js';
import { requestRebuild } from '../../src/projections/versions.js';
import { createProjectionRuntime, type ProjectionRuntime } from '../../src/projections/runtime.js';
import { readModelDefinition, readModelProjector } from '../../src/projections/readModel/index.js';
import type { ProjectionDefinition } from '../../src/projections/types.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { buildFromScratch, caughtUp, seedHistory, silentLogger, startConversation, tableRows, until } from './helpers.js';

let db: TestDatabase;
let store: EventStore;
const runtimes: ProjectionRuntime[] = [];

beforeAll(async () => {
  db = await createTestDatabase({ poolSize: 30 });
  store = createEventStore(db.pool);
});
afterAll(async () => {
  await Promise.all(runtimes.map((r) => r.stop()));
  await db.drop();
});

function runtime(definitions: ProjectionDefinition[] = [readModelDefinition], batchSize = 7, asyncCommit = false): ProjectionRuntime {
  const r = createProjectionRuntime(
    { pool: db.pool, url: db.url, logger: silentLogger, batchSize, pollIntervalMs: 200, leaseCheckMs: 200, asyncCommit },
    definitions,
  );
  runtimes.push(r);
  return r;
}

const stop = async (r: ProjectionRuntime) => {
  await r.stop();
  runtimes.splice(runtimes.indexOf(r), 1);
};

describe('projection runtime', () => {
  it('projects every event type into the read tables and reports idle at the head', async () => {
    const r = runtime();
    await r.start();
    const last = await seedHistory(store, 12);
    await caughtUp(db.pool, last);
    await until(() => r.status().every((s) => s.status === 'idle'), 5000, 'idle');
    const { rows } = await db.pool.query(`select count(*)::int as n, sum(message_count)::int as m from conversations`);
    expect(rows[0]).toEqual({ n: 12, m: 48 });
    const messages = await db.pool.query(`select count(*)::int as n from messages`);
    expect(messages.rows[0].n).toBe(48);
    const deleted = await db.pool.query(`select count(*)::int as n from conversations where status = 'deleted'`);
    expect(deleted.rows[0].n).toBe(2);
    await stop(r);
  });

  it('after a batch that throws mid-way and a restart, the tables equal a from-scratch rebuild', async () => {
    let thrown = 0;
    const failing: ProjectionDefinition = {
      ...readModelDefinition,
      create: (version) => {
        const real = readModelProjector(version);
        return {
          ...real,
          apply: async (events, client) => {
            // Apply some rows, then die: the transaction must take them all back.
            await real.apply(events.slice(0, Math.ceil(events.length / 2)), client);
            if (events.length > 1) {
              thrown++;
              throw new Error('killed mid-batch');
            }
            await real.apply(events.slice(1), client);
          },
        };
      },
    };
    const before = (await readCheckpoint(db.pool, 'read-model', 1))!.position;
    const last = await seedHistory(store, 6);
    const bad = runtime([failing]);
    await bad.start();
    await until(() => thrown >= 2 && bad.status()[0]!.status === 'failed', 10_000, 'failures');
    expect((await readCheckpoint(db.pool, 'read-model', 1))!.position).toEqual(before);
    await stop(bad);

    const good = runtime();
    await good.start();
    await caughtUp(db.pool, last);
    await stop(good);
    const live = { conversations: await tableRows(db.pool, 'rm_v1_conversations'), messages: await tableRows(db.pool, 'rm_v1_messages') };
    const scratch = await buildFromScratch(db.pool, db.url, 90);
    expect(live.conversations).toHaveLength(18);
    expect(live).toEqual(scratch);
  });

  it('a SQL projector commits without waiting for the WAL flush only when asked, its batch and checkpoint together', async () => {
    const last = await seedHistory(store, 3);
    for (const asyncCommit of [false, true]) {
      const name = asyncCommit ? 'commit-async' : 'commit-sync';
      const seen: string[] = [];
      const probe: ProjectionDefinition = {
        name,
        create: (version) => ({
          kind: 'sql',
          name,
          version,
          handles: ['ConversationStarted'],
          apply: async (events, client) => {
            const { rows } = await client.query<{ setting: string }>("select current_setting('synchronous_commit') as setting");
            seen.push(...events.map(() => rows[0]!.setting));
          },
        }),
      };
      const r = runtime([probe], 7, asyncCommit);
      await r.start();
      await caughtUp(db.pool, last, name);
      await stop(r);
      expect(seen.length).toBeGreaterThan(0);
      expect(new Set(seen)).toEqual(new Set([asyncCommit ? 'off' : 'on']));
    }
    // The pool's sessions keep the server's setting: `set local` ended with each batch.
    const { rows } = await db.pool.query<{ setting: string }>("select current_setting('synchronous_commit') as setting");
    expect(rows[0]!.setting).toBe('on');
  });

  it('an external projector with a batch limit gets each event once, in order, a few at a time, the checkpoint moving after each', async () => {
    const applied: string[][] = [];
    const collector: ProjectionDefinition = {
      name: 'collector',
      create: (version) => ({
        kind: 'external',
        name: 'collector',
        version,
        handles: ['ConversationStarted', 'MessagesAppended', 'ConversationLabeled', 'ConversationMovedToFolder', 'ConversationPinned', 'ConversationArchived', 'ConversationDeleted'],
        batchLimit: () => 2,
        apply: async (events) => {
          applied.push(events.map((e) => e.eventId));
        },
      }),
    };
    const last = await seedHistory(store, 4);
    const r = runtime([collector], 7);
    const moves: number[] = [];
    r.bus.on('progress', (p: { name: string; events: number }) => {
      if (p.name === 'collector') moves.push(p.events);
    });
    await r.start();
    await caughtUp(db.pool, last, 'collector');
    await stop(r);
    const all = (await readAll(db.pool, START, 100_000))._unsafeUnwrap();
    const handled = new Set(collector.create(1).handles);
    expect(applied.flat()).toEqual(all.filter((e) => handled.has(e.type)).map((e) => e.eventId));
    // Read in batches of 7, applied two events at a time: the checkpoint moved once per two events.
    expect(moves.every((n) => n <= 2)).toBe(true);
    expect(moves.reduce((a, b) => a + b, 0)).toBe(all.length);
  });

  it('while catching up, an external projector is handed each batch to prefetch before it applies it, exactly as it will apply it', async () => {
    const order: string[] = [];
    const key = (events: { eventId: string }[]) => events.map((e) => e.eventId).join(',');
    const prefetcher: ProjectionDefinition = {
      name: 'prefetcher',
      create: (version) => ({
        kind: 'external',
        name: 'prefetcher',
        version,
        handles: ['ConversationStarted', 'MessagesAppended', 'ConversationPinned'],
        batchLimit: () => 3,
        prefetch: (events) => void order.push(`prefetch ${key(events)}`),
        apply: async (events) => {
          order.push(`apply ${key(events)}`);
          // A slow store: the next batch's prefetch is handed over while this one is written.
          await new Promise((r) => setTimeout(r, 5));
        },
      }),
    };
    const last = await seedHistory(store, 6);
    const r = runtime([prefetcher], 7);
    await r.start();
    await caughtUp(db.pool, last, 'prefetcher');
    await stop(r);
    const applied = order.filter((o) => o.startsWith('apply ')).map((o) => o.slice(6));
    expect(applied.length).toBeGreaterThan(3);
    // Every batch after the first was prefetched before it was applied, with the same events.
    for (const batch of applied.slice(1)) {
      const handed = order.indexOf(`prefetch ${batch}`);
      expect(handed, batch).toBeGreaterThanOrEqual(0);
      expect(handed).toBeLessThan(order.indexOf(`apply ${batch}`));
    }
  });

  it('runs each projector on exactly one of two runtimes, and the other takes over when the leader stops', async () => {
    const a = runtime();
    const b = runtime();
    await a.start();
    await b.start();
    const leaderOf = () =>
      until(() => {
        const leaders = [a, b].filter((r) => r.status().some((s) => s.status !== 'standby' && s.status !== 'stopped'));
        const standbys = [a, b].filter((r) => r.status().some((s) => s.status === 'standby'));
        return leaders.length === 1 && standbys.length === 1 ? leaders[0] : undefined;
      }, 10_000, 'one leader');
    const leader = await leaderOf();
    const other = leader === a ? b : a;
    const first = await startConversation(store, { messages: ['one'] });
    await caughtUp(db.pool, first.position);
    await stop(leader);
    const t0 = Date.now();
    const second = await startConversation(store, { messages: ['two'] });
    await caughtUp(db.pool, second.position, 'read-model', 10_000);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(other.status()[0]!.status).not.toBe('standby');
    await stop(other);
    const rows = await listCheckpoints(db.pool, ['read-model']);
    expect(rows).toHaveLength(1);
  });

  it("when the leader's lease connection dies, a standby takes over and nothing is applied twice", async () => {
    const a = runtime();
    const b = runtime();
    await a.start();
    await b.start();
    await until(() => [a, b].filter((r) => r.status()[0]?.status === 'idle').length === 1, 10_000, 'one leader');
    // Kill the session holding the advisory lock, as a crashed instance's connection would vanish.
    const killed = await db.pool.query(
      `select pg_terminate_backend(pid) as ok from pg_locks where locktype = 'advisory' and classid = $1 and granted
          and database = (select oid from pg_database where datname = current_database())`,
      [LEASE_NAMESPACE],
    );
    expect(killed.rows).toHaveLength(1);
    const last = await seedHistory(store, 3);
    await caughtUp(db.pool, last, 'read-model', 10_000);
    await stop(a);
    await stop(b);
    const live = { conversations: await tableRows(db.pool, 'rm_v1_conversations'), messages: await tableRows(db.pool, 'rm_v1_messages') };
    expect(live).toEqual(await buildFromScratch(db.pool, db.url, 91));
  });

  it('reads transaction ids in numeric order across a digit boundary (9 < 10 < 100), skipping nothing', async () => {
    // Explicit small transaction ids, below any live one: the order '10' < '100' < '9' of text would skip one.
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    for (const [i, tx] of [9, 10, 100].entries()) {
      const id = ids[i]!;
      await db.pool.query(
        `insert into events (transaction_id, stream_id, stream_version, event_id, type, data) values ($1::text::xid8, $2, 1, $3, 'ConversationStarted', $4)`,
        [String(tx), `conversation-${id}`, randomUUID(), { conversation_id: id, at: '2025-01-01T00:00:00.000Z', label: `tx ${tx}`, folder: '/', importance_score: 5, metadata: {} }],
      );
    }
    await db.pool.query(`delete from projection_checkpoints where name = 'read-model'`);
    await db.pool.query('drop view if exists messages; drop view if exists conversations; drop table if exists rm_v1_messages; drop table if exists rm_v1_conversations');
    const r = runtime([readModelDefinition], 1);
    await r.start();
    const head = (await store.readHead())._unsafeUnwrap()!.position;
    await caughtUp(db.pool, head);
    const { rows } = await db.pool.query(`select label from conversations where label like 'tx %' order by label`);
    expect(rows.map((x) => x.label)).toEqual(['tx 10', 'tx 100', 'tx 9']);
    await stop(r);
  });

  it('a rebuild asked for through the database alone (as an api-only instance does) is built by one of two runtimes and switched', async () => {
    const a = runtime();
    const b = runtime();
    await a.start();
    await b.start();
    const last = await seedHistory(store, 4);
    await caughtUp(db.pool, last);
    const live = (await listCheckpoints(db.pool, ['read-model'])).find((r) => r.state === 'live')!.version;
    const { version } = await requestRebuild(db.pool, 'read-model');
    expect(version).toBe(live + 1);
    await until(async () => {
      const rows = await listCheckpoints(db.pool, ['read-model']);
      return rows.length === 1 && rows[0]!.version === version && rows[0]!.state === 'live';
    }, 20_000, 'switch and drop');
    await until(() => [a, b].every((r) => r.status().map((s) => s.version).join() === String(version)), 10_000, 'runners of the new version only');
    const rebuilt = { conversations: await tableRows(db.pool, `rm_v${version}_conversations`), messages: await tableRows(db.pool, `rm_v${version}_messages`) };
    await stop(a);
    await stop(b);
    expect(rebuilt).toEqual(await buildFromScratch(db.pool, db.url, 92));
  });
});
