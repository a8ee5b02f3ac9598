-- Long transactions that write no events (a lexical rebuild's bulk build: a minute or more at a
-- million messages) register their ids here, and gap-safe readers of the log do not wait for them:
-- otherwise every projector stood still, and no write became searchable, until they committed.
create table maintenance_transactions (
  transaction_id xid8        primary key,
  what           text        not null,
  registered_at  timestamptz not null default now()
);
