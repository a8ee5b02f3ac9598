import type pg from 'pg';
import { positionParams, type Position } from '../eventstore/index.js';
import type { ProjectorStatus, VersionState } from './types.js';

type Db = pg.Pool | pg.PoolClient;

/** One row of projection_checkpoints. */
export interface CheckpointRow {
  name: string;
  version: number;
  position: Position;
  state: VersionState;
  status: string;
  lastError: string | null;
  updatedAt: Date;
}

const COLUMNS = `name, version, transaction_id::text as transaction_id, global_position, state, status, last_error, updated_at`;

interface RawRow {
  name: string;
  version: number;
  transaction_id: string;
  global_position: number;
  state: VersionState;
  status: string;
  last_error: string | null;
  updated_at: Date;
}

const toRow = (r: RawRow): CheckpointRow => ({
  name: r.name,
  version: r.version,
  position: { transactionId: BigInt(r.transaction_id), globalPosition: Number(r.global_position) },
  state: r.state,
  status: r.status,
  lastError: r.last_error,
  updatedAt: r.updated_at,
});

/** The row of one version; `lock` takes it FOR UPDATE (the fence every batch goes through). */
export async function readCheckpoint(db: Db, name: string, version: number, lock = false): Promise<CheckpointRow | undefined> {
  const { rows } = await db.query<RawRow>(
    `select ${COLUMNS} from projection_checkpoints where name = $1 and version = $2${lock ? ' for update' : ''}`,
    [name, version],
  );
  return rows[0] ? toRow(rows[0]) : undefined;
}

/** Every version of the named projections (all when `names` is undefined), by name and version. */
export async function listCheckpoints(db: Db, names?: readonly string[]): Promise<CheckpointRow[]> {
  const { rows } = await db.query<RawRow>(
    `select ${COLUMNS} from projection_checkpoints where $1::text[] is null or name = any($1) order by name, version`,
    [names ?? null],
  );
  return rows.map(toRow);
}

/** The live version's checkpoint of a projection, as `db` (possibly a replica) sees it. */
export async function liveCheckpoint(db: Db, name: string): Promise<CheckpointRow | undefined> {
  const { rows } = await db.query<RawRow>(`select ${COLUMNS} from projection_checkpoints where name = $1 and state = 'live'`, [name]);
  return rows[0] ? toRow(rows[0]) : undefined;
}

/** Moves the checkpoint (inside the batch transaction for SQL projectors). */
export async function saveCheckpoint(db: Db, name: string, version: number, position: Position, status: ProjectorStatus): Promise<void> {
  await db.query(
    `update projection_checkpoints
        set transaction_id = $3::text::xid8, global_position = $4, status = $5, last_error = null, updated_at = now()
      where name = $1 and version = $2`,
    [name, version, ...positionParams(position), status],
  );
}

/**
 * Moves the checkpoint only if nobody moved it since `from` and the version is not retired: the
 * fence for projectors whose work is outside the transaction. False when fenced off.
 */
export async function advanceCheckpoint(db: Db, name: string, version: number, from: Position, to: Position, status: ProjectorStatus): Promise<boolean> {
  const result = await db.query(
    `update projection_checkpoints
        set transaction_id = $5::text::xid8, global_position = $6, status = $7, last_error = null, updated_at = now()
      where name = $1 and version = $2 and state <> 'retired'
        and transaction_id = $3::text::xid8 and global_position = $4`,
    [name, version, ...positionParams(from), ...positionParams(to), status],
  );
  return result.rowCount === 1;
}

/** Records what the projector is doing (and the last error), for status across instances. */
export async function saveStatus(db: Db, name: string, version: number, status: ProjectorStatus, error?: string): Promise<void> {
  await db.query(`update projection_checkpoints set status = $3, last_error = $4, updated_at = now() where name = $1 and version = $2`, [
    name,
    version,
    status,
    error?.slice(0, 1000) ?? null,
  ]);
}
