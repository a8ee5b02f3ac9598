import type pg from 'pg';
import { ok, okAsync, ResultAsync } from 'neverthrow';
import { TEXT_SEARCH_CONFIG, type MessageFilter } from '../domain/conversation/index.js';
import { bm25Idf, bm25Weight, TopKSearch, type Bm25Params, type Hit, type Posting, type QueryTerm, type ResolvedDoc } from './bm25.js';
import { filterScope, messageFilterConditions, selectsEveryLiveMessage } from './messageFilter.js';
import type { ApiError } from '../http/errors.js';
import { Conditions, prepared, queryError, retryingDeadlocks } from './sql.js';
import { withReadSnapshot } from '../db/transaction.js';
import { byScoreThenId } from '../util/rank.js';


/** User text as a query: NUL cannot reach Postgres; everything else the parsers accept. */
export const ftsText = (query: string): string => query.replace(/\u0000/g, ' ').trim();

/** Adds SQL conditions on a message `m` (the read model's messages) and its conversation `c`. */
type SqlFilter = (into: Conditions) => Conditions;

export interface LexicalTopKInput {
  query: string;
  /** How the query's terms are read: its words (default), or the positive terms of web-search syntax (negated ones left out). */
  syntax?: 'words' | 'websearch';
  /** The messages results may come from; a narrow one is scored whole. */
  filter: MessageFilter;
  k: number;
  params: Bm25Params;
  /** Query terms with at most this many postings in all are scored whole in one statement (default FEW_POSTINGS; 0: always walk). */
  fewPostings?: number;
  /** Columns the caller shows for a page of the hits: fetched in the same statement when it answers (`rows`). */
  page?: HitColumns;
  /**
   * Counts the messages that match (web-search syntax) and pass the filter, when the caller wants
   * `matches`. The first statement counts them itself when it can (few postings, a conjunction, a
   * filter every live message passes); else this runs beside the rest of the search.
   */
  countMatches?: () => ResultAsync<number, ApiError>;
}

/** A page of hits (from `offset`, `limit` of them) and its columns: SQL over the message `m` and its conversation `c`, given the query text's placeholder. */
export interface HitColumns {
  offset: number;
  limit: number;
  columns: (query: string) => Record<string, string>;
}

export interface LexicalTopK {
  hits: Hit[];
  /**
   * How the answer was found: every match scored in one statement (few postings), top-k over
   * postings, scored inside a narrow filter, or a full scan.
   */
  path: 'few' | 'postings' | 'narrow' | 'scan';
  postingsRead: number;
  resolved: number;
  rounds: number;
  /** Reads the walk capped at the cost where its bound meets the k-th score. */
  cappedReads: number;
  /** The page's columns (input.page) by message id, for the hits one statement found (some may be missing). */
  rows?: Map<string, Record<string, unknown>>;
  /** How many messages match and pass the filter (given input.countMatches). */
  matches?: number;
}

/**
 * What a result must pass: the filter, and with web-search syntax the query itself (its phrases and
 * negations, which the postings of its positive terms cannot tell).
 */
export function resultConditions(input: Pick<LexicalTopKInput, 'filter' | 'query' | 'syntax'>, into: Conditions): Conditions {
  messageFilterConditions(input.filter, into);
  if (input.syntax === 'websearch') into.add(`m.search @@ websearch_to_tsquery('${TEXT_SEARCH_CONFIG}', ?)`, ftsText(input.query));
  return into;
}

/**
 * Whether a tsquery (SQL expression) is a conjunction of lexemes: no "or", negation or phrase (nor an
 * escaped quote its text could hide). A document then matches exactly when it holds every lexeme.
 */
export const isConjunctionSql = (tsquery: string) =>
  `(regexp_replace((${tsquery})::text, '''(?:[^'']|'''')*''', '', 'g') !~ '[|!<]' and strpos((${tsquery})::text, '\\') = 0)`;

/**
 * The result conditions as a filter. Given `conjunction`, the positive terms of a web-search query
 * known to be their conjunction, the query is met by the lexical document's terms instead, without
 * reading the message's search vector.
 */
const sqlFilter =
  (input: Pick<LexicalTopKInput, 'filter' | 'query' | 'syntax'>, conjunction?: string[]): SqlFilter =>
  (into) =>
    input.syntax === 'websearch' && conjunction ? messageFilterConditions(input.filter, into).add('d.terms @> ?::text[]', conjunction) : resultConditions(input, into);

// A filter that selects at most this many messages (counted from its conversations) is scored whole.
const NARROW_MESSAGES = 5000;
const NARROW_CONVERSATIONS = 2000;
// Query terms with at most this many postings in all are scored whole, in one statement. Measured at
// 10,000 conversations (k = 10, loaded machine): the statement takes ~6 ms at 2,000 postings, 15–25 ms
// at 6,000–8,000 and 40–80 ms at 25,000; the walk 10–30 ms. Below the crossover, with a margin.
export const FEW_POSTINGS = 4000;
// Rows the one statement returns beyond k, so that last-bit differences between SQL's and our
// arithmetic cannot move a message across the k-th place.
const FEW_SLACK = 8;
// Past this much work the postings walk gives way to one exact scan (never seen on the bench corpus).
const MAX_POSTINGS = 2_000_000;
const MAX_ROUNDS = 40;

/** The distinct lexemes of a query ($1): its words, or the positive terms of web-search syntax. */
export const QUERY_TERMS = {
  words: `select distinct lexeme as term from unnest(to_tsvector('${TEXT_SEARCH_CONFIG}', $1))`,
  // querytree() drops what a query must not contain; what is left is quoted lexemes with operators.
  websearch: `select distinct replace(l[1], '''''', '''') as term
                from regexp_matches(querytree(websearch_to_tsquery('${TEXT_SEARCH_CONFIG}', $1)), '''((?:[^'']|'''')*)''', 'g') as l`,
};

/**
 * The first statement of every query: the statistics, and when the query's terms have at most
 * `few` postings in all, the best `n` messages that pass the filter with their tfs. Those are
 * scored from the postings alone (tf and len), best first, and the filter is looked up for them in
 * that order only until `n` pass: the cost follows the number of postings and k, never the corpus.
 * Then it also returns the page's columns (`page`) for those rows, and with `countsEveryMatch` (a
 * filter every live message passes) a conjunction's number of matches: the whole of a full-text
 * search at 1,000 and 10,000 bench conversations in one statement.
 */
function firstSql(syntax: keyof typeof QUERY_TERMS, query: string, filter: SqlFilter, params: Bm25Params, few: number, n: number, page?: HitColumns, countsEveryMatch = false): { text: string; values: unknown[] } {
  const where = new Conditions();
  where.param(query);
  const k1 = `${where.param(params.k1)}::float8`;
  const b = `${where.param(params.b)}::float8`;
  const fewParam = where.param(few);
  const limit = where.param(n);
  // The page's rows in SQL's order, none beside it (each costs ~0.4 ms of ts_headline): a row our
  // arithmetic moves into the page is read apart.
  const columns = page
    ? `case when r.rn > ${where.param(page.offset)} and r.rn <= ${where.param(page.offset + page.limit)}
            then (select json_build_object(${Object.entries(page.columns('$1')).map(([name, sql]) => `'${name}', ${sql}`).join(', ')})
                    from messages m join conversations c on c.id = m.conversation_id where m.id = r.message_id) end`
    : 'null';
  filter(where);
  const pass = where.parts.length ? where.parts.join(' and ') : 'true';
  return {
    text: `
      with q as (${QUERY_TERMS[syntax]}),
      -- One row, said so: a version built before its totals were analysed at creation still plans
      -- them as ~1,000 rows, which made a rare term's scoring sort every posting.
      t as (select greatest(docs, 1)::float8 as docs, total_len::float8 as total_len, avgdl_ref, k1_ref, b_ref from lexical_totals limit 1),
      qt as (select q.term, coalesce(lt.df, 0) as df from q left join lexical_terms lt on lt.term = q.term),
      -- BM25's constant parts once per query and term, in float8 (numeric per posting cost ~3 µs):
      -- a posting's score is idf · tf·(k1 + 1) / (tf + k1·(1 − b) + k1·b·len/avgdl).
      w as (select qt.term, ln(1 + (t.docs - qt.df::float8 + 0.5) / (qt.df::float8 + 0.5)) * (${k1} + 1) as idf_k1,
                   ${k1} * (1 - ${b}) as k1_b, ${k1} * ${b} / greatest(t.total_len / t.docs, 1) as k1_b_avgdl
              from qt cross join t),
      st as (select coalesce(array_agg(qt.term order by qt.term), '{}') as terms, coalesce(array_agg(qt.df order by qt.term), '{}') as dfs, sum(qt.df) as postings from qt),
      cj as (select ${syntax === 'websearch' ? isConjunctionSql(`websearch_to_tsquery('${TEXT_SEARCH_CONFIG}', $1)`) : 'false'} as ok),
      -- Every message with a query term, scored; of a conjunction only those with every term (its matches).
      g as materialized (
        select p.message_id, sum(w.idf_k1 * p.tf / (p.tf + w.k1_b + w.k1_b_avgdl * p.len)) as score
          from w join lexical_postings p on p.term = w.term
         where (select postings from st) <= ${fewParam}
         group by p.message_id
        having not (select ok from cj) or count(*) = (select count(*) from qt)),
      few as (
        select s.message_id, s.score, f.len, f.tfs
          -- offset 0 keeps the order here and the filter out: it is looked up per row, best first.
          from (select * from g order by score desc, message_id offset 0) s
          cross join lateral (
            select d.len, ${tfsSql('(select terms from st)')} as tfs
              from lexical_docs d ${joinsFor(where, 'join')}
             where d.message_id = s.message_id and ${pass} offset 0) f
         limit ${limit}),
      ranked as (select few.*, row_number() over (order by few.score desc, few.message_id) as rn from few)
      select t.docs, t.total_len, t.avgdl_ref, t.k1_ref, t.b_ref, st.terms, st.dfs, coalesce(st.postings <= ${fewParam}, true) as few, cj.ok as conjunction,
             -- A conjunction's matches are g's messages; when the filter passes every live message, all of them.
             case when ${countsEveryMatch} and cj.ok and coalesce(st.postings <= ${fewParam}, true) then (select count(*) from g)::int end as matches,
             (select coalesce(json_agg(json_build_array(r.message_id::text, r.len, r.tfs, ${columns}) order by r.rn), '[]') from ranked r) as hits
        from t, st, cj`,
    values: where.values,
  };
}

/**
 * The next postings of each term asked, one row per term: its postings as one text, "id,tf,len,cost"
 * joined by ";" in walk order. A row per posting cost the service more than the statement (the row
 * parsing, ~3,000 rows a full-text query at 100,000 bench conversations); float8's text is its
 * shortest exact form, which parseFloat reads back to the same double.
 */
const READ_SQL = `
  select r.i as term, p.postings
    from unnest($1::text[], $2::float8[], $3::uuid[], $4::int[], $5::int[], $6::float8[]) as r(term, cost, id, lim, i, until)
    cross join lateral (
      select string_agg(concat_ws(',', message_id, tf, len, cost), ';' order by cost, message_id) as postings
        from (select message_id, tf, len, cost from lexical_postings p
               where p.term = r.term and (p.cost, p.message_id) > (r.cost, r.id) and p.cost <= r.until
               order by p.cost, p.message_id limit r.lim) p) p`;

/** A statement's records as one text ("a,b,c" joined by ";", see READ_SQL) split into their fields. */
const records = (text: string | null | undefined): string[][] => (text ? text.split(';').map((r) => r.split(',')) : []);

/** READ_SQL's rows as postings, in walk order per term. */
export const postingsOf = (rows: readonly { term: number; postings: string | null }[]): Posting[] =>
  rows.flatMap(({ term, postings }) => records(postings).map(([id, tf, len, cost]) => ({ term, id: id!, tf: Number(tf), len: Number(len), cost: Number(cost) })));

const NO_ID = '00000000-0000-0000-0000-000000000000';

/**
 * tf of each query term (the text[] `terms`) in a document `d`, in the query terms' order. With their
 * number known, one array expression: the subquery form cost ~14 µs a document (resolving 256: 9 ms
 * against 5 at 100,000 bench conversations).
 */
const tfsSql = (terms: string, count?: number) =>
  count === undefined
    ? `array(select coalesce(d.tfs[array_position(d.terms, q.term)], 0) from unnest(${terms}::text[]) with ordinality as q(term, i) order by q.i)`
    : `array[${Array.from({ length: count }, (_, i) => `coalesce(d.tfs[array_position(d.terms, (${terms}::text[])[${i + 1}])], 0)`).join(', ')}]::int[]`;

/** The joins a filter needs from a lexical document `d`: its conversation `c`, and its message `m` only when the filter reads one. */
export function joinsFor(where: Conditions, kind: 'join' | 'left join'): string {
  const message = where.parts.some((p) => /\bm\./.test(p)) ? `${kind} messages m on m.id = d.message_id ` : '';
  return `${message}${kind} conversations c on c.id = d.conversation_id`;
}

function resolveSql(ids: string[], terms: string[], filter: SqlFilter): { text: string; values: unknown[] } {
  const where = new Conditions();
  const idsParam = where.param(ids);
  const termsParam = where.param(terms);
  filter(where);
  const pass = where.parts.length ? `coalesce(${where.parts.join(' and ')}, false)` : 'true';
  return {
    text: `
      select d.message_id::text as id, d.len, ${tfsSql(termsParam, terms.length)} as tfs, (c.id is not null and ${pass}) as pass
        from lexical_docs d ${joinsFor(where, 'left join')}
       where d.message_id = any(${idsParam}::uuid[])`,
    values: where.values,
  };
}

/** Documents containing a query term inside a narrow filter, with their tfs. */
function narrowSql(terms: string[], filter: SqlFilter): { text: string; values: unknown[] } {
  const where = new Conditions();
  const termsParam = where.param(terms);
  filter(where).add(`d.terms && ${termsParam}::text[]`);
  return {
    text: `
      select d.message_id::text as id, d.len, ${tfsSql(termsParam, terms.length)} as tfs, true as pass
        from messages m join conversations c on c.id = m.conversation_id
        join lexical_docs d on d.message_id = m.id
       ${where.where}`,
    values: where.values,
  };
}

function exactScanSql(terms: string[], filter: SqlFilter): { text: string; values: unknown[] } {
  const where = new Conditions();
  const termsParam = where.param(terms);
  filter(where);
  return {
    text: `
      select d.message_id::text as id, d.len, ${tfsSql(termsParam, terms.length)} as tfs, true as pass
        from (select distinct message_id from lexical_postings where term = any(${termsParam}::text[])) p
        join lexical_docs d on d.message_id = p.message_id ${joinsFor(where, 'join')}
       ${where.where}`,
    values: where.values,
  };
}

/**
 * Runs a statement whose rows are documents (id, len, tfs, pass) and reads them as one text, as
 * READ_SQL does postings: "id,len,pass,tf…" joined by ";".
 */
async function resolvedDocs(client: pg.PoolClient, sql: { text: string; values: unknown[] }): Promise<ResolvedDoc[]> {
  const text = `select string_agg(concat_ws(',', x.id, x.len, x.pass::int, array_to_string(x.tfs, ',')), ';') as docs from (${sql.text}) x`;
  const { rows } = await client.query<{ docs: string | null }>(prepared(text, sql.values));
  return records(rows[0]?.docs).map(([id, len, pass, ...tfs]) => ({ id: id!, len: Number(len), pass: pass === '1', tfs: tfs.map(Number) }));
}

interface Stats {
  docs: number;
  total_len: number;
  avgdl_ref: number | null;
  /** The BM25 parameters the postings are ordered under. */
  k1_ref: number;
  b_ref: number;
  terms: string[];
  dfs: number[];
}

interface FirstRow extends Stats {
  few: boolean;
  /** A web-search query that is a conjunction of its terms (then matched by the documents' terms). */
  conjunction: boolean;
  /** The matches, when the statement could count them. */
  matches: number | null;
  /** [id, len, tfs, page columns] of the best messages that pass, when `few`; tfs in the order of `terms`. */
  hits: [string, number, number[], Record<string, unknown> | null][];
}

/** Scores resolved documents exactly and keeps the best k (score desc, then id). */
function bestOf(docs: readonly ResolvedDoc[], terms: readonly QueryTerm[], avgdl: number, params: Bm25Params, k: number): Hit[] {
  return docs
    .filter((d) => d.pass)
    .map((d) => ({ id: d.id, score: d.tfs.reduce((s, tf, i) => s + terms[i]!.idf * bm25Weight(tf, d.len, avgdl, params), 0) }))
    .filter((h) => h.score > 0)
    .sort(byScoreThenId)
    .slice(0, k);
}

/** The query's terms with their idf, avgdl and the postings' order (their k1, b and avgdl); undefined when no term occurs anywhere. */
function statsOf(stats: Stats | undefined) {
  if (!stats || !stats.dfs.some((df) => df > 0)) return undefined;
  const terms: QueryTerm[] = stats.terms.map((term, i) => ({ term, df: stats.dfs[i]!, idf: bm25Idf(stats.docs, stats.dfs[i]!) }));
  const avgdl = Math.max(stats.total_len / stats.docs, 1);
  return { terms, names: stats.terms, avgdl, order: { k1: stats.k1_ref, b: stats.b_ref, avgdl: stats.avgdl_ref ?? avgdl } };
}

/** A `few` that no query meets: the first statement reads the statistics only. */
const STATS_ONLY = -1;

/** The first statement for `input`: the statistics, and the best messages when the query's terms have at most `few` postings. */
const firstStatementSql = (input: LexicalTopKInput, few: number) =>
  firstSql(input.syntax ?? 'words', ftsText(input.query), sqlFilter(input), input.params, few, input.k + FEW_SLACK, input.page, input.countMatches !== undefined && input.syntax === 'websearch' && selectsEveryLiveMessage(input.filter));

/** The first statement's row read: the statistics, and the exact answer when it was few postings (undefined: walk them). */
function firstOf(row: FirstRow | undefined, input: LexicalTopKInput) {
  const stats = statsOf(row);
  if (!row || !stats || !row.few) return { stats, conjunction: row?.conjunction ?? false, answer: undefined };
  // The scores are ours (bm25.ts): SQL's only chose the rows.
  const docs: ResolvedDoc[] = row.hits.map(([id, len, tfs]) => ({ id, len, tfs, pass: true }));
  const postings = stats.terms.reduce((sum, t) => sum + t.df, 0);
  const rows = new Map(row.hits.flatMap(([id, , , columns]) => (columns ? [[id, columns] as const] : [])));
  return { stats, conjunction: row.conjunction, answer: { hits: bestOf(docs, stats.terms, stats.avgdl, input.params, input.k), path: 'few' as const, postingsRead: postings, resolved: docs.length, rounds: 1, cappedReads: 0, rows } };
}

async function run(client: pg.PoolClient, input: LexicalTopKInput, first: ReturnType<typeof firstOf>): Promise<LexicalTopK> {
  const { k, params } = input;
  if (first.answer) return first.answer;
  const stats = first.stats;
  if (!stats) return { hits: [], path: 'postings', postingsRead: 0, resolved: 0, rounds: 0, cappedReads: 0 };
  const { terms, names, avgdl } = stats;
  // A conjunction is met by the documents' terms: no message read per candidate (resolving 256 took
  // ~13 ms with the search vector's test, ~5 without, at 100,000 bench conversations).
  const filter = sqlFilter(input, first.conjunction ? names : undefined);

  const size = await filterScope(client, input.filter, NARROW_CONVERSATIONS);
  if (size) {
    if (size.conversations <= NARROW_CONVERSATIONS && size.messages <= NARROW_MESSAGES) {
      const docs = await resolvedDocs(client, narrowSql(names, filter));
      return { hits: bestOf(docs, terms, avgdl, params, k), path: 'narrow', postingsRead: 0, resolved: docs.length, rounds: 1, cappedReads: 0 };
    }
  }

  const search = new TopKSearch(terms, { k, params, avgdl, order: stats.order });
  for (;;) {
    const step = search.next();
    if (step.kind === 'done') return { hits: step.hits, path: 'postings', postingsRead: search.postingsRead, resolved: search.resolved, rounds: search.rounds, cappedReads: search.cappedReads };
    if (search.postingsRead > MAX_POSTINGS || search.rounds > MAX_ROUNDS) break;
    if (step.kind === 'resolve') {
      search.addResolved(step.ids, await resolvedDocs(client, resolveSql(step.ids, names, filter)));
    } else {
      const { rows } = await client.query<{ term: number; postings: string | null }>(
        prepared(READ_SQL, [
          step.reads.map((r) => names[r.term]),
          step.reads.map((r) => r.after?.cost ?? -1),
          step.reads.map((r) => r.after?.id ?? NO_ID),
          step.reads.map((r) => r.limit),
          step.reads.map((r) => r.term),
          step.reads.map((r) => r.until ?? 'Infinity'),
        ]),
      );
      search.addPostings(step.reads, postingsOf(rows));
    }
  }
  // The last resort: every message that has a query term, scored exactly.
  const docs = await resolvedDocs(client, exactScanSql(names, filter));
  return { hits: bestOf(docs, terms, avgdl, params, k), path: 'scan', postingsRead: search.postingsRead, resolved: docs.length, rounds: search.rounds, cappedReads: search.cappedReads };
}

/**
 * Runs `fn` in one repeatable-read snapshot whose first statement (`few`: see firstStatementSql)
 * reads the statistics through the lexical views: they then agree with the postings and documents
 * `fn` reads (statistics read outside it would not: a switch can commit between the two, and the
 * views then name the new version's tables), and a blue/green switch waits for the request rather
 * than cutting through it.
 */
function inSnapshot<T>(pool: pg.Pool, input: LexicalTopKInput, few: number, fn: (first: ReturnType<typeof firstOf>, client: pg.PoolClient, row: FirstRow | undefined) => Promise<T>): ResultAsync<T, ApiError> {
  const sql = firstStatementSql(input, few);
  return ResultAsync.fromPromise(
    retryingDeadlocks(() =>
      withReadSnapshot(pool, async (client) => {
        const row = (await client.query<FirstRow>(prepared(sql.text, sql.values))).rows[0];
        return fn(firstOf(row, input), client, row);
      }),
    ),
    queryError,
  );
}

const NONE: LexicalTopK = { hits: [], path: 'few', postingsRead: 0, resolved: 0, rounds: 0, cappedReads: 0 };

/**
 * The k best messages for a query by BM25 (exact; ties at the k-th place aside), from the lexical
 * projection: in one statement when the query's terms have few postings (`fewPostings`), else by
 * walking the postings, in the snapshot that statement began. Beginning it costs a round trip that a
 * statement of its own would not, but a walk would then read the statistics again in its snapshot:
 * at 100,000 conversations most queries walk, and that read cost 3.3–4.1 ms against ~0.85 for `begin`.
 */
export function lexicalTopK(pool: pg.Pool, input: LexicalTopKInput): ResultAsync<LexicalTopK, ApiError> {
  if (input.k <= 0) return input.countMatches ? input.countMatches().map((matches) => ({ ...NONE, matches })) : okAsync(NONE);
  // One conversation is scored whole inside it (the narrow path): cheaper than probing each posting's message.
  const few = input.filter.conversationId !== undefined ? STATS_ONLY : (input.fewPostings ?? FEW_POSTINGS);
  return inSnapshot(pool, input, few, async (first, client, row) => {
    const counted = row?.matches ?? undefined;
    // The count, when asked and the first statement did not give it, beside the walk (on a client of
    // its own; a ResultAsync never rejects, so a failed walk leaves no rejection behind).
    const counting = input.countMatches && counted === undefined ? input.countMatches() : undefined;
    const found = first.answer ?? (first.stats ? await run(client, input, first) : NONE);
    if (counting) return (await counting).map((matches) => ({ ...found, matches }));
    return ok(input.countMatches ? { ...found, matches: counted } : found);
  }).andThen((r) => r);
}

/** The same k by scoring every message that has a query term: the last resort, and the reference the tests compare with. */
export const lexicalExact = (pool: pg.Pool, input: LexicalTopKInput): ResultAsync<Hit[], ApiError> =>
  inSnapshot(pool, input, STATS_ONLY, async ({ stats }, client) => {
    if (!stats) return [];
    const sql = exactScanSql(stats.names, sqlFilter(input));
    return bestOf(await resolvedDocs(client, sql), stats.terms, stats.avgdl, input.params, input.k);
  });
