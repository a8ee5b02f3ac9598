import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { comparePositions, createEventStore, EVENTS_CHANNEL, formatPosition, parsePosition, type Position } from '../../src/eventstore/index.js';
import { readModelDefinition } from '../../src/projections/readModel/index.js';
import { createProjectionRuntime, type ProjectionRuntime } from '../../src/projections/runtime.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { caughtUp, silentLogger, startConversation, until } from '../projections/helpers.js';

let db: TestDatabase;
const meta = { actor: 'test' };

/** A LISTEN connection counting what arrives on the events channel. */
async function listen(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const payloads: string[] = [];
  const markers = new Set<string>();
  client.on('notification', (n) => (n.channel === EVENTS_CHANNEL ? payloads.push(n.payload ?? '') : markers.add(n.payload ?? '')));
  await client.query(`listen ${EVENTS_CHANNEL}`);
  await client.query('listen test_marker');
  return {
    payloads,
    /** Resolves once every NOTIFY committed before this call has arrived (they arrive in commit order). */
    async drained() {
      const marker = randomUUID();
      await db.pool.query(`select pg_notify('test_marker', $1)`, [marker]);
      await until(() => markers.has(marker), 10_000, 'the marker NOTIFY');
    },
    end: () => client.end(),
  };
}

beforeAll(async () => {
  db = await createTestDatabase({ poolSize: 30 });
});
afterAll(() => db.drop());

describe('append notifier', () => {
  it('sends one NOTIFY after the append commits, naming its position', async () => {
    const listener = await listen(db.url);
    try {
      const store = createEventStore(db.pool, { notify: { windowMs: 0 } });
      const appended = (await store.append(`s-${randomUUID()}`, 0, [{ type: 'A', data: {} }], meta))._unsafeUnwrap();
      await store.notifier.flush();
      await listener.drained();
      expect(listener.payloads).toEqual([formatPosition(appended.position)]);
      expect(store.notifier.sent).toBe(1);
    } finally {
      await listener.end();
    }
  });

  it('covers a burst of appends with far fewer NOTIFYs, the last naming the newest position', async () => {
    const listener = await listen(db.url);
    try {
      const windowMs = 50;
      const store = createEventStore(db.pool, { notify: { windowMs } });
      const heard: Position[] = [];
      store.notifier.onCommitted((p) => heard.push(p));
      const writers = 20;
      const perWriter = 15;
      const started = performance.now();
      const positions = (
        await Promise.all(
          Array.from({ length: writers }, async () => {
            const stream = `burst-${randomUUID()}`;
            const mine: Position[] = [];
            for (let v = 0; v < perWriter; v++) mine.push((await store.append(stream, v, [{ type: 'A', data: { v } }], meta))._unsafeUnwrap().position);
            return mine;
          }),
        )
      ).flat();
      await store.notifier.flush();
      const elapsed = performance.now() - started;
      await listener.drained();

      const appends = writers * perWriter;
      // Every commit reached the in-process listeners, one call each, before its append resolved.
      expect(heard).toHaveLength(appends);
      // One NOTIFY per window at most (one in flight, the next waits for the window): far fewer than appends.
      expect(listener.payloads.length).toBeGreaterThan(0);
      expect(listener.payloads.length).toBeLessThanOrEqual(Math.ceil(elapsed / windowMs) + 1);
      expect(listener.payloads.length).toBeLessThan(appends / 10);
      expect(store.notifier.sent).toBe(listener.payloads.length);
      const newest = positions.reduce((a, b) => (comparePositions(a, b) >= 0 ? a : b));
      expect(listener.payloads.at(-1)).toBe(formatPosition(newest));
      // Payloads only move forward.
      const sent = listener.payloads.map((p) => parsePosition(p)!);
      for (let i = 1; i < sent.length; i++) expect(comparePositions(sent[i - 1]!, sent[i]!)).toBeLessThan(0);
    } finally {
      await listener.end();
    }
  });

  it('sends nothing for a retry that appends nothing', async () => {
    const store = createEventStore(db.pool, { notify: { windowMs: 0 } });
    const events = [{ type: 'A', data: {}, eventId: randomUUID() }];
    const stream = `s-${randomUUID()}`;
    await store.append(stream, 0, events, meta);
    await store.notifier.flush();
    let heard = 0;
    store.notifier.onCommitted(() => heard++);
    expect((await store.append(stream, 0, events, meta))._unsafeUnwrap().duplicate).toBe(true);
    await store.notifier.flush();
    expect(heard).toBe(0);
    expect(store.notifier.sent).toBe(1);
  });
});

describe('waking projectors', () => {
  const runtimes: ProjectionRuntime[] = [];
  afterAll(async () => {
    await Promise.all(runtimes.map((r) => r.stop()));
  });
  const writer = fileURLToPath(new URL('./support/appendAndExit.ts', import.meta.url));
  const writeFromAnotherProcess = async (mode: 'crash' | 'flush'): Promise<Position> => {
    const run = promisify(execFile);
    const output = await run(process.execPath, ['--import', 'tsx', writer, db.url, mode], { timeout: 60_000 }).then(
      (r) => r.stdout,
      // The crashing writer dies by SIGKILL after printing its position.
      (e: { signal?: string; stdout?: string }) => {
        if (mode === 'crash' && e.signal === 'SIGKILL') return e.stdout ?? '';
        throw e;
      },
    );
    return parsePosition(output.trim())!;
  };

  it('projects a write of another process whose NOTIFY was lost (the writer died after its commit), by the poll', async () => {
    const listener = await listen(db.url);
    try {
      const runtime = createProjectionRuntime(
        { pool: db.pool, url: db.url, logger: silentLogger, batchSize: 50, pollIntervalMs: 500, lease: false },
        [readModelDefinition],
      );
      runtimes.push(runtime);
      await runtime.start();
      await until(() => runtime.status()[0]?.status === 'idle', 10_000, 'idle');
      const position = await writeFromAnotherProcess('crash');
      expect(position).toBeDefined();
      await caughtUp(db.pool, position, 'read-model', 10_000);
      const { rows } = await db.pool.query(`select label from conversations`);
      expect(rows.map((r) => r.label)).toContain('from another process');
      await listener.drained();
      // Nothing was NOTIFYed: the runtime's poll found the write.
      expect(listener.payloads).toEqual([]);
      await runtime.stop();
      runtimes.splice(runtimes.indexOf(runtime), 1);
    } finally {
      await listener.end();
    }
  });

  it("wakes another process's projectors by the NOTIFY after the commit (no poll in time)", async () => {
    const runtime = createProjectionRuntime(
      { pool: db.pool, url: db.url, logger: silentLogger, batchSize: 50, pollIntervalMs: 600_000, lease: false },
      [readModelDefinition],
    );
    runtimes.push(runtime);
    await runtime.start();
    await until(async () => {
      const { rows } = await db.pool.query(`select 1 from pg_stat_activity where application_name = 'sekha-listen' and query ilike 'LISTEN%'`);
      return rows.length > 0 && runtime.status()[0]?.status === 'idle';
    }, 20_000, 'listening and idle');
    const position = await writeFromAnotherProcess('flush');
    await caughtUp(db.pool, position, 'read-model', 20_000);
    await runtime.stop();
    runtimes.splice(runtimes.indexOf(runtime), 1);
  });

  it("wakes this process's projectors at once through the bus, without LISTEN or poll", async () => {
    // A notifier that never gets to send: only the in-process wake-up can move the projector.
    const store = createEventStore(db.pool, { notify: { windowMs: 600_000 } });
    const runtime = createProjectionRuntime(
      { pool: db.pool, url: db.url, logger: silentLogger, batchSize: 50, pollIntervalMs: 600_000, lease: false, listen: false, appends: store.notifier },
      [readModelDefinition],
    );
    runtimes.push(runtime);
    const appended: Position[] = [];
    runtime.bus.on('appended', (p) => appended.push(p));
    await runtime.start();
    await until(() => runtime.status()[0]?.status === 'idle', 10_000, 'idle');
    const { position } = await startConversation(store, { messages: ['local'] });
    expect(appended).toEqual([position]);
    await caughtUp(db.pool, position, 'read-model', 20_000);
    expect(store.notifier.sent).toBe(0);
    await runtime.stop();
    runtimes.splice(runtimes.indexOf(runtime), 1);
  });
});
