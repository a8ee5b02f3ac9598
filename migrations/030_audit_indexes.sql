-- Audit queries filter the whole log by type, actor or time and page by position; these keep them
-- index-only range scans at millions of events.
create index if not exists events_type_position_idx on events (type, global_position);
create index if not exists events_actor_position_idx on events ((metadata->>'actor'), global_position);
create index if not exists events_created_at_idx on events (created_at, global_position);
