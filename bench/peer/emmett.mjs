// The peer: Emmett's PostgreSQL event store, doing the same work as ours on the same database.
// Run: node bench/peer/emmett.mjs <database-url> <seconds per append case> <events to project>
// Prints JSON: { append: {case: events/s}, rebuild: {events, seconds, events_per_second} }.
import { randomUUID } from 'node:crypto';
import { getPostgreSQLEventStore, postgreSQLRawBatchSQLProjection, rebuildPostgreSQLProjections } from '@event-driven-io/emmett-postgresql';
import { SQL } from '@event-driven-io/dumbo';
import pg from 'pg';

const [url, secondsArg, projectArg] = process.argv.slice(2);
const seconds = Number(secondsArg ?? 5);
const toProject = Number(projectArg ?? 20000);
const store = getPostgreSQLEventStore(url, { schema: { autoMigration: 'CreateOrUpdate' } });

// Same payload shape as ours: a MessagesAppended of one 200-character message.
const payload = (i) => ({ conversation_id: randomUUID(), at: new Date().toISOString(), messages: [{ id: randomUUID(), seq: i, role: 'user', content: 'x'.repeat(200), timestamp: new Date().toISOString(), metadata: {} }] });
const event = (i) => ({ type: 'MessagesAppended', data: payload(i), metadata: { actor: 'bench' } });

async function throughput(writers, work) {
  const until = Date.now() + seconds * 1000;
  let total = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: writers }, async (_, w) => {
    for (let i = 0; Date.now() < until; i++) {
      // Not `total += await …`: that reads total before the await, and concurrent writers' counts are lost.
      const n = await work(w, i);
      total += n;
    }
  }));
  return Math.round(total / ((performance.now() - started) / 1000));
}

const append = {};
await store.appendToStream(`warmup-${randomUUID()}`, [event(0)]);
for (const writers of [1, 16]) {
  for (const size of [1, 10]) {
    append[`${size}-event commands, ${writers} writer${writers > 1 ? 's' : ''}`] = await throughput(writers, async (_w, i) => {
      await store.appendToStream(`conversation-${randomUUID()}`, Array.from({ length: size }, (_, k) => event(i * size + k)), { expectedStreamVersion: 'STREAM_DOES_NOT_EXIST' });
      return size;
    });
  }
}

// Projection of the same shape as our read model's conversation rows: one row per stream with counts.
const pool = new pg.Pool({ connectionString: url });
await pool.query('drop table if exists peer_conversations; create table peer_conversations (id text primary key, message_count int not null, updated_at timestamptz)');
const { rows } = await pool.query('select count(*)::int as n from emt_messages');
const present = rows[0].n;
for (let i = present; i < toProject; i += 100) {
  await store.appendToStream(`conversation-${randomUUID()}`, Array.from({ length: Math.min(100, toProject - i) }, (_, k) => event(k)));
}
const total = (await pool.query('select count(*)::int as n from emt_messages')).rows[0].n;
const projection = postgreSQLRawBatchSQLProjection({
  name: 'peer_conversations',
  canHandle: ['MessagesAppended'],
  evolve: (events) =>
    events.map((e) => SQL`insert into peer_conversations (id, message_count, updated_at) values (${e.metadata.streamName}, ${e.data.messages.length}, now())
      on conflict (id) do update set message_count = peer_conversations.message_count + excluded.message_count, updated_at = excluded.updated_at`),
});
const started = performance.now();
const consumer = rebuildPostgreSQLProjections({ connectionString: url, projection });
await consumer.start();
const secondsTaken = (performance.now() - started) / 1000;
const projected = (await pool.query('select coalesce(sum(message_count), 0)::int as n from peer_conversations')).rows[0].n;
await consumer.close?.();
await pool.query('drop table if exists peer_conversations');
await pool.end();
await store.close?.();
process.stdout.write(JSON.stringify({ append, rebuild: { events: total, projected_messages: projected, seconds: Math.round(secondsTaken * 10) / 10, events_per_second: Math.round(total / secondsTaken) } }));
process.exit(0);
