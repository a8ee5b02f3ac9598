import type pg from 'pg';
import { withTransaction } from '../db/transaction.js';
import { lexicalDocument, loggedChange, TEXT_SEARCH_CONFIG, textOf } from '../domain/conversation/index.js';
import type { RecordedEvent } from '../eventstore/index.js';
import type { ProjectionDefinition, SqlProjector } from './types.js';

/**
 * The lexical projection (replayed as `lexical-stats`): BM25 statistics (document frequency per
 * lexeme, document count and length) and impact-ordered postings, one row per (lexeme, message),
 * which the top-k BM25 query (src/queries/lexicalTopK.ts) reads best first.
 */
export const LEXICAL_STATS = 'lexical-stats';


/**
 * The postings' order: `cost` = K(len)/tf of BM25 under reference parameters, where the term's
 * weight is w = (k1 + 1) / (1 + K(len)/tf); ascending cost is descending weight. The reference avgdl
 * is the first batch's (a replay re-centres it); other k1, b or a drifted avgdl keep the bound
 * valid (see `unseenWeightBound`), only less tight.
 */
export const REFERENCE = { k1: 0.9, b: 0.3 } as const;
const costSql = (tf: string, len: string, avgdl: string) => `(${REFERENCE.k1} * (1 - ${REFERENCE.b} + ${REFERENCE.b} * ${len}::float8 / ${avgdl}) / ${tf})`;

export const lexicalTables = (version: number) => ({
  terms: `lex_v${version}_terms`,
  docs: `lex_v${version}_docs`,
  totals: `lex_v${version}_totals`,
  postings: `lex_v${version}_postings`,
});

/** The views queries read, each pointing at the live version's table. */
export const LEXICAL_VIEWS = { terms: 'lexical_terms', docs: 'lexical_docs', totals: 'lexical_totals', postings: 'lexical_postings' } as const;

/**
 * Creates one version's tables. The postings' order index comes with them for a live version; a
 * version being rebuilt appends its postings without it (random inserts into a large btree cost
 * 30× the heap append) and builds it in one sort once it has caught up (`prepare`, before the switch).
 */
async function createTables(client: pg.PoolClient, version: number, orderIndex: boolean): Promise<void> {
  await createDataTables(client, version);
  if (orderIndex) await createOrderIndex(client, version);
}

/** The postings' order index, in one sort (a million messages: ~17 million postings, ~20 s). */
async function createOrderIndex(client: pg.PoolClient, version: number): Promise<void> {
  const t = lexicalTables(version);
  // Maintenance, not a request: the statement timeout (30 s by default) cut a million messages' sort
  // on a slow machine, and every retry sorted again from the start.
  await client.query(`set local maintenance_work_mem = '256MB'; set local statement_timeout = 0`);
  await client.query(`create index if not exists ${t.postings}_order_idx on ${t.postings} (term, cost, message_id) include (tf, len)`);
}

async function createDataTables(client: pg.PoolClient, version: number): Promise<void> {
  const t = lexicalTables(version);
  await client.query(`
    -- Terms compare bytewise ("C"): equality is the same in every deterministic collation, and the
    -- postings' order index then sorts with abbreviated keys instead of strcoll (its build ~20% faster).
    create table if not exists ${t.terms} (term text collate "C" primary key, df integer not null);
    create table if not exists ${t.docs} (
      message_id uuid primary key, conversation_id uuid not null, len integer not null, terms text[] not null, tfs integer[] not null);
    create index if not exists ${t.docs}_conversation_idx on ${t.docs} (conversation_id);
    create table if not exists ${t.totals} (
      singleton boolean primary key default true check (singleton), docs bigint not null, total_len bigint not null, avgdl_ref float8);
    insert into ${t.totals} (docs, total_len) values (0, 0) on conflict do nothing;
    create table if not exists ${t.postings} (term text collate "C" not null, cost float8 not null, message_id uuid not null, tf integer not null, len integer not null);
    -- The top-k walk reads postings with index-only scans, which visit the heap for every row on a page
    -- not yet marked all-visible: vacuum after 1% new rows, not PostgreSQL's 20% (3.4 million rows at a
    -- million messages). At 100,000 conversations the walk's reads took 10 ms before such a vacuum, 6 ms after.
    alter table ${t.postings} set (autovacuum_vacuum_insert_scale_factor = 0.01);`);
}

async function isBuilding(client: pg.PoolClient, version: number): Promise<boolean> {
  const { rows } = await client.query<{ state: string }>('select state from projection_checkpoints where name = $1 and version = $2', [LEXICAL_STATS, version]);
  return rows[0]?.state === 'building';
}

/**
 * Adds documents in one statement: their lexemes with tf and length, a posting per lexeme, document
 * frequencies and the totals (the first batch also fixes the reference avgdl of the postings' order).
 */
async function addDocs(client: pg.PoolClient, version: number, ids: string[], conversations: string[], texts: string[], indexed: boolean): Promise<void> {
  const t = lexicalTables(version);
  await client.query(
    `with input as (
       select id, cid, to_tsvector('${TEXT_SEARCH_CONFIG}', content) as tv from unnest($1::uuid[], $2::uuid[], $3::text[]) as d(id, cid, content)),
     parsed as (
       select input.id, input.cid, coalesce(a.terms, '{}') as terms, coalesce(a.tfs, '{}') as tfs, coalesce(a.len, 0)::int as len
         from input cross join lateral (
           select array_agg(lexeme) as terms, array_agg(coalesce(array_length(positions, 1), 1)) as tfs,
                  sum(coalesce(array_length(positions, 1), 1)) as len
             from unnest(input.tv)) a),
     added as (
       insert into ${t.docs} (message_id, conversation_id, len, terms, tfs)
       select id, cid, len, terms, tfs from parsed
       on conflict (message_id) do nothing
       returning message_id, len, terms, tfs),
     ref as (select coalesce((select avgdl_ref from ${t.totals}), (select avg(len)::float8 from added where len > 0)) as avgdl),
     posted as (
       -- Into an indexed table in index order, so that consecutive rows land on the same leaf pages;
       -- unsorted while rebuilding (no index yet), where the sort was a quarter of the statement.
       insert into ${t.postings} (term, cost, message_id, tf, len)
       select u.term, ${costSql('u.tf', 'a.len', '(select avgdl from ref)')} as cost, a.message_id, u.tf, a.len
         from added a cross join unnest(a.terms, a.tfs) as u(term, tf)
        ${indexed ? 'order by 1, 2, 3' : ''}),
     df as (
       insert into ${t.terms} (term, df)
       select term, count(*) from added, unnest(added.terms) as term group by term
       on conflict (term) do update set df = ${t.terms}.df + excluded.df)
     update ${t.totals} set docs = docs + (select count(*) from added), total_len = total_len + (select coalesce(sum(len), 0) from added),
            avgdl_ref = (select avgdl from ref)`,
    [ids, conversations, texts],
  );
}

/**
 * Removes conversations' documents, postings and statistics in one statement per table. Terms no
 * document has any more are deleted: a term is content too, and a purge must leave none behind.
 */
async function removeConversations(client: pg.PoolClient, version: number, conversationIds: string[]): Promise<void> {
  const t = lexicalTables(version);
  const { rows } = await client.query<{ terms: string[] | null }>(
    `with removed as (delete from ${t.docs} where conversation_id = any($1::uuid[]) returning message_id, len, terms, tfs),
     ref as (select avgdl_ref as avgdl from ${t.totals}),
     unposted as (
       delete from ${t.postings} p
        using (select r.message_id, r.len, u.term, u.tf from removed r cross join unnest(r.terms, r.tfs) as u(term, tf)) x, ref
        where p.term = x.term and p.cost = ${costSql('x.tf', 'x.len', 'ref.avgdl')} and p.message_id = x.message_id),
     df as (
       update ${t.terms} set df = ${t.terms}.df - r.n
         from (select term, count(*) as n from removed, unnest(removed.terms) as term group by term) r
        where ${t.terms}.term = r.term
       returning ${t.terms}.term)
     update ${t.totals} set docs = docs - (select count(*) from removed), total_len = total_len - (select coalesce(sum(len), 0) from removed)
     returning (select array_agg(term) from df) as terms`,
    [conversationIds],
  );
  const touched = rows[0]?.terms ?? [];
  if (touched.length > 0) await client.query(`delete from ${t.terms} where term = any($1::text[]) and df <= 0`, [touched]);
}

/** A run of events applied together: messages to add, or conversations to remove. */
export type LexicalStep =
  | { kind: 'add'; ids: string[]; conversations: string[]; texts: string[] }
  | { kind: 'remove'; conversations: string[] };

/**
 * Folds a batch, in order, into as few steps as possible (pure): consecutive appends become one
 * `add`, consecutive deletions and purges one `remove`. A removal after an add runs after it, so
 * applying the steps equals applying the events one by one.
 */
export function foldLexical(events: readonly RecordedEvent[]): LexicalStep[] {
  const steps: LexicalStep[] = [];
  for (const e of events) {
    const logged = loggedChange(e);
    if (!logged) continue;
    const { conversationId, change: c } = logged;
    const last = steps.at(-1);
    switch (c.kind) {
      case 'messagesAppended': {
        const messages = c.messages.filter((m) => m.id);
        if (messages.length === 0) break;
        const step = last?.kind === 'add' ? last : (steps[steps.push({ kind: 'add', ids: [], conversations: [], texts: [] }) - 1] as Extract<LexicalStep, { kind: 'add' }>);
        for (const m of messages) {
          step.ids.push(m.id);
          step.conversations.push(conversationId);
          step.texts.push(lexicalDocument({ name: m.name, text: textOf(m.content), timestamp: m.timestamp }));
        }
        break;
      }
      case 'deleted':
      case 'purged':
        if (last?.kind === 'remove') last.conversations.push(conversationId);
        else steps.push({ kind: 'remove', conversations: [conversationId] });
        break;
      case 'started':
      case 'attributesChanged':
      case 'summarized':
        break;
      default: {
        const unknown: never = c;
        return unknown;
      }
    }
  }
  return steps;
}

/** @param indexed whether the postings have their order index (a live version; a rebuilding one has none). */
export async function applyLexicalStats(client: pg.PoolClient, version: number, events: RecordedEvent[], indexed = true): Promise<void> {
  // Row estimates of these statements are far off (arrays, CTEs); JIT compiling them costs seconds.
  await client.query('set local jit = off');
  for (const step of foldLexical(events)) {
    if (step.kind === 'add') await addDocs(client, version, step.ids, step.conversations, step.texts, indexed);
    else await removeConversations(client, version, step.conversations);
  }
}

export const lexicalStatsProjector = (version: number): SqlProjector => {
  // Once live, a version stays live: asked each batch only while it is being built.
  let live = false;
  return {
    kind: 'sql',
    name: LEXICAL_STATS,
    version,
    handles: ['MessagesAppended', 'ConversationDeleted', 'ConversationPurged'],
    setup: async (client) => createTables(client, version, !(await isBuilding(client, version))),
    apply: async (events, client) => {
      live ||= !(await isBuilding(client, version));
      await applyLexicalStats(client, version, events, live);
    },
  };
};

/** Live behind the views `lexical_terms`, `lexical_totals`, `lexical_docs` and `lexical_postings`, which BM25 reads. */
export const lexicalStatsDefinition: ProjectionDefinition = {
  name: LEXICAL_STATS,
  create: lexicalStatsProjector,
  // The order index is built once the rebuilt version has caught up, before the switch: built inside
  // it, it held the live projector (and so every new write's searchability) for its whole sort.
  prepare: (pool, version) => withTransaction(pool, (client) => createOrderIndex(client, version)),
  async activate(client, version) {
    const t = lexicalTables(version);
    await createTables(client, version, true);
    const views = Object.entries(LEXICAL_VIEWS) as [keyof typeof LEXICAL_VIEWS, string][];
    await client.query(views.map(([table, view]) => `drop view if exists ${view}; create view ${view} as select * from ${t[table]};`).join('\n'));
  },
  async drop(client, version) {
    const t = lexicalTables(version);
    await client.query(`drop table if exists ${t.terms}; drop table if exists ${t.docs}; drop table if exists ${t.totals}; drop table if exists ${t.postings};`);
  },
};
