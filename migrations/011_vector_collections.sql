-- One row per version of the vector projection: the model that makes its vectors, their dimension
-- and its Chroma collection (two models never share one). Queries read the live version's row
-- (joined with projection_checkpoints); a rebuild job is a building version.
create table vector_collections (
  version      integer     primary key,
  model        text        not null,
  dimension    integer     not null,
  collection   text        not null unique,
  job_id       uuid        not null unique,
  processed    bigint      not null default 0,
  created_at   timestamptz not null default now(),
  activated_at timestamptz,
  dropped_at   timestamptz
);

-- The model the next vector version is built with (set by a rebuild request, taken by the new version).
create table vector_next_model (
  singleton boolean primary key default true check (singleton),
  model     text    not null
);
