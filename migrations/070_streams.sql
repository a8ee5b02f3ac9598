-- Each stream's current version, so that an append checks and moves it in one row: writers of one
-- stream queue on that row's lock and the loser of a race learns it from an empty answer, not from a
-- unique violation after inserting. The events' unique (stream_id, stream_version) stays as the backstop.
create table streams (
  stream_id text    primary key,
  version   integer not null check (version > 0)
);

-- Existing databases: no append may commit between reading the versions and this migration's commit.
lock table events in share mode;
insert into streams (stream_id, version)
select stream_id, max(stream_version) from events group by stream_id;
