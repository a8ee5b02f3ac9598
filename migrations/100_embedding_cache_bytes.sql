-- The embedding cache keeps each vector as its float4 values' bytes (big-endian: float4send's order),
-- written and read as one binary parameter. As real[] every write sent the vector as JSON text, parsed
-- into jsonb and cast element by element (~1 ms a 512-d text on 2 cores: a catch-up of a million texts
-- spent longer writing its cache than Chroma took to index them), and every hit came back as array text.
-- Cached vectors are converted, not dropped: with a real model each one is an embedding call saved.
alter table embedding_cache add column vector_bytes bytea;
update embedding_cache
   set vector_bytes = coalesce((select string_agg(float4send(x), ''::bytea order by i) from unnest(vector) with ordinality as u(x, i)), ''::bytea);
alter table embedding_cache drop column vector;
alter table embedding_cache alter column vector_bytes set not null;
