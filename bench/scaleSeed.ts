/**
 * `npx tsx bench/scaleSeed.ts <database-url> <conversations>`: appends the bench corpus's events in
 * bulk (ConversationStarted + MessagesAppended per conversation, straight into the event store, not
 * through the API), for measuring queries and projections at scale without hours of seeding.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { conversationAt } from './corpus.js';
import { migrate } from '../src/db/migrate.js';
import { conversationStream } from '../src/domain/conversation/events.js';

const [url, countText, seedText] = process.argv.slice(2);
if (!url || !countText) throw new Error('usage: scaleSeed.ts <database-url> <conversations> [seed]');
const count = Number(countText);
const seed = Number(seedText ?? 42);
const admin = new URL(url);
const name = admin.pathname.slice(1);
admin.pathname = '/postgres';
const a = new pg.Client({ connectionString: admin.toString() });
await a.connect();
await a.query(`create database ${name}`).catch(() => {});
await a.end();
const pool = new pg.Pool({ connectionString: url, max: 4 });
await migrate(pool);
const CHUNK = 2000;
const started = performance.now();
for (let from = 0; from < count; from += CHUNK) {
  const streams: string[] = [], versions: number[] = [], ids: string[] = [], types: string[] = [], data: string[] = [];
  for (let i = from; i < Math.min(count, from + CHUNK); i++) {
    const c = conversationAt(seed, i);
    const id = randomUUID();
    const at = c.messages[0]!.timestamp;
    const stream = conversationStream(id);
    streams.push(stream, stream);
    versions.push(1, 2);
    ids.push(randomUUID(), randomUUID());
    types.push('ConversationStarted', 'MessagesAppended');
    data.push(
      JSON.stringify({ conversation_id: id, at, label: c.label, folder: c.folder, importance_score: c.importance_score, metadata: {} }),
      JSON.stringify({ conversation_id: id, at, messages: c.messages.map((m, j) => ({ id: randomUUID(), seq: j + 1, role: m.role, content: m.content, timestamp: m.timestamp, metadata: {} })) }),
    );
  }
  await pool.query(
    `insert into events (stream_id, stream_version, event_id, type, data)
     select * from unnest($1::text[], $2::int[], $3::uuid[], $4::text[], $5::jsonb[])`,
    [streams, versions, ids, types, data],
  );
  if ((from / CHUNK) % 10 === 0) process.stdout.write(`${from + CHUNK} conversations, ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}
await pool.end();
process.stdout.write(`appended ${count} conversations in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
