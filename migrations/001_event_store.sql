-- The event store: the source of truth. Read tables and vectors are projections of it.
create table events (
  global_position bigint generated always as identity primary key,
  -- The writing transaction; readers order by (transaction_id, global_position) and stop below
  -- the oldest running transaction so that out-of-order commits never make them skip an event.
  transaction_id  xid8        not null default pg_current_xact_id(),
  stream_id       text        not null,
  stream_version  integer     not null check (stream_version > 0),
  event_id        uuid        not null unique,
  type            text        not null,
  data            jsonb       not null,
  metadata        jsonb       not null default '{}'::jsonb,
  created_at      timestamptz not null default now(),
  unique (stream_id, stream_version)
);

create index events_transaction_position_idx on events (transaction_id, global_position);
