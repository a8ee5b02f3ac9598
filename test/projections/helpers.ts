import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import pino from 'pino';
import { executeCommand } from '../../src/commands/execute.js';
import type { ConversationCommand, NewMessage, Role } from '../../src/domain/conversation/index.js';
import { comparePositions, type EventStore, type Position } from '../../src/eventstore/index.js';
import { liveCheckpoint, readCheckpoint } from '../../src/projections/checkpoints.js';
import { readModelProjector } from '../../src/projections/readModel/index.js';
import { createProjectionRuntime, type ProjectionRuntime } from '../../src/projections/runtime.js';
import type { ProjectionDefinition } from '../../src/projections/types.js';
import type { TestApp } from '../support/testApp.js';

export const silentLogger = pino({ level: process.env.SEKHA_TEST_LOG ?? 'silent' });
export const context = { actor: 'test', requestId: 'req' };

import { until } from '../support/until.js';

export { until };

let clock = Date.parse('2025-01-01T00:00:00Z');
/** A strictly increasing fake time, so rows differ in time and tests need no sleeps. */
export const tick = (): string => new Date((clock += 1000)).toISOString();

export const message = (content: string, role: Role = 'user'): NewMessage => ({ id: randomUUID(), role, content, timestamp: tick(), metadata: {} });

/** Runs one command and answers its position (throws on a domain error). */
export async function run(store: EventStore, id: string, command: ConversationCommand): Promise<Position> {
  const result = await executeCommand(store, id, command, context);
  return result._unsafeUnwrap().position;
}

export interface Seeded {
  id: string;
  position: Position;
}

/** Starts a conversation with messages. */
export async function startConversation(
  store: EventStore,
  options: { label?: string; folder?: string; importance?: number; messages?: string[] } = {},
): Promise<Seeded> {
  const id = randomUUID();
  const at = tick();
  const position = await run(store, id, {
    type: 'StartConversation',
    at,
    data: {
      conversation_id: id,
      label: options.label ?? 'label',
      folder: options.folder ?? '/',
      importance_score: options.importance ?? 5,
      metadata: {},
      messages: (options.messages ?? []).map((m, i) => message(m, i % 2 === 0 ? 'user' : 'assistant')),
    },
  });
  return { id, position };
}

/** A varied history: every event type, over `n` conversations. */
export async function seedHistory(store: EventStore, n: number): Promise<Position> {
  let last: Position | undefined;
  for (let i = 0; i < n; i++) {
    const c = await startConversation(store, { label: `label ${i % 3}`, folder: `/f${i % 2}`, importance: (i % 10) + 1, messages: [`hello number ${i}`, `reply ${i} about postgres`] });
    last = c.position;
    const steps: ConversationCommand[] = [
      { type: 'AppendMessages', at: tick(), data: { messages: [message(`more words ${i}`), message(`and more ${i}`, 'assistant')] } },
      { type: 'Relabel', at: tick(), data: { label: `relabeled ${i % 4}`, ...(i % 2 ? { folder: '/moved' } : {}) } },
      { type: 'MoveToFolder', at: tick(), data: { folder: `/g${i % 3}` } },
      { type: 'Pin', at: tick(), data: {} },
      ...(i % 3 === 0 ? [{ type: 'Unpin', at: tick(), data: {} } as const] : []),
      { type: 'SetImportance', at: tick(), data: { importance_score: ((i * 7) % 10) + 1 } },
      ...(i % 4 === 1 ? [{ type: 'Archive', at: tick(), data: {} } as const] : []),
      ...(i % 8 === 1 ? [{ type: 'Unarchive', at: tick(), data: {} } as const] : []),
      ...(i % 5 === 2 ? [{ type: 'Delete', at: tick(), data: {} } as const] : []),
    ];
    for (const step of steps) last = await run(store, c.id, step);
  }
  return last!;
}

/** Every row of a table, ordered by id, as plain JSON. */
export async function tableRows(pool: pg.Pool, table: string): Promise<unknown[]> {
  const { rows } = await pool.query(`select * from ${table} order by id`);
  return JSON.parse(JSON.stringify(rows));
}

/** Waits until the live read model has passed `position`. */
export async function caughtUp(pool: pg.Pool, position: Position, name = 'read-model', timeoutMs = 20_000): Promise<void> {
  await until(async () => {
    const cp = await liveCheckpoint(pool, name);
    return cp && comparePositions(cp.position, position) >= 0;
  }, timeoutMs, `${name} to reach ${position.transactionId}:${position.globalPosition}`);
}

/**
 * Builds the read model from scratch into `rm_v<version>_*` under another projection name, in a
 * runtime of its own, up to the current head; answers its rows (to compare with a live projection).
 */
export async function buildFromScratch(pool: pg.Pool, url: string, version: number) {
  const name = `scratch-${version}`;
  await pool.query(`insert into projection_checkpoints (name, version, state) values ($1, $2, 'live')`, [name, version]);
  const runtime = createProjectionRuntime({ pool, url, logger: silentLogger, batchSize: 500, pollIntervalMs: 200, listen: false }, [
    { name, create: (v) => ({ ...readModelProjector(v), name }) },
  ]);
  await runtime.start();
  try {
    const head = (await pool.query(`select transaction_id::text as tx, global_position as pos from events order by transaction_id desc, global_position desc limit 1`)).rows[0];
    await until(async () => {
      const cp = await readCheckpoint(pool, name, version);
      return head === undefined || (cp && comparePositions(cp.position, { transactionId: BigInt(head.tx), globalPosition: Number(head.pos) }) >= 0);
    }, 30_000, 'scratch build');
  } finally {
    await runtime.stop();
  }
  return { conversations: await tableRows(pool, `rm_v${version}_conversations`), messages: await tableRows(pool, `rm_v${version}_messages`) };
}

/**
 * A started runtime over a test app's database with small batches (5 events) and quick polls, so that
 * a rebuild takes long enough for queries and checks to overlap it.
 */
export async function startSmallBatchRuntime(t: TestApp, definitions: readonly ProjectionDefinition[]): Promise<ProjectionRuntime> {
  const runtime = createProjectionRuntime({ pool: t.deps.pools.write, url: t.db.url, logger: silentLogger, batchSize: 5, pollIntervalMs: 300, leaseCheckMs: 300 }, definitions);
  await runtime.start();
  return runtime;
}
