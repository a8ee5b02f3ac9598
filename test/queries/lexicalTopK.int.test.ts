import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lexicalDocument } from '../../src/domain/conversation/index.js';
import { lexicalStatsDefinition } from '../../src/projections/lexicalStats.js';
import type { Bm25Params } from '../../src/queries/bm25.js';
import { lexicalExact, lexicalTopK } from '../../src/queries/lexicalTopK.js';
import { rng } from '../../bench/corpus.js';
import { until } from '../projections/helpers.js';
import { sendJson } from '../support/testApp.js';
import { createQueryApp, type QueryApp } from './support.js';

const VOCABULARY = ['harbour', 'lantern', 'orchard', 'glacier', 'violin', 'meadow', 'compass', 'falcon', 'quarry', 'thimble'];

let t: QueryApp;
/** Each message's lexical document (name, text and day): what BM25 scores. */
const docs: { id: string; document: string }[] = [];

beforeAll(async () => {
  // The query route's fts ranking without neighbour smoothing: BM25 alone.
  t = await createQueryApp({ config: { search: { neighbour_weight: 0 } } }, [lexicalStatsDefinition]);
  // Messages of varied lengths with skewed word frequencies, so that tf, df and length all matter.
  const random = rng(11);
  const contents = Array.from({ length: 40 }, () =>
    Array.from({ length: 1 + Math.floor(random() * 25) }, () => VOCABULARY[Math.floor(random() ** 2 * VOCABULARY.length)]!).join(' '),
  );
  const c = await t.create({ label: 'bm25', folder: '/bm25', messages: contents.map((content) => ({ role: 'user', content })) });
  // Two projectors, each at its own pace: wait for both the statistics and the read model's messages.
  await until(
    async () =>
      (await t.deps.pools.read.query(`select (select docs from lexical_totals) = 40 and (select count(*) from messages where conversation_id = $1) = 40 as done`, [c.id])).rows[0]?.done === true,
    15_000,
    'lexical stats and read model',
  );
  const { rows } = await t.deps.pools.read.query<{ id: string; name: string | null; content: string; timestamp: Date }>(
    'select id::text, name, content, timestamp from messages where conversation_id = $1',
    [c.id],
  );
  docs.push(...rows.map((r) => ({ id: r.id, document: lexicalDocument({ name: r.name, text: r.content, timestamp: r.timestamp.toISOString() }) })));
});
afterAll(() => t.close());

/** BM25 computed here from PostgreSQL's own lexemes: the reference the SQL must agree with. */
async function reference(query: string, p: Bm25Params): Promise<Map<string, number>> {
  const lexemes = async (text: string) =>
    (await t.deps.pools.read.query<{ lexeme: string; tf: number }>(`select lexeme, coalesce(array_length(positions, 1), 1) as tf from unnest(to_tsvector('english', $1))`, [text])).rows;
  const perDoc = await Promise.all(docs.map(async (d) => ({ id: d.id, terms: new Map((await lexemes(d.document)).map((l) => [l.lexeme, l.tf])) })));
  const len = (terms: Map<string, number>) => [...terms.values()].reduce((a, b) => a + b, 0);
  const avgdl = perDoc.reduce((a, d) => a + len(d.terms), 0) / perDoc.length;
  const scores = new Map<string, number>();
  for (const { lexeme } of await lexemes(query)) {
    const df = perDoc.filter((d) => d.terms.has(lexeme)).length;
    const idf = Math.log(1 + (perDoc.length - df + 0.5) / (df + 0.5));
    for (const d of perDoc) {
      const tf = d.terms.get(lexeme);
      if (!tf) continue;
      const s = (idf * (tf * (p.k1 + 1))) / (tf + p.k1 * (1 - p.b + (p.b * len(d.terms)) / avgdl));
      scores.set(d.id, (scores.get(d.id) ?? 0) + s);
    }
  }
  return scores;
}

describe('top-k BM25 over the lexical projection', () => {
  it('scores as the BM25 formula does, for the textbook parameters and for ours, on every path', async () => {
    for (const params of [{ k1: 1.2, b: 0.75 }, { k1: 0.9, b: 0.3 }, { k1: 2, b: 0 }, { k1: 0.5, b: 1 }]) {
      for (const query of ['harbour', 'glacier violin', 'thimble quarry falcon', 'lanterns in the orchard']) {
        const expected = await reference(query, params);
        // Every message is in /bm25: a filter of the folder is narrow; without one, the postings are walked.
        const filter = { status: 'active' } as const;
        const narrow = { status: 'active', folderTree: '/bm25' } as const;
        // In one statement (few postings), through the postings, scored inside the narrow folder, and the full scan.
        const few = (await lexicalTopK(t.deps.pools.read, { query, filter, k: 100, params }))._unsafeUnwrap();
        const walked = (await lexicalTopK(t.deps.pools.read, { query, filter, k: 100, params, fewPostings: 0 }))._unsafeUnwrap();
        const scoped = (await lexicalTopK(t.deps.pools.read, { query, filter: narrow, k: 100, params, fewPostings: 0 }))._unsafeUnwrap();
        expect([few.path, walked.path, scoped.path]).toEqual(['few', 'postings', 'narrow']);
        const answers = [few.hits, walked.hits, scoped.hits, (await lexicalExact(t.deps.pools.read, { query, filter: narrow, k: 100, params }))._unsafeUnwrap()];
        for (const hits of answers) {
          expect(hits.map((r) => r.id).sort()).toEqual([...expected.keys()].sort());
          for (const r of hits) expect(r.score).toBeCloseTo(expected.get(r.id)!, 9);
          // Best first.
          expect(hits.map((r) => r.score)).toEqual([...hits.map((r) => r.score)].sort((a, b) => b - a));
        }
        // k below the matches: the statement's limit, and the walk's bounds, decide.
        const best = [...expected.values()].sort((a, b) => b - a).slice(0, 3);
        for (const [fewPostings, path] of [[undefined, 'few'], [0, 'postings']] as const) {
          const top3 = (await lexicalTopK(t.deps.pools.read, { query, filter, k: 3, params, fewPostings }))._unsafeUnwrap();
          expect(top3.hits.map((h) => h.score)).toEqual(best.map((s) => expect.closeTo(s, 9)));
          expect(top3.path).toBe(path);
        }
      }
    }
  });

  it('the query route uses [search] bm25_k1 and bm25_b', async () => {
    const ranked = async (app: QueryApp) => {
      const res = await sendJson(app.app, 'POST', '/api/v1/query', { query: 'thimble harbour', mode: 'fts', limit: 40, filters: { folder: '/bm25' } });
      expect(res.status).toBe(200);
      return res.body.results.map((r: { message_id: string; score: number }) => [r.message_id, r.score]);
    };
    const expected = [...(await reference('thimble harbour', { k1: 0.9, b: 0.3 }))].sort((a, b) => b[1] - a[1]);
    const got = await ranked(t);
    expect(got.map((r: [string, number]) => r[1])).toEqual(expected.map(([, s]) => expect.closeTo(s, 9)));
  });
});
