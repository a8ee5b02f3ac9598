import type pg from 'pg';

/** The read model's projection name. */
export const READ_MODEL = 'read-model';

/** Table names of one read-model version; queries read the views `conversations` and `messages`. */
export const tablesOf = (version: number) => ({
  conversations: `rm_v${version}_conversations`,
  messages: `rm_v${version}_messages`,
});

// Advisory-lock namespace for read-model DDL.
const DDL_LOCK = 7_431_004;

/** Creates the tables and indexes of one version (idempotent; call inside a transaction). */
export async function createTables(client: pg.PoolClient, version: number): Promise<void> {
  const { conversations: c, messages: m } = tablesOf(version);
  // Two sessions creating the same tables at once collide in the catalog: take turns (in the caller's transaction).
  await client.query('select pg_advisory_xact_lock($1, $2)', [DDL_LOCK, version]);
  await client.query(`
    create table if not exists ${c} (
      id               uuid primary key,
      label            text        not null,
      folder           text        not null,
      status           text        not null,
      pinned           boolean     not null default false,
      importance_score integer     not null,
      message_count    integer     not null default 0,
      word_count       integer     not null default 0,
      metadata         jsonb       not null default '{}'::jsonb,
      created_at       timestamptz not null,
      updated_at       timestamptz not null,
      last_message_at  timestamptz,
      version          integer     not null
    );
    create index if not exists ${c}_folder_idx on ${c} (folder);
    create index if not exists ${c}_label_idx on ${c} (label);
    create index if not exists ${c}_created_idx on ${c} (created_at desc);
    create index if not exists ${c}_updated_idx on ${c} (updated_at desc);
    create index if not exists ${c}_importance_idx on ${c} (importance_score desc);
    create index if not exists ${c}_status_idx on ${c} (status);
    create index if not exists ${c}_folder_status_idx on ${c} (folder, status);
    create index if not exists ${c}_label_importance_idx on ${c} (label, importance_score desc);
    create index if not exists ${c}_label_trgm_idx on ${c} using gin (label gin_trgm_ops);
    -- Context assembly's pinned and preferred-label conversations, newest first, without a scan.
    create index if not exists ${c}_pinned_updated_idx on ${c} (updated_at desc) where pinned;
    create index if not exists ${c}_label_updated_idx on ${c} (label, updated_at desc);

    create table if not exists ${m} (
      id              uuid primary key,
      conversation_id uuid        not null,
      seq             integer     not null,
      role            text        not null,
      name            text,
      content         text        not null,
      parts           jsonb,
      timestamp       timestamptz not null,
      metadata        jsonb       not null default '{}'::jsonb,
      -- to_tsvector('english', lexicalDocument(name, content, day)), written by the projector (migration 062 for older tables)
      search          tsvector    not null,
      unique (conversation_id, seq)
    );
    create index if not exists ${m}_conversation_idx on ${m} (conversation_id);
    create index if not exists ${m}_timestamp_idx on ${m} (timestamp desc);
    create index if not exists ${m}_search_idx on ${m} using gin (search);
  `);
}

/** Points the views queries read at one version, atomically inside the caller's transaction. */
export async function pointViews(client: pg.PoolClient, version: number): Promise<void> {
  const { conversations, messages } = tablesOf(version);
  await createTables(client, version);
  // drop + create rather than `create or replace`: a new version may change columns.
  await client.query(`
    drop view if exists messages;
    drop view if exists conversations;
    create view conversations as select * from ${conversations};
    create view messages as select * from ${messages};
  `);
}

/** Drops one version's tables. */
export async function dropTables(client: pg.PoolClient, version: number): Promise<void> {
  const { conversations, messages } = tablesOf(version);
  await client.query(`drop table if exists ${messages}; drop table if exists ${conversations};`);
}
