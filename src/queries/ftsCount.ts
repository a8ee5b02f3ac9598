import { TEXT_SEARCH_CONFIG, type MessageFilter } from '../domain/conversation/index.js';
import { messageFilterConditions, narrowsConversations, selectsEveryLiveMessage } from './messageFilter.js';
import { isConjunctionSql, joinsFor, QUERY_TERMS, resultConditions } from './lexicalTopK.js';
import { Conditions } from './sql.js';

/**
 * What the walk pays per posting it reads (a lookup of the message's lexical document) over what a
 * GIN count pays per posting of its terms: the walk may read the sum of the terms' document
 * frequencies over this before the index would have been cheaper. Measured at 100,000 bench
 * conversations (bench/ftsCount.ts, EXPLAIN ANALYZE): ~12–18 µs per probe, ~0.14 µs per posting,
 * and the index also visits each match it counts (its row and conversation), as costly as a probe;
 * at 100 two-word queries went to the index after a walk, at 50 every bench query walked (p50 0.67×
 * the index's). With cold pages (caches dropped, PostgreSQL restarted) the walk's random document
 * reads cost about twice the index's (median 106–112 ms against 50–58): not yet weighed here.
 */
export const PROBE_COST = 50;
// Postings of the rarest term the walk reads first to project how many it needs to reach the cap.
const SAMPLE = 64;

export interface FtsCountSql {
  text: string;
  values: unknown[];
}

/** Counts the messages `m` (with their conversation `c`) that meet `conditions`, up to `limit` (through the GIN index when they hold the query). */
const countMessages = (conditions: string, limit: string) =>
  `(select count(*) from (select from messages m join conversations c on c.id = m.conversation_id where ${conditions} limit ${limit}) s)`;

/** How many messages pass the filter and match the query through the GIN index, up to `upTo` + 1 (null: all of them). */
function indexCountSql(filter: MessageFilter, query: string, upTo: number | null): FtsCountSql {
  const where = resultConditions({ filter, query, syntax: 'websearch' }, new Conditions());
  const limit = where.param(upTo === null ? null : upTo + 1);
  return { text: `select ${countMessages(where.parts.join(' and '), limit)}::int as n, 'index' as path`, values: where.values };
}

/**
 * The same count, up to `upTo` + 1, by walking the postings of the query's rarest term and keeping
 * the messages that hold every other term and pass the filter. A GIN scan reads every query term's
 * whole posting list before its first row (~40 ms at a million messages whatever the cap); the walk
 * stops at the cap. It holds only for a query that is a conjunction of terms (phrases, "or" and
 * negation need the index, and so does a lexeme the term extraction could misread); a match then is
 * exactly a document holding every term. When the walk reads its budget of postings and has not
 * reached the cap, the index counts after all.
 */
function walkCountSql(filter: MessageFilter, query: string, upTo: number, probeCost: number): FtsCountSql {
  const where = new Conditions();
  where.param(query); // $1, as QUERY_TERMS reads it
  const cap = `${where.param(upTo + 1)}::int`;
  messageFilterConditions(filter, where);
  const pass = where.parts.length ? where.parts.join(' and ') : 'true';
  // Whether a posting's message holds every term and passes the filter: one lookup per posting, in
  // walk order (offset 0 keeps the planner from joining every document instead).
  // Every live message is every lexical document (a deleted conversation's are removed with it): then
  // the document alone answers, without its conversation.
  const everyLive = selectsEveryLiveMessage(filter);
  const matches = (posting: string) => `
    cross join lateral (
      select from lexical_docs d ${everyLive ? '' : joinsFor(where, 'join')}
       where d.message_id = ${posting}.message_id and d.terms @> (select array_agg(term) from terms) and ${everyLive ? 'true' : pass} offset 0) x`;
  const postings = (limit: string) => `
    select p.message_id from lexical_postings p
     where p.term = (select term from rarest) and (select ok from conjunction)
     order by p.cost, p.message_id limit ${limit}`;
  return {
    text: `
      with tsq as (select websearch_to_tsquery('${TEXT_SEARCH_CONFIG}', $1) as q),
      conjunction as (select ${isConjunctionSql('q')} as ok from tsq),
      terms as (${QUERY_TERMS.websearch}),
      qt as (select terms.term, coalesce(lt.df, 0) as df from terms left join lexical_terms lt on lt.term = terms.term),
      rarest as (select term, df from qt order by df, term limit 1),
      budget as (select ceil(coalesce(sum(df), 0) / ${where.param(probeCost)}::float8)::int as n from qt),
      sampled as (${postings(String(SAMPLE))}),
      -- The postings the walk is projected to read: all of the rarest term's, or as many as the sample
      -- says reach the cap (sampled only when the rarest term's postings outrun the budget).
      projected as (
        select (select df from rarest) <= greatest((select n from budget), ${SAMPLE})
               or ${cap} * (select count(*) from sampled) / greatest((select count(*) from sampled s ${matches('s')}), 0.5) <= (select n from budget) as walk),
      -- One past the budget: a walk that read no more than it came to the end of the rarest term's postings.
      walked as (${postings('(select n + 1 from budget)')}),
      matched as (select from walked w ${matches('w')} limit ${cap}),
      tried as (select (select ok from conjunction) and (select walk from projected) as walk),
      decided as (
        select (select walk from tried)
               -- The cap first: walked is read past the matches only when they fell short of it.
               and ((select count(*) from matched) >= ${cap} or (select count(*) from walked) <= (select n from budget)) as walk)
      select case when (select walk from decided)
                  then (select count(*) from matched)
                  else ${countMessages(`m.search @@ websearch_to_tsquery('${TEXT_SEARCH_CONFIG}', $1) and ${pass}`, cap)} end::int as n,
             case when (select walk from decided) then 'walk' when (select walk from tried) then 'walk, then index' else 'index' end as path`,
    values: where.values,
  };
}

/**
 * How many messages pass the filter and match the query, up to `upTo` + 1 (null: all of them): by
 * the walk when counting stops at a cap and the filter is broad, else through the index (a narrow
 * filter's own index finds its few messages first).
 */
export function ftsCountSql(filter: MessageFilter, query: string, upTo: number | null, probeCost = PROBE_COST): FtsCountSql {
  return upTo === null || narrowsConversations(filter) ? indexCountSql(filter, query, upTo) : walkCountSql(filter, query, upTo, probeCost);
}
