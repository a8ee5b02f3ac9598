import type pg from 'pg';
import { loggedChange, textOf } from '../domain/conversation/index.js';
import type { RecordedEvent } from '../eventstore/index.js';
import type { ProjectionDefinition, SqlProjector } from './types.js';

/** The projection that keeps BM25 statistics: document frequency per lexeme, document count and length. */
export const LEXICAL_STATS = 'lexical-stats';

/** The text search configuration; the same as the read model's `messages.search`. */
const CONFIG = 'english';

export const lexicalTables = (version: number) => ({
  terms: `lex_v${version}_terms`,
  docs: `lex_v${version}_docs`,
  totals: `lex_v${version}_totals`,
});

async function createTables(client: pg.PoolClient, version: number): Promise<void> {
  const t = lexicalTables(version);
  await client.query(`
    create table if not exists ${t.terms} (term text primary key, df integer not null);
    create table if not exists ${t.docs} (
      message_id uuid primary key, conversation_id uuid not null, len integer not null, terms text[] not null);
    create index if not exists ${t.docs}_conversation_idx on ${t.docs} (conversation_id);
    create table if not exists ${t.totals} (
      singleton boolean primary key default true check (singleton), docs bigint not null, total_len bigint not null);
    insert into ${t.totals} (docs, total_len) values (0, 0) on conflict do nothing;`);
}

/** Adds documents: their distinct lexemes raise document frequencies, their lengths the totals. */
async function addDocs(client: pg.PoolClient, version: number, ids: string[], conversations: string[], texts: string[]): Promise<void> {
  const t = lexicalTables(version);
  await client.query(
    `with input as (
       select id, cid, to_tsvector('${CONFIG}', content) as tv from unnest($1::uuid[], $2::uuid[], $3::text[]) as d(id, cid, content)),
     added as (
       insert into ${t.docs} (message_id, conversation_id, len, terms)
       select id, cid, coalesce((select sum(coalesce(array_length(positions, 1), 1)) from unnest(tv)), 0), tsvector_to_array(tv) from input
       on conflict (message_id) do nothing
       returning len, terms),
     df as (
       insert into ${t.terms} (term, df)
       select term, count(*) from added, unnest(added.terms) as term group by term
       on conflict (term) do update set df = ${t.terms}.df + excluded.df)
     update ${t.totals} set docs = docs + (select count(*) from added), total_len = total_len + (select coalesce(sum(len), 0) from added)`,
    [ids, conversations, texts],
  );
}

/**
 * Removes a conversation's documents from the statistics. Terms no document has any more are deleted:
 * a term is content too, and a purge must leave none behind.
 */
async function removeConversation(client: pg.PoolClient, version: number, conversationId: string): Promise<void> {
  const t = lexicalTables(version);
  const { rows } = await client.query<{ terms: string[] | null }>(
    `with removed as (delete from ${t.docs} where conversation_id = $1 returning len, terms),
     df as (
       update ${t.terms} set df = ${t.terms}.df - r.n
         from (select term, count(*) as n from removed, unnest(removed.terms) as term group by term) r
        where ${t.terms}.term = r.term
       returning ${t.terms}.term)
     update ${t.totals} set docs = docs - (select count(*) from removed), total_len = total_len - (select coalesce(sum(len), 0) from removed)
     returning (select array_agg(term) from df) as terms`,
    [conversationId],
  );
  const touched = rows[0]?.terms ?? [];
  if (touched.length > 0) await client.query(`delete from ${t.terms} where term = any($1::text[]) and df <= 0`, [touched]);
}

export async function applyLexicalStats(client: pg.PoolClient, version: number, events: RecordedEvent[]): Promise<void> {
  for (const e of events) {
    const logged = loggedChange(e);
    if (!logged) continue;
    const { conversationId, change: c } = logged;
    switch (c.kind) {
      case 'messagesAppended':
        if (c.messages.length > 0) await addDocs(client, version, c.messages.map((m) => m.id), c.messages.map(() => conversationId), c.messages.map((m) => textOf(m.content)));
        break;
      case 'deleted':
      case 'purged':
        await removeConversation(client, version, conversationId);
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
}

export const lexicalStatsProjector = (version: number): SqlProjector => ({
  kind: 'sql',
  name: LEXICAL_STATS,
  version,
  handles: ['MessagesAppended', 'ConversationDeleted', 'ConversationPurged'],
  setup: (client) => createTables(client, version),
  apply: (events, client) => applyLexicalStats(client, version, events),
});

/** Live behind the views `lexical_terms` and `lexical_totals`, which the BM25 query reads. */
export const lexicalStatsDefinition: ProjectionDefinition = {
  name: LEXICAL_STATS,
  create: lexicalStatsProjector,
  async activate(client, version) {
    const t = lexicalTables(version);
    await createTables(client, version);
    await client.query(`
      drop view if exists lexical_terms; drop view if exists lexical_totals;
      create view lexical_terms as select * from ${t.terms};
      create view lexical_totals as select * from ${t.totals};`);
  },
  async drop(client, version) {
    const t = lexicalTables(version);
    await client.query(`drop table if exists ${t.terms}; drop table if exists ${t.docs}; drop table if exists ${t.totals};`);
  },
};
