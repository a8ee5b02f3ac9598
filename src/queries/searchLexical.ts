import type { SearchFilters } from '../vectors/where.js';
import { searchConditions } from './searchFilters.js';
import { Conditions } from './sql.js';

/** BM25 parameters: k1 saturates term frequency, b normalises by document length (`[search] bm25_k1`, `bm25_b`). */
export interface Bm25Params {
  k1: number;
  b: number;
}

/** The BM25 parameters of a config's `[search]` section. */
export const bm25Params = (search: { bm25_k1: number; bm25_b: number }): Bm25Params => ({ k1: search.bm25_k1, b: search.bm25_b });

/**
 * BM25 over the read model's `messages.search` tsvector, with document frequencies, document count
 * and average length from the `lexical-stats` projection. Any query lexeme may match (OR), as BM25
 * does; term frequency and document length come from the tsvector's positions.
 */
export function bm25Sql(query: string, filters: SearchFilters, limit: number, params: Bm25Params): { text: string; values: unknown[] } {
  const k1 = Number(params.k1);
  const b = Number(params.b);
  const where = new Conditions();
  const q = where.param(query.replace(/\u0000/g, ' '));
  searchConditions(filters, where);
  where.add('m.search @@ q.tsq');
  const lim = where.param(limit);
  const text = `
    with terms as (
      select distinct lexeme as term from unnest(to_tsvector('english', ${q})) where lexeme !~ '[\\\\'']'),
    q as (select (select string_agg('''' || term || '''', ' | ') from terms)::tsquery as tsq),
    stats as (select greatest(docs, 1)::float8 as n, greatest(total_len::float8 / greatest(docs, 1), 1) as avgdl from lexical_totals),
    idf as (
      select t.term, ln(1 + (s.n - coalesce(lt.df, 0) + 0.5) / (coalesce(lt.df, 0) + 0.5)) as idf
        from terms t cross join stats s left join lexical_terms lt on lt.term = t.term),
    cand as (
      select m.id, m.search from messages m join conversations c on c.id = m.conversation_id, q
       ${where.where})
    select cand.id::text as id,
           sum(idf.idf * (u.tf * (${k1} + 1)) / (u.tf + ${k1} * (1 - ${b} + ${b} * d.len / s.avgdl)))::float8 as score
      from cand
      cross join stats s
      cross join lateral (select sum(coalesce(array_length(positions, 1), 1))::float8 as len from unnest(cand.search)) d
      cross join lateral (select lexeme, coalesce(array_length(positions, 1), 1)::float8 as tf from unnest(cand.search)) u
      join idf on idf.term = u.lexeme
     group by cand.id
     order by score desc, cand.id
     limit ${lim}`;
  return { text, values: where.values };
}
