/**
 * Exact top-k BM25 over impact-ordered postings (pure; src/queries/lexicalTopK.ts runs it against
 * the lexical projection). Each query term's postings are read best first (ascending `cost`, see
 * src/projections/lexicalStats.ts) in growing chunks. A message seen in some lists has a lower
 * bound (what it is known to score) and an upper bound (plus, for each list it has not been seen
 * in yet, the most the term could add to a message of its length). A message seen in none scores
 * at most τ = Σ the terms' bounds below their last read posting. The answer is exact when the k-th
 * known score (of messages that pass the filter) is ≥ τ and every message whose upper bound is
 * above it has been resolved (all its term frequencies and the filter read).
 */

import { byScoreThenId } from '../util/rank.js';

/** BM25 parameters: k1 saturates term frequency, b normalises by document length (`[search] bm25_k1`, `bm25_b`). */
export interface Bm25Params {
  k1: number;
  b: number;
}

/** The BM25 parameters of a config's `[search]` section. */
export const bm25Params = (search: { bm25_k1: number; bm25_b: number }): Bm25Params => ({ k1: search.bm25_k1, b: search.bm25_b });

/** Inverse document frequency (the BM25+ form that is never negative). */
export const bm25Idf = (docs: number, df: number): number => Math.log(1 + (docs - df + 0.5) / (df + 0.5));

/** The term-frequency part of BM25: w = tf·(k1+1) / (tf + k1·(1 − b + b·len/avgdl)). */
export const bm25Weight = (tf: number, len: number, avgdl: number, p: Bm25Params): number =>
  tf === 0 ? 0 : (tf * (p.k1 + 1)) / (tf + p.k1 * (1 - p.b + (p.b * len) / avgdl));

/** The parameters the postings were ordered with: cost = k1·(1 − b + b·len/avgdl) / tf. */
export interface PostingOrder {
  k1: number;
  b: number;
  avgdl: number;
}

export const postingCost = (tf: number, len: number, o: PostingOrder) => (o.k1 * (1 - o.b + (o.b * len) / o.avgdl)) / tf;

// Costs are computed in SQL and here; their last bits may differ, so bounds give way by this much.
const SLACK = 1e-9;

/**
 * The most a posting at or after cost `cost` can weigh, for any tf and length, under the query's
 * parameters and avgdl. With u = 1/tf and v = len/tf, K/tf = k1(1−b)·u + (k1·b/avgdl)·v is linear in
 * (u, v), as is the cost; so K/tf ≥ f·cost with f the smaller ratio of the coefficients, and
 * w = (k1+1)/(1 + K/tf) ≤ (k1+1)/(1 + f·cost). Valid whatever avgdl has drifted to.
 */
export function unseenWeightBound(cost: number, avgdl: number, p: Bm25Params, o: PostingOrder): number {
  // A coefficient the order does not have (b = 0 or 1) orders nothing: no bound from it.
  const ratio = (ours: number, theirs: number) => (theirs === 0 ? Infinity : ours / theirs);
  const f = Math.min(ratio(p.k1 * (1 - p.b), o.k1 * (1 - o.b)), ratio((p.k1 * p.b) / avgdl, (o.k1 * o.b) / o.avgdl));
  const scaled = Number.isFinite(f) ? f * cost : 0;
  return ((p.k1 + 1) / (1 + scaled)) * (1 + SLACK);
}

/**
 * The most a term can add to a message of length `len` that its list, read up to `cost`, has not
 * shown: an unseen posting has cost ≥ `cost`, so tf ≤ K_ref(len)/cost (and tf ≤ len).
 */
export function unseenWeightOf(len: number, cost: number, avgdl: number, p: Bm25Params, o: PostingOrder): number {
  const maxTf = Math.min(len, Math.floor((postingCost(1, len, o) / cost) * (1 + SLACK)));
  return maxTf < 1 ? 0 : bm25Weight(maxTf, len, avgdl, p) * (1 + SLACK);
}

export interface QueryTerm {
  term: string;
  idf: number;
  df: number;
}

export interface Posting {
  /** Index of the query term. */
  term: number;
  id: string;
  tf: number;
  len: number;
  cost: number;
}

/** A message resolved: its length, its tf for each query term, and whether it passes the filter. */
export interface ResolvedDoc {
  id: string;
  len: number;
  tfs: number[];
  pass: boolean;
}

export interface Hit {
  id: string;
  score: number;
}

interface Candidate {
  len: number;
  /** tf per query term; undefined: not known yet. */
  tfs: (number | undefined)[];
  /** What the known tfs score: the candidate's lower bound, kept as they arrive. */
  low: number;
  /** Checked against the filter, and passed (a candidate that fails it is closed). */
  passed: boolean;
}

interface TermState {
  idf: number;
  df: number;
  read: number;
  exhausted: boolean;
  /** Cost and id of the last posting read: the next read starts after it. */
  last: { cost: number; id: string } | undefined;
  /** Every posting up to this cost has been read (a read capped by cost came back short): unseen ones cost more. */
  floor: number | undefined;
}

/** One term's next read: postings after `after`, at most `limit`, none costing more than `until`. */
export interface PostingRead {
  term: number;
  after: { cost: number; id: string } | undefined;
  limit: number;
  until?: number;
}

export type Step =
  | { kind: 'read'; reads: PostingRead[] }
  | { kind: 'resolve'; ids: string[] }
  | { kind: 'done'; hits: Hit[] };

export interface TopKOptions {
  k: number;
  params: Bm25Params;
  order: PostingOrder;
  avgdl: number;
  /**
   * First chunk per term; grows fourfold per round. At 100,000 bench conversations 1,024 halved the
   * rounds of k = 10 (6 to 3) and the messages resolved (~420 to 256) against 256, for the same
   * postings read; at k = 50 it read 9,100 postings on average against 14,100 (bench/scaleQuery.ts).
   */
  firstChunk?: number;
  /** A term with at most this many postings is read whole at once. */
  rareDf?: number;
  /** Most messages resolved per round. */
  resolveChunk?: number;
}

/**
 * The search state: feed it what `next()` asks for until it answers `done`. Its work per round
 * follows the candidates still open, not all seen: a candidate leaves once settled (every tf and
 * the filter known: its score is final and goes to the running top k) or once it cannot beat the
 * k-th score (its upper bound only falls, the k-th score only rises), and each candidate's lower
 * bound is kept as postings arrive rather than summed again each round.
 */
export class TopKSearch {
  private readonly terms: TermState[];
  /** Candidates still open: neither settled nor out. */
  private readonly open = new Map<string, Candidate>();
  /** Candidates settled, failed or pruned: postings that name them later change nothing. */
  private readonly closed = new Set<string>();
  /** The best k settled candidates that pass, best first. */
  private readonly best: Hit[] = [];
  private readonly k: number;
  private readonly opts: Required<Omit<TopKOptions, 'k' | 'params' | 'order' | 'avgdl'>>;
  /** Postings and resolutions done: the work, for the caller's give-up rule and its logs. */
  postingsRead = 0;
  resolved = 0;
  rounds = 0;
  cappedReads = 0;

  constructor(terms: readonly QueryTerm[], private readonly o: TopKOptions) {
    this.k = o.k;
    this.opts = { firstChunk: o.firstChunk ?? Math.max(8 * o.k, 1024), rareDf: o.rareDf ?? 2000, resolveChunk: o.resolveChunk ?? Math.max(4 * o.k, 256) };
    this.terms = terms.map((t) => ({ idf: t.idf, df: t.df, read: 0, exhausted: t.df === 0, last: undefined, floor: undefined }));
  }

  /**
   * Postings read for the reads asked: a term that returned fewer than asked is exhausted, or, when
   * its read was capped by cost, read up to that cost.
   */
  addPostings(reads: readonly PostingRead[], postings: readonly Posting[]): void {
    const got = new Array<number>(this.terms.length).fill(0);
    // Each term's postings come in walk order: its last one is where the next read starts.
    const lastOf = new Array<Posting | undefined>(this.terms.length).fill(undefined);
    for (const p of postings) {
      got[p.term]!++;
      lastOf[p.term] = p;
      if (this.closed.has(p.id)) continue;
      let c = this.open.get(p.id);
      if (!c) {
        c = { len: p.len, tfs: new Array<number | undefined>(this.terms.length).fill(undefined), low: 0, passed: false };
        this.open.set(p.id, c);
      }
      if (c.tfs[p.term] === undefined) {
        c.tfs[p.term] = p.tf;
        c.low += this.weight(p.term, p.tf, c.len);
      }
    }
    lastOf.forEach((p, term) => {
      if (p) this.terms[term]!.last = { cost: p.cost, id: p.id };
    });
    for (const r of reads) {
      const t = this.terms[r.term]!;
      t.read += got[r.term]!;
      if (got[r.term]! < r.limit) {
        if (r.until === undefined || t.read >= t.df) t.exhausted = true;
        else t.floor = r.until;
      }
    }
    this.postingsRead += postings.length;
  }

  /** Resolutions of the ids asked: an id not answered is gone (or outside the read model) and fails. */
  addResolved(ids: readonly string[], docs: readonly ResolvedDoc[]): void {
    const byId = new Map(docs.map((d) => [d.id, d]));
    for (const id of ids) {
      if (this.closed.has(id)) continue;
      const d = byId.get(id);
      if (!d || !d.pass) {
        this.open.delete(id);
        this.closed.add(id);
        continue;
      }
      const tfs = this.terms.map((_, i) => d.tfs[i] ?? 0);
      this.open.set(id, { len: d.len, tfs, low: tfs.reduce((s, tf, i) => s + this.weight(i, tf, d.len), 0), passed: true });
    }
    this.resolved += ids.length;
  }

  private weight(term: number, tf: number, len: number): number {
    return this.terms[term]!.idf * bm25Weight(tf, len, this.o.avgdl, this.o.params);
  }

  /** The least cost a posting of the term not read yet can have (undefined: nothing read). */
  private frontier(t: TermState): number | undefined {
    if (t.last === undefined) return t.floor;
    return t.floor === undefined ? t.last.cost : Math.max(t.last.cost, t.floor);
  }

  /** What a term can still add to a message it has not shown (0 once exhausted). */
  private unseen(term: number, len: number | undefined): number {
    const t = this.terms[term]!;
    if (t.exhausted) return 0;
    const cost = this.frontier(t);
    if (cost === undefined) return t.idf * (this.o.params.k1 + 1);
    if (len === undefined) return t.idf * unseenWeightBound(cost, this.o.avgdl, this.o.params, this.o.order);
    return t.idf * unseenWeightOf(len, cost, this.o.avgdl, this.o.params, this.o.order);
  }

  /**
   * The least cost c such that, with every open term read up to c, τ ≤ θ: reading further cannot
   * tighten the bound past the k-th score known now (which only grows). Undefined when no cost gets
   * there (an order that bounds nothing) or the bound is met already.
   */
  private targetCost(theta: number): number | undefined {
    const open = this.terms.filter((t) => !t.exhausted);
    const tauAt = (c: number) => open.reduce((s, t) => s + t.idf * unseenWeightBound(Math.max(c, this.frontier(t) ?? 0), this.o.avgdl, this.o.params, this.o.order), 0);
    let lo = Math.min(...open.map((t) => this.frontier(t) ?? 0));
    if (!(theta > 0) || tauAt(lo) <= theta) return undefined;
    let hi = Math.max(lo, 1e-6) * 2;
    for (let i = 0; tauAt(hi) > theta; i++, hi *= 2) if (i > 60) return undefined;
    for (let i = 0; i < 60 && hi - lo > hi * 1e-12; i++) {
      const mid = (lo + hi) / 2;
      if (tauAt(mid) > theta) lo = mid;
      else hi = mid;
    }
    return hi;
  }

  /** The k-th best settled score (−∞ while fewer than k have settled). */
  private theta(): number {
    return this.best.length >= this.k ? this.best[this.k - 1]!.score : -Infinity;
  }

  /** A final score into the running top k (binary insertion; what falls past k is dropped). */
  private settle(hit: Hit): void {
    let lo = 0;
    let hi = this.best.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (byScoreThenId(this.best[mid]!, hit) <= 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo >= this.k) return;
    this.best.splice(lo, 0, hit);
    if (this.best.length > this.k) this.best.pop();
  }

  /** τ: the most a message seen in no list can score. */
  unseenBound(): number {
    return this.terms.reduce((s, _, i) => s + this.unseen(i, undefined), 0);
  }

  next(): Step {
    this.rounds++;
    // What each open term can still add, by message length: lengths repeat across candidates.
    const unseenByLen = this.terms.map(() => new Map<number, number>());
    const unseenOf = (term: number, len: number) => {
      const cache = unseenByLen[term]!;
      let u = cache.get(len);
      if (u === undefined) cache.set(len, (u = this.unseen(term, len)));
      return u;
    };
    const contenders: { id: string; high: number }[] = [];
    for (const [id, c] of this.open) {
      let high = c.low;
      let known = true;
      for (let i = 0; i < c.tfs.length; i++) {
        if (c.tfs[i] !== undefined || this.terms[i]!.exhausted) continue;
        known = false;
        high += unseenOf(i, c.len);
      }
      if (known && c.passed) {
        this.open.delete(id);
        this.closed.add(id);
        this.settle({ id, score: c.low });
      } else if (high <= this.theta()) {
        // Its bound only falls and the k-th score only rises: it is out for good.
        this.open.delete(id);
        this.closed.add(id);
      } else contenders.push({ id, high });
    }
    const theta = this.theta();
    const live = contenders.filter((c) => c.high > theta).sort((a, b) => b.high - a.high);
    const tau = this.unseenBound();
    const exhausted = this.terms.every((t) => t.exhausted);
    const settledK = this.best.length >= this.k;
    // Read on while unseen messages may still beat the k-th, unless contenders must be resolved first
    // to know the k-th at all.
    if (live.length > 0 && (tau <= theta || exhausted || !settledK || live.length <= this.opts.resolveChunk)) {
      return { kind: 'resolve', ids: live.slice(0, this.opts.resolveChunk).map((c) => c.id) };
    }
    if (!exhausted && (tau > theta || live.length > 0)) {
      // Once the k-th score is known, a read goes no further than the cost at which the bound meets it
      // (with flat impacts the chunks overshot it 2–3 times at k = 100), and skips a term already there.
      const uncapped = this.terms.flatMap((t, term): PostingRead[] =>
        t.exhausted ? [] : [{ term, after: t.last, limit: t.df <= this.opts.rareDf ? t.df + 1 : Math.max(this.opts.firstChunk, 3 * t.read) }],
      );
      const until = settledK ? this.targetCost(theta) : undefined;
      const capped =
        until === undefined
          ? []
          : uncapped.flatMap((r): PostingRead[] => {
              const t = this.terms[r.term]!;
              if (t.last === undefined) return [r];
              return (this.frontier(t) ?? 0) < until ? [{ ...r, until }] : [];
            });
      // Every open term already at the target can only come from rounding: read on as before.
      const reads = capped.length > 0 ? capped : uncapped;
      this.cappedReads += reads.filter((r) => r.until !== undefined).length;
      return { kind: 'read', reads };
    }
    return { kind: 'done', hits: this.best.slice() };
  }
}
