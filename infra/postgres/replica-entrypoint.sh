#!/bin/bash
# Streaming replica: on first start, clone the primary with pg_basebackup (-R writes
# standby.signal and primary_conninfo), then run postgres as a hot standby.
set -euo pipefail
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -h "$PRIMARY_HOST" -p 5432 -U replicator; do sleep 1; done
  export PGPASSWORD="$REPLICATION_PASSWORD"
  pg_basebackup -h "$PRIMARY_HOST" -p 5432 -U replicator -D "$PGDATA" -S replica1 -X stream -R -P
  chmod 0700 "$PGDATA"
fi
exec postgres -c hot_standby=on
