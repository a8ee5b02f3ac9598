import pg from 'pg';

// Advisory-lock namespace of projector leases (the first int of the two-int lock key).
export const LEASE_NAMESPACE = 7_431_002;

/** The second int of a projector's lease key: a stable non-negative hash of name and version. */
export function leaseKey(name: string, version: number): number {
  let h = 0x811c9dc5;
  for (const ch of `${name}:${version}`) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 0x01000193);
  }
  return h & 0x7fffffff;
}

/** A projector's lease: held while this process may run it. */
export interface Lease {
  readonly held: boolean;
  /** Tries once to take the lease; true when held afterwards. */
  acquire(): Promise<boolean>;
  /** Lets the lease go (and closes its connection). */
  release(): Promise<void>;
}

export interface LeaseOptions {
  /** The primary; the lease lives on a dedicated connection to it. */
  url: string;
  name: string;
  version: number;
  /** How often the held lock is re-checked. */
  checkMs: number;
  /** Called once when a held lease is lost (connection gone or lock missing). */
  onLost: (reason: string) => void;
}

/**
 * A Postgres advisory lock held on its own connection: when the process dies its connection
 * closes and the lock goes with it, so another instance takes over on its next try.
 */
export function createLease(options: LeaseOptions): Lease {
  const key = leaseKey(options.name, options.version);
  let client: pg.Client | undefined;
  let held = false;
  let timer: NodeJS.Timeout | undefined;

  const drop = () => {
    if (timer) clearInterval(timer);
    timer = undefined;
    const c = client;
    client = undefined;
    c?.removeAllListeners();
    c?.on('error', () => {});
    c?.end().catch(() => {});
  };
  const lose = (reason: string) => {
    if (!held) return;
    held = false;
    drop();
    options.onLost(reason);
  };
  const check = async () => {
    const c = client;
    if (!c || !held) return;
    try {
      const { rows } = await c.query(
        `select 1 from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()
            and classid = $1 and objid = $2 and objsubid = 2 and granted`,
        [LEASE_NAMESPACE, key],
      );
      if (rows.length === 0) lose('advisory lock no longer held');
    } catch (e) {
      lose(`lease connection failed: ${(e as Error).message}`);
    }
  };

  return {
    get held() {
      return held;
    },
    async acquire() {
      if (held) return true;
      try {
        if (!client) {
          const c = new pg.Client({ connectionString: options.url, application_name: `sekha-lease-${options.name}` });
          c.on('error', (e) => lose(`lease connection error: ${e.message}`));
          c.on('end', () => lose('lease connection ended'));
          client = c;
          await c.connect();
        }
        const { rows } = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1, $2) as ok', [LEASE_NAMESPACE, key]);
        held = rows[0]?.ok === true;
      } catch {
        held = false;
        drop();
        return false;
      }
      if (held) timer = setInterval(() => void check(), options.checkMs);
      return held;
    },
    async release() {
      const c = client;
      const wasHeld = held;
      held = false;
      if (timer) clearInterval(timer);
      timer = undefined;
      if (c && wasHeld) await c.query('select pg_advisory_unlock($1, $2)', [LEASE_NAMESPACE, key]).catch(() => {});
      drop();
    },
  };
}

/** A lease that is always held: for a single instance with `projections.lease = false`. */
export function noLease(): Lease {
  return { held: true, acquire: async () => true, release: async () => {} };
}

/** True when some session of this database holds the lease of (name, version). */
export async function leaseHolderExists(db: pg.Pool | pg.PoolClient, name: string, version: number): Promise<boolean> {
  const { rows } = await db.query(
    `select 1 from pg_locks where locktype = 'advisory' and classid = $1 and objid = $2 and objsubid = 2 and granted
        and database = (select oid from pg_database where datname = current_database())`,
    [LEASE_NAMESPACE, leaseKey(name, version)],
  );
  return rows.length > 0;
}
