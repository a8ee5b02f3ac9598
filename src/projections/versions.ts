import type pg from 'pg';
import { comparePositions, formatPosition } from '../eventstore/index.js';
import { listCheckpoints, type CheckpointRow } from './checkpoints.js';
import { leaseKey } from './lease.js';
import type { ProjectionDefinition } from './types.js';
import { withTransaction } from '../db/transaction.js';

// Advisory-lock namespace serialising version changes (create, rebuild, switch) of one projection.
const VERSIONS_NAMESPACE = 7_431_003;

/** A transaction holding the projection's versions lock: one creator or switcher of versions at a time. */
function inTransaction<T>(pool: pg.Pool, name: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withTransaction(pool, async (client) => {
    await client.query('select pg_advisory_xact_lock($1, $2)', [VERSIONS_NAMESPACE, leaseKey(name, 0)]);
    return fn(client);
  });
}

/** Creates version 1 as the live version of a projection that has none yet (and activates it). */
export function ensureLiveVersion(pool: pg.Pool, definition: ProjectionDefinition): Promise<void> {
  return inTransaction(pool, definition.name, async (client) => {
    const { rows } = await client.query('select 1 from projection_checkpoints where name = $1 limit 1', [definition.name]);
    if (rows.length > 0) return;
    await client.query(`insert into projection_checkpoints (name, version, state) values ($1, 1, 'live')`, [definition.name]);
    await definition.activate?.(client, 1);
  });
}

/**
 * Asks for a rebuild: a new version that builds beside the live one. Answers the version being
 * built (an existing rebuild is reused rather than started twice).
 */
export function requestRebuild(pool: pg.Pool, name: string): Promise<{ version: number; created: boolean }> {
  return inTransaction(pool, name, async (client) => {
    const { rows } = await client.query<{ version: number; state: string }>(
      `select version, state from projection_checkpoints where name = $1 order by version desc`,
      [name],
    );
    const building = rows.find((r) => r.state === 'building');
    if (building) return { version: building.version, created: false };
    const version = (rows[0]?.version ?? 0) + 1;
    await client.query(`insert into projection_checkpoints (name, version, state, status) values ($1, $2, 'building', 'standby')`, [name, version]);
    return { version, created: true };
  });
}

/**
 * Switches a projection to its building version once that has reached the live version's
 * checkpoint, so that nobody who read the live version sees older data afterwards. Both rows are
 * locked, which also waits out a batch in flight. Answers the switch made, if any.
 */
export function trySwitch(
  pool: pg.Pool,
  definition: ProjectionDefinition,
): Promise<{ from: number | undefined; to: number; position: string; livePosition: string | undefined } | undefined> {
  return inTransaction(pool, definition.name, async (client) => {
    await client.query(`select 1 from projection_checkpoints where name = $1 and state in ('live', 'building') order by version for update`, [
      definition.name,
    ]);
    const rows = await listCheckpoints(client, [definition.name]);
    const live = rows.find((r) => r.state === 'live');
    const building = rows.filter((r) => r.state === 'building').at(-1);
    if (!building) return undefined;
    if (live && comparePositions(building.position, live.position) < 0) return undefined;
    await definition.activate?.(client, building.version);
    if (live) await client.query(`update projection_checkpoints set state = 'retired', updated_at = now() where name = $1 and version = $2`, [definition.name, live.version]);
    await client.query(`update projection_checkpoints set state = 'live', updated_at = now() where name = $1 and version = $2`, [definition.name, building.version]);
    return { from: live?.version, to: building.version, position: formatPosition(building.position), livePosition: live ? formatPosition(live.position) : undefined };
  });
}

/** Drops a retired version's storage and forgets its checkpoint. */
export function dropRetired(pool: pg.Pool, definition: ProjectionDefinition, row: CheckpointRow): Promise<void> {
  return inTransaction(pool, definition.name, async (client) => {
    const { rows } = await client.query(`select 1 from projection_checkpoints where name = $1 and version = $2 and state = 'retired' for update`, [
      row.name,
      row.version,
    ]);
    if (rows.length === 0) return;
    await definition.drop?.(client, row.version);
    await client.query('delete from projection_checkpoints where name = $1 and version = $2', [row.name, row.version]);
  });
}
