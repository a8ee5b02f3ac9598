-- Embedding cache: a text embedded once by a model is never embedded again by it.
create table embedding_cache (
  model      text        not null,
  text_hash  bytea       not null, -- sha256 of the text
  vector     real[]      not null,
  created_at timestamptz not null default now(),
  primary key (model, text_hash)
);
