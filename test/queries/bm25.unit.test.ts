import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bm25Idf, bm25Weight, postingCost, TopKSearch, type Bm25Params, type Hit, type Posting, type PostingOrder, type ResolvedDoc } from '../../src/queries/bm25.js';

/**
 * The top-k walk against the formula, in memory: random documents, their postings ordered under
 * other k1, b and avgdl than the query's (the drift the bound must survive), a random filter, and
 * chunks small enough that every branch runs (capped reads, resolves, pruning, exhaustion).
 */

interface Doc {
  id: string;
  len: number;
  tfs: number[];
  pass: boolean;
}

const docArb = (terms: number) =>
  fc.record({
    len: fc.oneof(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 200 })),
    // Mostly absent terms, and small counts: what messages look like.
    tfs: fc.array(fc.oneof({ arbitrary: fc.constant(0), weight: 3 }, { arbitrary: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 20 })), weight: 1 }), { minLength: terms, maxLength: terms }),
    // Passes the filter when under the case's pass rate (tenths).
    draw: fc.integer({ min: 0, max: 9 }),
  });

const caseArb = fc.integer({ min: 1, max: 4 }).chain((terms) =>
  fc.record({
    docs: fc.array(docArb(terms), { minLength: 1, maxLength: 1200, size: 'max' }),
    passRate: fc.integer({ min: 1, max: 10 }),
    k: fc.integer({ min: 1, max: 30 }),
    params: fc.record({ k1: fc.double({ min: 0.2, max: 2.5, noNaN: true }), b: fc.double({ min: 0, max: 1, noNaN: true }) }),
    // The postings' order: other parameters, and an avgdl from a smaller or larger corpus.
    order: fc.record({ k1: fc.double({ min: 0.2, max: 2.5, noNaN: true }), b: fc.oneof(fc.constant(0), fc.constant(1), fc.double({ min: 0, max: 1, noNaN: true })), drift: fc.double({ min: 0.3, max: 3, noNaN: true }) }),
    firstChunk: fc.integer({ min: 1, max: 16 }),
    rareDf: fc.integer({ min: 0, max: 8 }),
    resolveChunk: fc.integer({ min: 1, max: 12 }),
  }),
);

/** Every passing document scored by the formula, best k. */
function exact(docs: readonly Doc[], idfs: readonly number[], avgdl: number, params: Bm25Params, k: number): Hit[] {
  return docs
    .filter((d) => d.pass)
    .map((d) => ({ id: d.id, score: d.tfs.reduce((s, tf, i) => s + idfs[i]! * bm25Weight(tf, d.len, avgdl, params), 0) }))
    .filter((h) => h.score > 0)
    .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1))
    .slice(0, k);
}

/** Runs the walk over in-memory postings, answering its reads and resolves as the SQL does. */
function walk(docs: readonly Doc[], idfs: readonly number[], dfs: readonly number[], avgdl: number, order: PostingOrder, o: { k: number; params: Bm25Params; firstChunk: number; rareDf: number; resolveChunk: number }) {
  const lists = idfs.map((_, term) =>
    docs
      .filter((d) => d.tfs[term]! > 0)
      .map((d): Posting => ({ term, id: d.id, tf: d.tfs[term]!, len: d.len, cost: postingCost(d.tfs[term]!, d.len, order) }))
      .sort((a, b) => a.cost - b.cost || (a.id < b.id ? -1 : 1)),
  );
  const byId = new Map(docs.map((d) => [d.id, d]));
  const search = new TopKSearch(
    idfs.map((idf, i) => ({ term: `t${i}`, idf, df: dfs[i]! })),
    { ...o, avgdl, order },
  );
  for (let steps = 0; steps < 10_000; steps++) {
    const step = search.next();
    if (step.kind === 'done') return { hits: step.hits, search };
    if (step.kind === 'read') {
      const got = step.reads.flatMap((r) =>
        lists[r.term]!.filter((p) => (r.after === undefined || p.cost > r.after.cost || (p.cost === r.after.cost && p.id > r.after.id)) && p.cost <= (r.until ?? Infinity)).slice(0, r.limit),
      );
      search.addPostings(step.reads, got);
    } else {
      const resolved = step.ids.flatMap((id): ResolvedDoc[] => {
        const d = byId.get(id);
        return d ? [{ id, len: d.len, tfs: d.tfs, pass: d.pass }] : [];
      });
      search.addResolved(step.ids, resolved);
    }
  }
  throw new Error('the walk did not finish in 10,000 steps');
}

describe('TopKSearch', () => {
  it('answers the top k of the formula (scores to 1e-9, ids above the k-th score) whatever the order\'s parameters and avgdl', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const docs: Doc[] = c.docs.map((d, i) => ({ len: d.len, tfs: d.tfs.map((tf) => Math.min(tf, d.len)), pass: d.draw < c.passRate, id: `d${String(i).padStart(4, '0')}` }));
        const terms = docs[0]!.tfs.length;
        const dfs = Array.from({ length: terms }, (_, t) => docs.filter((d) => d.tfs[t]! > 0).length);
        const idfs = dfs.map((df) => bm25Idf(docs.length, df));
        const avgdl = Math.max(docs.reduce((s, d) => s + d.len, 0) / docs.length, 1);
        const order: PostingOrder = { k1: c.order.k1, b: c.order.b, avgdl: avgdl * c.order.drift };
        const want = exact(docs, idfs, avgdl, c.params, c.k);
        const { hits } = walk(docs, idfs, dfs, avgdl, order, c);
        expect(hits.length).toBe(want.length);
        hits.forEach((h, i) => expect(Math.abs(h.score - want[i]!.score)).toBeLessThanOrEqual(1e-9));
        const kth = want.at(-1)?.score ?? 0;
        const above = (xs: Hit[]) => xs.filter((h) => h.score > kth + 1e-9).map((h) => h.id);
        expect(above(hits)).toEqual(above(want));
      }),
      { numRuns: 2000 },
    );
  });

  it('reads no more than the bound needs: one clear winner per term ends the walk after the first chunk', () => {
    // 2,000 documents with one term once in a long text, and one short document with it five times.
    const docs: Doc[] = Array.from({ length: 2000 }, (_, i) => ({ id: `d${String(i).padStart(4, '0')}`, len: 60, tfs: [1], pass: true }));
    docs.push({ id: 'top', len: 3, tfs: [5], pass: true });
    const avgdl = docs.reduce((s, d) => s + d.len, 0) / docs.length;
    const params = { k1: 1.2, b: 0.75 };
    const { hits, search } = walk(docs, [bm25Idf(docs.length, docs.length)], [docs.length], avgdl, { ...params, avgdl }, { k: 1, params, firstChunk: 16, rareDf: 0, resolveChunk: 8 });
    expect(hits.map((h) => h.id)).toEqual(['top']);
    expect(search.postingsRead).toBeLessThan(100);
  });
});
