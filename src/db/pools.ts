import pg from 'pg';
import type { ResolvedConfig } from '../config/load.js';

/** The primary pool (commands, projectors) and the read pool (queries; a replica when configured). */
export interface Pools {
  write: pg.Pool;
  read: pg.Pool;
  /** True when reads go to a different database than writes. */
  separateRead: boolean;
  close(): Promise<void>;
}

// Timestamps and bigints come back as strings we convert where needed; int8 counts fit in a JS number.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

/** Builds one pg pool with the sizes and timeouts of the [database] section. */
export function createPool(url: string, db: ResolvedConfig['database'], applicationName: string): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: db.max_connections,
    min: db.min_connections,
    connectionTimeoutMillis: db.connect_timeout * 1000,
    idleTimeoutMillis: db.idle_timeout * 1000,
    maxLifetimeSeconds: db.max_lifetime,
    statement_timeout: db.statement_timeout_ms || undefined,
    application_name: applicationName,
  });
  // An idle client losing its server (restart, failover) must not crash the process.
  pool.on('error', () => {});
  // A checked-out client has no pool listener: its server going away between two queries (a
  // transaction, a projector batch) emitted an unhandled 'error' and killed the process. The next
  // query on it fails instead, and the pool drops it on release (it is no longer queryable).
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

/** Creates the write and read pools; READ_DATABASE_URL defaults to the primary. */
export function createPools(writeUrl: string, readUrl: string | undefined, db: ResolvedConfig['database']): Pools {
  const write = createPool(writeUrl, db, 'sekha-write');
  const separateRead = readUrl !== undefined && readUrl !== writeUrl;
  const read = separateRead ? createPool(readUrl, db, 'sekha-read') : write;
  return {
    write,
    read,
    separateRead,
    async close() {
      await write.end();
      if (separateRead) await read.end();
    },
  };
}
