-- Projection checkpoints: one row per (projector name, version). A version is `live` (what queries
-- read), `building` (a blue/green rebuild beside the live one) or `retired` (switched away from,
-- waiting for its tables to be dropped). Replicas get this table too, so read-your-writes can wait
-- on the checkpoint as the read database sees it.
create table projection_checkpoints (
  name            text        not null,
  version         integer     not null check (version > 0),
  transaction_id  xid8        not null default '0'::xid8,
  global_position bigint      not null default 0,
  state           text        not null default 'live' check (state in ('live', 'building', 'retired')),
  status          text        not null default 'idle',
  last_error      text,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  primary key (name, version)
);

-- Substring search on labels in the read model.
create extension if not exists pg_trgm;
