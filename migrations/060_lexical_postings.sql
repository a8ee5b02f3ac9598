-- The lexical projection gained impact-ordered postings and per-document term frequencies (issue #14):
-- tables of earlier versions lack them. Their versions are forgotten, so the projection builds a new
-- live version from the log at the next start (BM25 answers from partial statistics meanwhile).
drop view if exists lexical_terms;
drop view if exists lexical_totals;
do $$
declare t record;
begin
  for t in select tablename from pg_tables where schemaname = current_schema() and tablename ~ '^lex_v[0-9]+_(terms|docs|totals)$' loop
    execute format('drop table if exists %I', t.tablename);
  end loop;
end $$;
delete from projection_checkpoints where name = 'lexical-stats';
