import { ChromaClient, type Collection } from 'chromadb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passesFilter, ROLES, type FilteredMessage, type MessageFilter, type TimeBound } from '../../src/domain/conversation/index.js';
import { messageFilterConditions } from '../../src/queries/messageFilter.js';
import { Conditions } from '../../src/queries/sql.js';
import { vectorMetadata } from '../../src/vectors/metadata.js';
import { toWhere } from '../../src/vectors/where.js';
import { until } from '../support/until.js';
import { startTestChroma, type TestChroma } from '../support/chroma.js';
import { sendJson } from '../support/testApp.js';
import { createQueryApp, type QueryApp } from './support.js';

/**
 * One meaning for a message filter: the SQL of the lexical side and the Chroma `where` of the semantic
 * side select exactly the messages the domain's `passesFilter` passes, for random filters over a corpus
 * written through the API (Chroma for the bounds it can hold: whole seconds, as /api/v1/query gives).
 */

const LABELS = ['work', 'home', 'Work'];
const FOLDERS = ['/', '/a', '/a/b', '/a/b/c', '/ab', '/z'];
const NAMES = ['ada', 'bob'];
const BASE = Date.UTC(2025, 2, 1);

let t: QueryApp;
let chroma: TestChroma;
let collection: Collection;
let corpus: (FilteredMessage & { id: string })[] = [];

beforeAll(async () => {
  t = await createQueryApp();
  // 18 conversations over every label, folder, status, pin and importance; messages a third of a second apart.
  // Conversations 1, 5, 9, 13, 17 are archived; 2, 7, 12, 17 pinned; 3, 10, 17 deleted.
  let last = '';
  const write = async (method: string, path: string, body?: unknown) => {
    const res = await sendJson(t.app, method, path, body);
    expect(res.status).toBeLessThan(300);
    last = res.headers.get('x-sekha-position') ?? last;
  };
  for (let i = 0; i < 18; i++) {
    const messages = Array.from({ length: 4 }, (_, m) => ({
      role: ROLES[(i + m) % ROLES.length],
      content: `message ${m} of ${i}`,
      ...(m % 3 === 2 ? {} : { name: NAMES[(i + m) % 2] }),
      timestamp: new Date(BASE + i * 1000 + m * 333).toISOString(),
    }));
    const c = await t.create({ label: LABELS[i % 3], folder: FOLDERS[i % FOLDERS.length], importance_score: 1 + (i % 10), messages });
    last = c.position;
    if (i % 4 === 1) await write('PUT', `/api/v1/conversations/${c.id}/archive`, {});
    if (i % 5 === 2) await write('PUT', `/api/v1/conversations/${c.id}/pin`, {});
    if (i % 7 === 3) await write('DELETE', `/api/v1/conversations/${c.id}`);
  }
  // The read model has applied every write once it has passed the last one's position.
  const caughtUp = async () => (await sendJson(t.app, 'GET', `/api/v1/conversations?min_position=${encodeURIComponent(last)}&wait_ms=5000`)).status === 200;
  await until(caughtUp, 60_000, 'the read model at the last write');
  const { rows } = await t.deps.pools.read.query<{ id: string; conversation_id: string; label: string; folder: string; status: FilteredMessage['status']; pinned: boolean; importance: number; role: FilteredMessage['role']; name: string | null; timestamp: Date }>(
    `select m.id::text as id, m.conversation_id::text as conversation_id, c.label, c.folder, c.status, c.pinned, c.importance_score as importance, m.role, m.name, m.timestamp
       from messages m join conversations c on c.id = m.conversation_id`,
  );
  corpus = rows.map((r) => ({ id: r.id, conversationId: r.conversation_id, label: r.label, folder: r.folder, status: r.status, pinned: r.pinned, importance: r.importance, role: r.role, name: r.name ?? undefined, timestamp: r.timestamp.toISOString() }));
  expect(new Set(corpus.map((m) => m.status))).toEqual(new Set(['active', 'archived', 'deleted']));

  // The vectors of the live messages, with the metadata the vectors projector writes.
  chroma = await startTestChroma();
  const u = new URL(chroma.url);
  collection = await new ChromaClient({ host: u.hostname, port: Number(u.port) }).createCollection({ name: 'filters', embeddingFunction: null });
  const live = corpus.filter((m) => m.status !== 'deleted');
  await collection.add({
    ids: live.map((m) => m.id),
    embeddings: live.map((_, i) => [1, i]),
    metadatas: live.map((m) =>
      vectorMetadata(
        { conversation_id: m.conversationId, role: m.role, name: m.name ?? null, timestamp: m.timestamp },
        { label: m.label, folder: m.folder, status: m.status as 'active' | 'archived', pinned: m.pinned, importance: m.importance },
      ),
    ),
  });
}, 120_000);

afterAll(async () => {
  await chroma?.stop();
  await t?.close();
});

const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 3 });
/** A bound on a whole second (what Chroma holds exactly) or anywhere within one. */
const bound = (wholeSeconds: boolean): fc.Arbitrary<TimeBound> =>
  fc.record({
    at: fc.integer({ min: -2, max: 20 }).chain((s) => (wholeSeconds ? fc.constant(s * 1000) : fc.integer({ min: s * 1000, max: s * 1000 + 999 }))).map((ms) => new Date(BASE + ms).toISOString()),
    inclusive: fc.boolean(),
  });
const filterArb = (wholeSeconds: boolean): fc.Arbitrary<MessageFilter> =>
  fc.record({
    status: fc.constantFrom('active', 'archived', 'any'),
    label: optional(fc.constantFrom(...LABELS)),
    folder: optional(fc.constantFrom(...FOLDERS)),
    folderTree: optional(fc.constantFrom(...FOLDERS)),
    pinned: optional(fc.boolean()),
    conversationId: optional(fc.constantFrom(...new Set(corpus.map((m) => m.conversationId)))),
    role: optional(fc.constantFrom(...ROLES)),
    name: optional(fc.constantFrom(...NAMES)),
    importanceMin: optional(fc.integer({ min: 1, max: 10 })),
    importanceMax: optional(fc.integer({ min: 1, max: 10 })),
    // Chroma holds a bound exactly when it starts inclusive or ends exclusive on a whole second.
    from: optional(wholeSeconds ? bound(true).map((b) => ({ ...b, inclusive: true })) : bound(false)),
    to: optional(wholeSeconds ? bound(true).map((b) => ({ ...b, inclusive: false })) : bound(false)),
  });

const expected = (f: MessageFilter) => corpus.filter((m) => passesFilter(f, m)).map((m) => m.id).sort();

async function sqlIds(f: MessageFilter): Promise<string[]> {
  const where = messageFilterConditions(f, new Conditions());
  const { rows } = await t.deps.pools.read.query<{ id: string }>(`select m.id::text as id from messages m join conversations c on c.id = m.conversation_id ${where.where}`, where.values);
  return rows.map((r) => r.id).sort();
}

async function chromaIds(f: MessageFilter): Promise<string[]> {
  const where = toWhere(f);
  const got = await collection.get(where ? { where, include: [] } : { include: [] });
  return [...got.ids].sort();
}

describe('one meaning for a message filter', () => {
  it('SQL selects what passesFilter passes, for bounds anywhere in a second', async () => {
    await fc.assert(
      fc.asyncProperty(filterArb(false), async (f) => {
          expect(await sqlIds(f)).toEqual(expected(f));
        }), { numRuns: 300 });
  });

  it('Chroma and SQL select what passesFilter passes, for the whole-second bounds of /api/v1/query', async () => {
    await fc.assert(
      fc.asyncProperty(filterArb(true), async (f) => {
        const want = expected(f);
        expect(await sqlIds(f)).toEqual(want);
        expect(await chromaIds(f)).toEqual(want);
      }),
      { numRuns: 300 },
    );
  });
});
