import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageFilter } from '../../src/domain/conversation/index.js';
import { ftsCountSql } from '../../src/queries/ftsCount.js';
import { resultConditions } from '../../src/queries/lexicalTopK.js';
import { Conditions } from '../../src/queries/sql.js';
import { createLexicalCorpus, LABELS, type LexicalCorpus } from './lexicalCorpus.js';

/**
 * The full-text count (up to a cap) by walking the rarest term's postings gives what counting
 * through the GIN index gives: for random queries (conjunctions of common and rare words, phrases,
 * "or", negation, words no message has), every filter kind and caps from 1 to 1,000, and exactly
 * when no cap is set.
 */

let corpus: LexicalCorpus;

beforeAll(async () => {
  corpus = await createLexicalCorpus(77);
  // 1,500 conversations × 10 messages, short turns mostly: common words co-occur densely, rare ones sparsely.
  await corpus.append(1500, 10, () => (corpus.random() < 0.15 ? 30 + Math.floor(corpus.random() * 60) : 1 + Math.floor(corpus.random() * 14)), Date.UTC(2025, 0, 1));
}, 120_000);

afterAll(async () => {
  await corpus?.close();
});

/** The reference: the messages that pass the filter and match the query, counted through the index (up to `upTo` + 1). */
async function indexCount(filter: MessageFilter, query: string, upTo: number | null): Promise<number> {
  const where = resultConditions({ filter, query, syntax: 'websearch' }, new Conditions());
  const limit = where.param(upTo === null ? null : upTo + 1);
  const { rows } = await corpus.db.pool.query<{ n: number }>(
    `select count(*)::int as n from (select from messages m join conversations c on c.id = m.conversation_id ${where.where} limit ${limit}) s`,
    where.values,
  );
  return rows[0]!.n;
}

async function count(filter: MessageFilter, query: string, upTo: number | null, probeCost?: number): Promise<{ n: number; path: string }> {
  const sql = ftsCountSql(filter, query, upTo, probeCost);
  return (await corpus.db.pool.query<{ n: number; path: string }>(sql.text, sql.values)).rows[0]!;
}

const common = () => corpus.vocabulary[Math.floor(corpus.random() * 20)]!;
const rare = () => corpus.vocabulary[Math.floor(corpus.vocabulary.length * (0.2 + 0.8 * corpus.random()))]!;
const anyWord = () => (corpus.random() < 0.6 ? common() : corpus.random() < 0.95 ? rare() : 'zzunknownzz');

/** A query of each shape in turn: conjunctions of 1–4 words, a phrase, "or", a negation, a stop word with words. */
function queryAt(i: number): string {
  const words = (n: number) => Array.from({ length: n }, anyWord).join(' ');
  const shapes = [
    () => words(1 + Math.floor(corpus.random() * 4)),
    () => `${common()} ${common()}`,
    () => `"${anyWord()} ${anyWord()}" ${anyWord()}`,
    () => `${anyWord()} or ${anyWord()}`,
    () => `${common()} -${anyWord()}`,
    () => `the ${words(2)}`,
  ];
  return shapes[i % shapes.length]!();
}

/** A filter of each kind in turn: none, a status, a role, a time, pinned, and narrow ones (one conversation, a label). */
function filterAt(i: number): MessageFilter {
  const kinds: (() => MessageFilter)[] = [
    () => ({ status: 'any' }),
    () => ({ status: 'any' }),
    () => ({ status: 'active' }),
    () => ({ status: 'archived' }),
    () => ({ status: 'any', role: 'assistant' }),
    () => ({ status: 'any', from: { at: new Date(Date.UTC(2025, 0, 1) + corpus.random() * 1500 * 60_000).toISOString(), inclusive: false } }),
    () => ({ status: 'any', pinned: true }),
    () => ({ status: 'any', conversationId: corpus.pick(corpus.conversations).id }),
    () => ({ status: 'any', label: corpus.pick(LABELS) }),
  ];
  return kinds[i % kinds.length]!();
}

/** Counts 150 random queries under filters and caps as the service does and as the index does; answers how often each path ended it. */
async function checkQueries(probeCost: number | undefined): Promise<Record<string, number>> {
  const paths: Record<string, number> = {};
  for (let i = 0; i < 150; i++) {
    const query = queryAt(i);
    const filter = filterAt(i);
    const upTo = corpus.pick([1, 5, 50, 200, 1000, null]);
    const got = await count(filter, query, upTo, probeCost);
    const want = await indexCount(filter, query, upTo);
    expect(got.n, `"${query}" ${JSON.stringify(filter)} up to ${upTo} (${got.path}, probe cost ${probeCost})`).toBe(want);
    const key = `${got.path}:${want > (upTo ?? Infinity) ? 'capped' : 'all'}`;
    paths[key] = (paths[key] ?? 0) + 1;
  }
  return paths;
}

const sum = (paths: Record<string, number>, prefix: string) => Object.entries(paths).reduce((n, [k, v]) => n + (k.startsWith(prefix) ? v : 0), 0);

describe('the full-text count', () => {
  it('counts as the index does, at the service\'s probe cost', { timeout: 300_000 }, async () => {
    const paths = await checkQueries(undefined);
    // Phrases, "or", negations, narrow filters and no cap always go through the index.
    expect(sum(paths, 'index:')).toBeGreaterThan(50);
  });

  it('counts as the index does when the walk is always tried: it stops at the cap or at the end of the rarest term', { timeout: 300_000 }, async () => {
    const paths = await checkQueries(1);
    expect(paths['walk:capped']).toBeGreaterThan(10);
    expect(paths['walk:all']).toBeGreaterThan(10);
  });

  it('counts as the index does when the walk reads its budget short of the cap', { timeout: 300_000 }, async () => {
    // A budget of one posting: a term with few postings is walked (projected to fit), reads its one, and the index counts.
    const paths = await checkQueries(1_000_000);
    expect(sum(paths, 'walk, then index:')).toBeGreaterThan(5);
  });

  it('leaves deleted conversations out, as the index does', { timeout: 300_000 }, async () => {
    // The walk over every live message reads lexical documents alone: a deleted conversation's must be gone.
    const word = corpus.vocabulary[0]!;
    const before = await count({ status: 'any' }, word, null);
    const holding = await corpus.db.pool.query<{ id: string }>(
      `select distinct conversation_id::text as id from lexical_docs where terms @> array[$1]::text[] limit 40`, [word]);
    await corpus.remove(holding.rows.map((r) => r.id));
    const after = await count({ status: 'any' }, word, 100_000, 1);
    expect(after.path).toBe('walk');
    expect(after.n).toBe(await indexCount({ status: 'any' }, word, 100_000));
    expect(after.n).toBeLessThan(before.n);
    await checkQueries(1);
  });
});
