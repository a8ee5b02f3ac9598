import { Writable } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformExtras } from '../../src/app/platform.js';
import { createLogger } from '../../src/logger.js';
import { withMaintenanceTransaction } from '../../src/projections/maintenance.js';
import { readModelDefinition } from '../../src/projections/readModel/index.js';
import { createProjectionRuntime, type ProjectionRuntime } from '../../src/projections/runtime.js';
import { until } from '../projections/helpers.js';
import { createTestApp, sendJson, type TestApp } from '../support/testApp.js';

// A long transaction holding the xmin back: the projector must wait (never skip what that
// transaction may still commit), the lag metric must show it, a warning must say why, and after it
// ends every event is projected exactly once.
const lines: Record<string, unknown>[] = [];
const sink = new Writable({
  write(chunk, _enc, done) {
    for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
    done();
  },
});

const KEY = 'k'.repeat(40);
let t: TestApp;
let runtime: ProjectionRuntime;
beforeAll(async () => {
  t = await createTestApp({ config: { api: { keys: [{ name: 'w', key: KEY, scopes: ['admin'] }], rate_limit_requests: 100_000, rate_limit_burst: 100_000 } }, extras: (deps) => platformExtras(deps) });
  runtime = createProjectionRuntime(
    { pool: t.deps.pools.write, url: t.db.url, logger: createLogger('info', sink), batchSize: 50, pollIntervalMs: 200, heldBackWarnMs: 1500 },
    [readModelDefinition],
  );
  await runtime.start();
  t.deps.projections = runtime;
  t.deps.progress = runtime.bus;
});
afterAll(async () => {
  await runtime?.stop();
  await t?.close();
});

const lag = async () => {
  const text = await (await t.app.request('/metrics')).text();
  return Number(/sekha_projection_lag\{projector="read-model@\d+",unit="events"\} (\d+)/.exec(text)?.[1] ?? NaN);
};
const projectedMessages = async () => (await t.db.pool.query<{ n: number }>('select count(*)::int as n from messages')).rows[0]!.n;

describe('a long-running transaction holding the xmin', () => {
  it('holds the projector back (lag rises, a warning names the session), then every event lands once', async () => {
    // An older maintenance transaction holds no one back, so the warning must not name it.
    let endMaintenance = () => {};
    const maintenanceEnded = new Promise<void>((r) => (endMaintenance = r));
    const maintenancePool = new pg.Pool({ connectionString: t.db.url, application_name: 'maintenance-holder', max: 1 });
    maintenancePool.on('error', () => {});
    let maintenanceStarted = () => {};
    const maintenanceRunning = new Promise<void>((r) => (maintenanceStarted = r));
    const maintenance = withMaintenanceTransaction(maintenancePool, 'held-back test', async () => {
      maintenanceStarted();
      await maintenanceEnded;
    });
    await maintenanceRunning;
    const holder = new pg.Client({ connectionString: t.db.url, application_name: 'xmin-holder' });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query('select pg_current_xact_id()'); // takes an xid: readers stop below it
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) {
        const res = await sendJson(t.app, 'POST', '/api/v1/conversations', { label: `held ${i}`, messages: [{ role: 'user', content: `held back ${i}` }] }, { authorization: `Bearer ${KEY}` });
        expect(res.status).toBe(201);
        ids.push(res.body.id);
      }
      const warning = await until(() => lines.find((l) => String(l.msg).includes('held back by an old open transaction')), 15_000, 'the held-back warning');
      expect((warning.oldestTransaction as { application_name: string }).application_name).toBe('xmin-holder');
      expect(await projectedMessages()).toBe(0);
      expect(await lag()).toBeGreaterThanOrEqual(20);
      await holder.query('commit');
      await until(async () => (await projectedMessages()) === 20, 15_000, 'the read model to catch up');
      await until(async () => (await lag()) === 0, 15_000, 'the lag to return to 0');
      await until(() => lines.some((l) => l.msg === 'projector no longer held back'), 5_000, 'the all-clear line');
      const { rows } = await t.db.pool.query<{ id: string }>('select id::text from conversations order by id');
      expect(rows.map((r) => r.id).sort()).toEqual([...ids].sort());
    } finally {
      await holder.end();
      endMaintenance();
      await maintenance;
      await maintenancePool.end();
    }
  });
});
