import type pg from 'pg';
import { lexicalDocument, loggedChange, TEXT_SEARCH_CONFIG, textOf } from '../domain/conversation/index.js';
import type { RecordedEvent } from '../eventstore/index.js';
import { vacuumTables, withMaintenanceTransaction } from './maintenance.js';
import type { ProjectionDefinition, SqlProjector } from './types.js';

/**
 * The lexical projection (replayed as `lexical-stats`): BM25 statistics (document frequency per
 * lexeme, document count and length) and impact-ordered postings, one row per (lexeme, message),
 * which the top-k BM25 query (src/queries/lexicalTopK.ts) reads best first.
 */
export const LEXICAL_STATS = 'lexical-stats';


/**
 * The postings' order: `cost` = K(len)/tf of BM25 under the version's reference parameters, where the
 * term's weight is w = (k1 + 1) / (1 + K(len)/tf); ascending cost is descending weight. A version is
 * ordered under the configured k1 and b (recorded in its totals as k1_ref, b_ref) and the first
 * batch's avgdl (a replay re-centres it); other k1, b or a drifted avgdl keep the bound valid (see
 * `unseenWeightBound`), only less tight: at 100,000 bench conversations, the full-text row's queries
 * under k1 = 1.2, b = 0.75 read 21 times the postings on postings ordered under 0.9 / 0.3 as on their own.
 */
export interface PostingOrder {
  k1: number;
  b: number;
}

/** The order of versions built before it followed the configuration (the configured defaults). */
export const REFERENCE: PostingOrder = { k1: 0.9, b: 0.3 };

/** K(len)/tf as SQL, given SQL for tf, len and the order's k1, b and avgdl. */
const costSql = (tf: string, len: string, ref: { k1: string; b: string; avgdl: string }) =>
  `(${ref.k1} * (1 - ${ref.b} + ${ref.b} * ${len}::float8 / ${ref.avgdl}) / ${tf})`;

/** An order's parameters as SQL literals (numbers the configuration validated). */
const orderSql = (order: PostingOrder) => {
  if (!Number.isFinite(order.k1) || !Number.isFinite(order.b)) throw new Error(`postings order needs finite k1 and b, got ${order.k1}, ${order.b}`);
  return { k1: `${order.k1}::float8`, b: `${order.b}::float8` };
};

export const lexicalTables = (version: number) => ({
  terms: `lex_v${version}_terms`,
  docs: `lex_v${version}_docs`,
  totals: `lex_v${version}_totals`,
  postings: `lex_v${version}_postings`,
  /** A rebuild's messages as they arrive, parsed in bulk once it has caught up (see `prepare`). */
  staged: `lex_v${version}_staged`,
  /** The conversations a rebuild saw removed, applied to its staged messages in bulk. */
  removed: `lex_v${version}_removed`,
  /** Arrival order of staged messages and removals, shared by both. */
  arrival: `lex_v${version}_arrival`,
  /** `parsedSql` as a function, which parallel workers can run. */
  parse: `lex_v${version}_parse`,
});

/**
 * A text's lexemes (sorted), the tf of each and its length in lexemes, as columns `terms`, `tfs`
 * and `len` of one row: the one definition of a lexical document, for a live batch and a bulk build.
 */
const parsedSql = (content: string) =>
  `select coalesce(array_agg(lexeme), '{}') as terms, coalesce(array_agg(coalesce(array_length(positions, 1), 1)), '{}') as tfs,
          coalesce(sum(coalesce(array_length(positions, 1), 1)), 0)::int as len
     from unnest(to_tsvector('${TEXT_SEARCH_CONFIG}', ${content}))`;

// Advisory-lock namespace: a rebuild's staged batches and its bulk build take turns.
const BUILD_LOCK = 7_431_005;

/**
 * The views queries read, each pointing at the live version's table, in the order queries lock them
 * (the top-k's first statement: totals, terms, postings, documents; the count walk: terms, postings,
 * documents). The switch replaces them in this order too: in another, a search holding one view and
 * waiting for the next deadlocked with it.
 */
export const LEXICAL_VIEWS = { totals: 'lexical_totals', terms: 'lexical_terms', postings: 'lexical_postings', docs: 'lexical_docs' } as const;

/**
 * Creates one version's tables. The postings' order index comes with them for a live version; a
 * version being rebuilt appends its postings without it (random inserts into a large btree cost
 * 30× the heap append) and builds it in one sort once it has caught up (`prepare`, before the switch).
 */
async function createTables(client: pg.PoolClient, version: number, orderIndex: boolean, order: PostingOrder): Promise<void> {
  await createDataTables(client, version, order);
  if (orderIndex) await createOrderIndex(client, version);
}

/**
 * A rebuild from the log starts with its messages staged, unparsed: one heap row each, where a parsed
 * document costs a text search parse, a posting per lexeme and the statistics. `prepare` then parses
 * them all at once, in parallel workers, and builds the tables in bulk. The staged tables have no
 * index (at a million messages, inserts into the staged messages' two random-uuid btrees took 20 s of
 * a 27 s catch-up): removals are staged too, in arrival order, and applied by the build.
 */
async function createStaged(client: pg.PoolClient, version: number): Promise<void> {
  const t = lexicalTables(version);
  await client.query(`
    create sequence if not exists ${t.arrival};
    create table if not exists ${t.staged} (message_id uuid not null, conversation_id uuid not null, content text not null);
    -- A rebuild staged by an older build (which had no arrival order) goes on where it was.
    alter table ${t.staged} add column if not exists arrival bigint not null default nextval('${t.arrival}');
    create table if not exists ${t.removed} (conversation_id uuid not null, arrival bigint not null default nextval('${t.arrival}'));
    -- Parallel safe, and costly enough that the planner hands it to workers.
    create or replace function ${t.parse}(content text, out terms text[], out tfs integer[], out len integer)
      immutable parallel safe cost 1000 language sql as $$ ${parsedSql('content')} $$;`);
}

const exists = async (client: pg.Pool | pg.PoolClient, table: string): Promise<boolean> =>
  (await client.query<{ t: string | null }>('select to_regclass($1) as t', [table])).rows[0]?.t != null;

/**
 * A version's tables as a live one has them: built from its staged messages if it has any, with the
 * postings' order index. Idempotent: after a failed switch, a second call finds little to do.
 */
async function readyTables(client: pg.PoolClient, version: number, order: PostingOrder): Promise<void> {
  await client.query('select pg_advisory_xact_lock($1, $2)', [BUILD_LOCK, version]);
  if (await exists(client, lexicalTables(version).staged)) await buildFromStaged(client, version, order);
  await createTables(client, version, true, order);
}

/** Stages a batch of a rebuild: appended messages as they are, and removed conversations. */
async function stageLexical(client: pg.PoolClient, version: number, events: RecordedEvent[]): Promise<void> {
  const t = lexicalTables(version);
  for (const step of foldLexical(events)) {
    if (step.kind === 'add') {
      await client.query(
        `insert into ${t.staged} (message_id, conversation_id, content) select * from unnest($1::uuid[], $2::uuid[], $3::text[])`,
        [step.ids, step.conversations, step.texts],
      );
    } else {
      await client.query(`insert into ${t.removed} (conversation_id) select unnest($1::uuid[])`, [step.conversations]);
    }
  }
}

/**
 * Builds a rebuilt version's tables from its staged messages in one transaction: documents parsed by
 * parallel workers (create table as: an insert runs no parallel plan), then postings, statistics and
 * totals from them, with the reference avgdl of the postings' order taken over every document.
 * Equal to applying the same messages batch by batch, but for that avgdl. Later batches take the
 * batch path (the staged table is gone).
 */
async function buildFromStaged(client: pg.PoolClient, version: number, order: PostingOrder): Promise<void> {
  const t = lexicalTables(version);
  await client.query(`${MAINTENANCE}; set local jit = off`);
  await client.query(`
    create table ${t.docs} as
      -- A removal of a conversation drops the messages that arrived before it, as in the batch path.
      with kept as (
        select s.message_id, s.conversation_id, s.content, s.arrival from ${t.staged} s
         where not exists (select from ${t.removed} r where r.conversation_id = s.conversation_id and r.arrival > s.arrival)),
      parsed as materialized (select message_id, conversation_id, arrival, ${t.parse}(content) as p from kept)
      select message_id, conversation_id, (p).len as len, (p).terms as terms, (p).tfs as tfs, arrival from parsed;`);
  await uniqueMessages(client, t.docs);
  await client.query(`
    alter table ${t.docs} drop column arrival, alter column conversation_id set not null,
      alter column len set not null, alter column terms set not null, alter column tfs set not null;`);
  // The postings as a new table too: created by its query, ~27% faster than inserted into an empty
  // table (1.76 million postings: 2.6 s against 3.5), then given the columns' constraints.
  await client.query(`
    create table ${t.postings} as
      with ref as (select ${AVGDL_REF} as avgdl from ${t.docs})
      select u.term collate "C" as term, ${costSql('u.tf', 'd.len', { ...orderSql(order), avgdl: '(select avgdl from ref)' })} as cost, d.message_id, u.tf, d.len
        from ${t.docs} d cross join unnest(d.terms, d.tfs) as u(term, tf);
    alter table ${t.postings} alter column term set not null, alter column cost set not null, alter column message_id set not null,
      alter column tf set not null, alter column len set not null;`);
  // Document frequencies by a parallel aggregate, which an insert would not run (at a million
  // messages 2.5 s against 5.8).
  await client.query(`
    create table ${t.terms} as select term collate "C" as term, count(*)::int as df from ${t.docs}, unnest(terms) as term group by 1;
    alter table ${t.terms} add primary key (term), alter column df set not null;`);
  await createDataTables(client, version, order);
  await client.query(`
    update ${t.totals} set (docs, total_len, avgdl_ref) = (select count(*), coalesce(sum(len), 0), ${AVGDL_REF} from ${t.docs});
    drop table ${t.staged}; drop table ${t.removed}; drop sequence ${t.arrival};
    drop function ${t.parse};
    analyze ${t.docs}; analyze ${t.terms};`);
}

/**
 * Gives bulk-built documents (with their `arrival`) their primary key. The service never appends a
 * message id twice, so the key is built at once; should a log hold one anyway, its first arrival
 * counts, as in the batch path (deduplicating in the build's query kept the parse out of the
 * parallel workers: 52 s against 28 at a million messages).
 */
async function uniqueMessages(client: pg.PoolClient, docs: string): Promise<void> {
  await client.query('savepoint unique_messages');
  try {
    await client.query(`alter table ${docs} add primary key (message_id)`);
  } catch (e) {
    if ((e as { code?: string }).code !== '23505') throw e;
    await client.query('rollback to savepoint unique_messages');
    await client.query(`delete from ${docs} d using ${docs} e where e.message_id = d.message_id and e.arrival < d.arrival`);
    await client.query(`alter table ${docs} add primary key (message_id)`);
  }
  await client.query('release savepoint unique_messages');
}

/** The postings' reference avgdl over documents (`len`): the mean length of those with any lexeme. */
const AVGDL_REF = '(avg(len) filter (where len > 0))::float8';

/** Maintenance, not a request: the statement timeout (30 s by default) cut a million messages' sort on a slow machine, and every retry sorted again from the start. */
const MAINTENANCE = `set local maintenance_work_mem = '256MB'; set local statement_timeout = 0`;

/** The postings' order index, in one sort (a million messages: ~17 million postings, ~20 s). */
async function createOrderIndex(client: pg.PoolClient, version: number): Promise<void> {
  const t = lexicalTables(version);
  await client.query(MAINTENANCE);
  await client.query(`create index if not exists ${t.postings}_order_idx on ${t.postings} (term, cost, message_id) include (tf, len)`);
}

async function createDataTables(client: pg.PoolClient, version: number, order: PostingOrder): Promise<void> {
  const t = lexicalTables(version);
  const ref = orderSql(order);
  await client.query(`
    -- Terms compare bytewise ("C"): equality is the same in every deterministic collation, and the
    -- postings' order index then sorts with abbreviated keys instead of strcoll (its build ~20% faster).
    create table if not exists ${t.terms} (term text collate "C" primary key, df integer not null);
    create table if not exists ${t.docs} (
      message_id uuid primary key, conversation_id uuid not null, len integer not null, terms text[] not null, tfs integer[] not null);
    create index if not exists ${t.docs}_conversation_idx on ${t.docs} (conversation_id);
    create table if not exists ${t.totals} (
      singleton boolean primary key default true check (singleton), docs bigint not null, total_len bigint not null, avgdl_ref float8,
      k1_ref float8 not null, b_ref float8 not null);
    insert into ${t.totals} (docs, total_len, k1_ref, b_ref) values (0, 0, ${ref.k1}, ${ref.b}) on conflict do nothing;
    -- Known to the planner as one row from the start: never analysed, it is planned as ~1,000 rows,
    -- and a rare term's scoring sorted every posting (16 s at a million messages, after a rebuild).
    analyze ${t.totals};
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
    `with input as (select id, cid, content from unnest($1::uuid[], $2::uuid[], $3::text[]) as d(id, cid, content)),
     parsed as (select input.id, input.cid, a.terms, a.tfs, a.len from input cross join lateral (${parsedSql('input.content')}) a),
     added as (
       insert into ${t.docs} (message_id, conversation_id, len, terms, tfs)
       select id, cid, len, terms, tfs from parsed
       on conflict (message_id) do nothing
       returning message_id, len, terms, tfs),
     ref as (select coalesce(x.avgdl_ref, (select avg(len)::float8 from added where len > 0)) as avgdl, x.k1_ref, x.b_ref from ${t.totals} x),
     posted as (
       -- Into an indexed table in index order, so that consecutive rows land on the same leaf pages;
       -- unsorted while rebuilding (no index yet), where the sort was a quarter of the statement.
       insert into ${t.postings} (term, cost, message_id, tf, len)
       select u.term, ${costSql('u.tf', 'a.len', { k1: '(select k1_ref from ref)', b: '(select b_ref from ref)', avgdl: '(select avgdl from ref)' })} as cost, a.message_id, u.tf, a.len
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
     ref as (select avgdl_ref as avgdl, k1_ref, b_ref from ${t.totals}),
     unposted as (
       delete from ${t.postings} p
        using (select r.message_id, r.len, u.term, u.tf from removed r cross join unnest(r.terms, r.tfs) as u(term, tf)) x, ref
        where p.term = x.term and p.cost = ${costSql('x.tf', 'x.len', { k1: 'ref.k1_ref', b: 'ref.b_ref', avgdl: 'ref.avgdl' })} and p.message_id = x.message_id),
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

/** A version's projector; a version it creates is ordered under `order` (one it finds keeps its own). */
export const lexicalStatsProjector = (version: number, order: PostingOrder = REFERENCE): SqlProjector => {
  // Once live, a version stays live: asked each batch only while it is being built.
  let live = false;
  return {
    kind: 'sql',
    name: LEXICAL_STATS,
    version,
    handles: ['MessagesAppended', 'ConversationDeleted', 'ConversationPurged'],
    async setup(client) {
      if (!(await isBuilding(client, version))) return createTables(client, version, true, order);
      // A rebuild stages its messages until `prepare` has built its tables (present: built, or begun before staging was).
      if (await exists(client, lexicalTables(version).docs)) return createTables(client, version, false, order);
      await createStaged(client, version);
    },
    apply: async (events, client) => {
      live ||= !(await isBuilding(client, version));
      if (!live) {
        // After a bulk build that ran meanwhile, the staged table is gone: this batch takes the batch path.
        await client.query('select pg_advisory_xact_lock($1, $2)', [BUILD_LOCK, version]);
        if (await exists(client, lexicalTables(version).staged)) return stageLexical(client, version, events);
      }
      await applyLexicalStats(client, version, events, live);
    },
  };
};

/** The order a version's postings were built under (undefined: the version has no tables yet). */
export async function versionOrder(pool: pg.Pool, version: number): Promise<PostingOrder | undefined> {
  const totals = lexicalTables(version).totals;
  if (!(await exists(pool, totals))) return undefined;
  const { rows } = await pool.query<{ k1_ref: number; b_ref: number }>(`select k1_ref, b_ref from ${totals}`);
  return rows[0] ? { k1: rows[0].k1_ref, b: rows[0].b_ref } : undefined;
}

/**
 * The lexical projection whose versions order their postings under `order` (the configured k1 and
 * b), live behind the views `lexical_terms`, `lexical_totals`, `lexical_docs` and `lexical_postings`,
 * which BM25 reads. A live version built under other parameters is rebuilt at start.
 */
export const lexicalStatsProjection = (order: PostingOrder = REFERENCE): ProjectionDefinition => ({
  name: LEXICAL_STATS,
  create: (version) => lexicalStatsProjector(version, order),
  // Once the rebuilt version has caught up, before the switch (built inside it, the tables held the
  // live projector, and so every new write's searchability, for the whole build); in a maintenance
  // transaction, which the projectors' reads of the log do not wait for.
  async prepare(pool, version) {
    await withMaintenanceTransaction(pool, `${LEXICAL_STATS} v${version} build`, (client) => readyTables(client, version, order));
    // The top-k walk reads postings with index-only scans, which visit the heap for each page not yet
    // marked all-visible, and a bulk build marks none: vacuumed before it goes live. At a million
    // messages this took 2–3 s; left to autovacuum after the switch, ~40 s of slower searches.
    const t = lexicalTables(version);
    await vacuumTables(pool, [t.postings, t.docs]);
  },
  async activate(client, version) {
    const t = lexicalTables(version);
    // Prepared already (a runtime switches only a version it prepared): then this finds nothing to do.
    await readyTables(client, version, order);
    const views = Object.entries(LEXICAL_VIEWS) as [keyof typeof LEXICAL_VIEWS, string][];
    await client.query(views.map(([table, view]) => `drop view if exists ${view}; create view ${view} as select * from ${t[table]};`).join('\n'));
  },
  async outdated(pool, version) {
    const built = await versionOrder(pool, version);
    return built && (built.k1 !== order.k1 || built.b !== order.b)
      ? `postings ordered for k1 = ${built.k1}, b = ${built.b}; the configuration says k1 = ${order.k1}, b = ${order.b}`
      : undefined;
  },
  async drop(client, version) {
    const t = lexicalTables(version);
    await client.query(
      `drop table if exists ${t.terms}; drop table if exists ${t.docs}; drop table if exists ${t.totals}; drop table if exists ${t.postings};
       drop table if exists ${t.staged}; drop table if exists ${t.removed}; drop sequence if exists ${t.arrival}; drop function if exists ${t.parse};`,
    );
  },
});

/** The projection under the default parameters (tests and benches that configure none). */
export const lexicalStatsDefinition = lexicalStatsProjection();
