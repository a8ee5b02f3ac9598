import { randomUUID } from 'node:crypto';
import { rng } from '../../bench/corpus.js';
import { conversationStream } from '../../src/domain/conversation/events.js';
import { createProjectionRuntime, type ProjectionRuntime } from '../../src/projections/runtime.js';
import { readModelDefinition } from '../../src/projections/readModel/index.js';
import { lexicalStatsDefinition } from '../../src/projections/lexicalStats.js';
import { createIsolatedTestDatabase, type TestDatabase } from '../support/database.js';
import { silentLogger, until } from '../projections/helpers.js';

// Pronounceable made-up words (stems of their own), drawn with a steep skew: a few are in most
// messages, most in a handful.
const SYLLABLES = ['ka', 'to', 'ri', 'nu', 'se', 'lo', 'mi', 'da', 've', 'zu', 'po', 'ha', 'gi', 'be', 'fo', 'ty'];

export const LABELS = ['alpha', 'beta', 'gamma', 'delta', 'tiny'];
export const FOLDERS = ['/work', '/work/db', '/home', '/home/cooking/bread', '/misc'];

export interface SeededConversation {
  id: string;
  label: string;
  folder: string;
}

/**
 * A corpus for the lexical queries' tests, on a PostgreSQL server of its own with the read model and the
 * lexical projection running on it: conversations of made-up words appended as events in bulk (one
 * INSERT per chunk, as a busy event store holds them), some archived, some pinned, "tiny" a label of
 * a few (a narrow filter).
 */
export interface LexicalCorpus {
  db: TestDatabase;
  random: () => number;
  pick<T>(xs: readonly T[]): T;
  /** The vocabulary, most frequent first. */
  vocabulary: readonly string[];
  conversations: SeededConversation[];
  /** Appends `count` conversations of `messagesPer` messages of `length()` words, timed from `at`, and waits until both projections applied them. */
  append(count: number, messagesPer: number, length: () => number, at: number): Promise<void>;
  /** Deletes conversations (ConversationDeleted) and waits until both projections applied it. */
  remove(ids: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

export async function createLexicalCorpus(seed: number): Promise<LexicalCorpus> {
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const vocabulary = [...new Set(Array.from({ length: 4000 }, () => Array.from({ length: 2 + Math.floor(random() * 3) }, () => pick(SYLLABLES)).join('') + 'x'))];
  const word = () => vocabulary[Math.floor(vocabulary.length * random() ** 3)]!;
  const text = (words: number) => Array.from({ length: words }, word).join(' ');
  const conversations: SeededConversation[] = [];
  // A server of its own: projecting tens of thousands of messages in batches of 2,000 holds
  // transactions open for seconds, and on a shared server every other file's gap-safe reads wait on them.
  const db = await createIsolatedTestDatabase();
  let runtime: ProjectionRuntime | undefined;

  const insert = async (count: number, messagesPer: number, length: () => number, at: number) => {
    const rows: { stream: string; version: number; type: string; data: unknown }[] = [];
    for (let i = 0; i < count; i++) {
      const id = randomUUID();
      const stream = conversationStream(id);
      const label = random() < 0.002 ? 'tiny' : pick(LABELS.slice(0, 4));
      const folder = pick(FOLDERS);
      conversations.push({ id, label, folder });
      const time = (m: number) => new Date(at + i * 60_000 + m * 1000).toISOString();
      rows.push({ stream, version: 1, type: 'ConversationStarted', data: { conversation_id: id, at: time(0), label, folder, importance_score: 1 + Math.floor(random() * 10), metadata: {} } });
      const messages = Array.from({ length: messagesPer }, (_, m) => ({
        id: randomUUID(), seq: m + 1, role: m % 2 ? 'assistant' : 'user', content: text(length()), timestamp: time(m + 1), metadata: {},
      }));
      rows.push({ stream, version: 2, type: 'MessagesAppended', data: { conversation_id: id, at: time(1), messages } });
      let version = 3;
      if (random() < 0.06) rows.push({ stream, version: version++, type: 'ConversationArchived', data: { conversation_id: id, at: time(20) } });
      if (random() < 0.05) rows.push({ stream, version: version++, type: 'ConversationPinned', data: { conversation_id: id, at: time(21) } });
    }
    for (let i = 0; i < rows.length; i += 2000) {
      const chunk = rows.slice(i, i + 2000);
      await db.pool.query(
        `insert into events (stream_id, stream_version, event_id, type, data)
         select * from unnest($1::text[], $2::int[], $3::uuid[], $4::text[], $5::jsonb[])`,
        [chunk.map((r) => r.stream), chunk.map((r) => r.version), chunk.map(() => randomUUID()), chunk.map((r) => r.type), chunk.map((r) => JSON.stringify(r.data))],
      );
    }
  };

  const caughtUp = () =>
    until(
      async () =>
        (
          await db.pool.query<{ done: boolean }>(
            `select count(*) = 2 and bool_and(global_position = (select max(global_position) from events)) as done from projection_checkpoints where state = 'live'`,
          )
        ).rows[0]!.done,
      120_000,
      'the read model and the lexical projection',
    );

  return {
    db,
    random,
    pick,
    vocabulary,
    conversations,
    async append(count, messagesPer, length, at) {
      await insert(count, messagesPer, length, at);
      if (!runtime) {
        runtime = createProjectionRuntime({ pool: db.pool, url: db.url, logger: silentLogger, batchSize: 2000, pollIntervalMs: 100, lease: false }, [
          readModelDefinition,
          lexicalStatsDefinition,
        ]);
        await runtime.start();
      }
      await caughtUp();
    },
    async remove(ids) {
      await db.pool.query(
        `insert into events (stream_id, stream_version, event_id, type, data)
         select s.stream, (select max(stream_version) + 1 from events e where e.stream_id = s.stream), gen_random_uuid(), 'ConversationDeleted',
                jsonb_build_object('conversation_id', s.id, 'at', now())
           from unnest($1::text[], $2::text[]) as s(stream, id)`,
        [ids.map(conversationStream), ids],
      );
      await caughtUp();
    },
    async close() {
      await runtime?.stop();
      await db.drop();
    },
  };
}
