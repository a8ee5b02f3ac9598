-- Messages gained an optional participant `name` (issue #15), and the read model's `search` column is
-- now written by the projector from the lexical document (name, text and day) instead of generated
-- from content alone. Read-model tables made before that get the column and lose the generation
-- expression; their rows keep their search vectors (content only, as their lexical documents) until a
-- replay rewrites both. The `messages` view lists the columns its table had when it was made, so the
-- view on such a table is made again with the new column.
do $$
declare
  t record;
  view_def text := (select definition from pg_views where schemaname = current_schema() and viewname = 'messages');
begin
  for t in select tablename from pg_tables where schemaname = current_schema() and tablename ~ '^rm_v[0-9]+_messages$' loop
    execute format('alter table %I add column if not exists name text', t.tablename);
    execute format('alter table %I alter column search drop expression if exists', t.tablename);
    if view_def ~ ('\m' || t.tablename || '\M') then
      execute format('create or replace view messages as select * from %I', t.tablename);
    end if;
  end loop;
end $$;
