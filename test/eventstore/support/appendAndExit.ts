/**
 * A writer in a process of its own: starts one conversation through the event store and prints its
 * position, then either crashes before its NOTIFY can go out (`crash`: a long window, then SIGKILL)
 * or exits after sending it (`flush`).
 * Run: node --import tsx appendAndExit.ts <database-url> crash|flush
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { executeCommand } from '../../../src/commands/execute.js';
import { createEventStore, formatPosition } from '../../../src/eventstore/index.js';

const [url, mode] = process.argv.slice(2);
const pool = new pg.Pool({ connectionString: url, max: 2 });
const store = createEventStore(pool, { notify: { windowMs: mode === 'crash' ? 60_000 : 0 } });
const id = randomUUID();
const at = new Date().toISOString();
const result = await executeCommand(
  store,
  id,
  { type: 'StartConversation', at, data: { conversation_id: id, label: 'from another process', folder: '/', importance_score: 5, metadata: {}, messages: [{ id: randomUUID(), role: 'user', content: 'hello', timestamp: at, metadata: {} }] } },
  { actor: 'writer', requestId: randomUUID() },
);
const position = formatPosition(result._unsafeUnwrap().position);
if (mode === 'crash') {
  // Committed, NOTIFY still waiting for its window: die as a kill -9 would.
  process.stdout.write(`${position}\n`, () => process.kill(process.pid, 'SIGKILL'));
} else {
  await store.notifier.flush();
  await pool.end();
  process.stdout.write(`${position}\n`);
}
