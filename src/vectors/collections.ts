import { randomUUID } from 'node:crypto';
import type pg from 'pg';

/** The vector projection's name in projection_checkpoints. */
export const VECTORS = 'vectors';

export interface VectorCollectionRow {
  version: number;
  model: string;
  dimension: number;
  collection: string;
  job_id: string;
  processed: number;
  state: 'live' | 'building' | 'retired' | null;
  created_at: Date;
  activated_at: Date | null;
}

const COLUMNS = `v.version, v.model, v.dimension, v.collection, v.job_id::text as job_id, v.processed::int as processed,
  c.state, v.created_at, v.activated_at`;

/** The collection queries read now: the live version's, if it has one yet. */
export async function liveCollection(db: pg.Pool | pg.PoolClient): Promise<VectorCollectionRow | undefined> {
  const { rows } = await db.query<VectorCollectionRow>(
    `select ${COLUMNS} from vector_collections v
       join projection_checkpoints c on c.name = $1 and c.version = v.version and c.state = 'live'
      where v.dropped_at is null`,
    [VECTORS],
  );
  return rows[0];
}

export async function collectionByJob(db: pg.Pool, jobId: string): Promise<VectorCollectionRow | undefined> {
  const { rows } = await db.query<VectorCollectionRow>(
    `select ${COLUMNS} from vector_collections v left join projection_checkpoints c on c.name = $1 and c.version = v.version where v.job_id = $2`,
    [VECTORS, jobId],
  );
  return rows[0];
}

export async function collectionOfVersion(db: pg.Pool, version: number): Promise<VectorCollectionRow | undefined> {
  const { rows } = await db.query<VectorCollectionRow>(
    `select ${COLUMNS} from vector_collections v left join projection_checkpoints c on c.name = $1 and c.version = v.version where v.version = $2`,
    [VECTORS, version],
  );
  return rows[0];
}

/** The model a new version is built with: the one a rebuild asked for, else the configured one. */
export async function nextModel(db: pg.Pool, configured: string): Promise<string> {
  const { rows } = await db.query<{ model: string }>('select model from vector_next_model');
  return rows[0]?.model ?? configured;
}

export async function setNextModel(db: pg.Pool, model: string): Promise<void> {
  await db.query(`insert into vector_next_model (model) values ($1) on conflict (singleton) do update set model = excluded.model`, [model]);
}

/** Records a version's model and collection once (the first setup wins; a retry reads it back). */
export async function registerVersion(
  db: pg.Pool,
  row: { version: number; model: string; dimension: number; collection: string },
): Promise<VectorCollectionRow> {
  await db.query(
    `insert into vector_collections (version, model, dimension, collection, job_id) values ($1, $2, $3, $4, $5) on conflict (version) do nothing`,
    [row.version, row.model, row.dimension, row.collection, randomUUID()],
  );
  return (await collectionOfVersion(db, row.version))!;
}

export async function addProcessed(db: pg.Pool, version: number, n: number): Promise<void> {
  await db.query('update vector_collections set processed = processed + $2 where version = $1', [version, n]);
}
