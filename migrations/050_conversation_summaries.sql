-- Summaries of conversations, written by the `summaries` projector from SummaryGenerated events.
create table if not exists conversation_summaries (
  summary_id      uuid primary key,
  conversation_id uuid        not null,
  level           text        not null,
  summary         text        not null,
  model           text        not null,
  period_start    timestamptz not null,
  period_end      timestamptz not null,
  source_count    integer     not null,
  generated_at    timestamptz not null,
  position        bigint      not null
);
create index if not exists conversation_summaries_conversation_idx on conversation_summaries (conversation_id, level, period_start);
