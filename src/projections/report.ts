import type pg from 'pg';
import { countEventsAfter, formatPosition } from '../eventstore/index.js';
import { readHead } from '../eventstore/read.js';
import { listCheckpoints } from './checkpoints.js';
import { leaseHolderExists } from './lease.js';
import type { LocalStatus } from './runtime.js';

/** One projector version as GET /api/v1/projections answers it. */
export interface ProjectionReport {
  name: string;
  version: number;
  state: string;
  position: string;
  head: string | null;
  lag_events: number;
  lag_seconds: number;
  status: string;
  last_error: string | null;
}

/**
 * Every projector version with its lag behind the head (events after its checkpoint, and the age
 * of the oldest of them). Status comes from this process when it runs the projector, else from the
 * row its leader keeps, and is `stopped` when no instance holds its lease.
 */
export async function projectionReports(pool: pg.Pool, local: LocalStatus[] = [], leases = true): Promise<ProjectionReport[]> {
  const [rows, head] = await Promise.all([listCheckpoints(pool), readHead(pool)]);
  if (head.isErr()) throw head.error.cause;
  const reports: ProjectionReport[] = [];
  for (const row of rows) {
    const lag = await countEventsAfter(pool, row.position);
    const mine = local.find((l) => l.name === row.name && l.version === row.version && l.status !== 'standby');
    let status = mine?.status ?? row.status;
    if (!mine && leases && status !== 'stopped' && !(await leaseHolderExists(pool, row.name, row.version))) status = 'stopped';
    reports.push({
      name: row.name,
      version: row.version,
      state: row.state,
      position: formatPosition(row.position),
      head: head.value ? formatPosition(head.value.position) : null,
      lag_events: lag.count,
      lag_seconds: Math.max(0, Math.round((lag.oldestSeconds ?? 0) * 1000) / 1000),
      status,
      last_error: mine?.lastError ?? row.lastError,
    });
  }
  return reports;
}
