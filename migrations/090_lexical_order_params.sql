-- The postings' order (their `cost`) follows the BM25 parameters a version was built with, recorded
-- in its totals; versions built before were ordered under k1 = 0.9, b = 0.3 (the defaults).
do $$
declare t record; live integer;
begin
  for t in select tablename from pg_tables where schemaname = current_schema() and tablename ~ '^lex_v[0-9]+_totals$' loop
    execute format('alter table %I add column if not exists k1_ref float8 not null default 0.9, add column if not exists b_ref float8 not null default 0.3', t.tablename);
  end loop;
  -- The view names its columns as they were when it was made: made again, it has the new ones.
  select version into live from projection_checkpoints where name = 'lexical-stats' and state = 'live';
  if live is not null and to_regclass(format('lex_v%s_totals', live)) is not null then
    execute format('create or replace view lexical_totals as select * from %I', format('lex_v%s_totals', live));
  end if;
end $$;
