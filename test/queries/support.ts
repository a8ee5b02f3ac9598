import { createProjectionRuntime, type ProjectionRuntime } from '../../src/projections/runtime.js';
import { readModelDefinition } from '../../src/projections/readModel/index.js';
import type { ProjectionDefinition } from '../../src/projections/types.js';
import { createTestApp, sendJson, type TestApp } from '../support/testApp.js';
import { silentLogger } from '../projections/helpers.js';

export interface QueryApp extends TestApp {
  runtime: ProjectionRuntime;
  /** Creates a conversation over HTTP; answers its id and position. */
  create(body: Record<string, unknown>): Promise<{ id: string; position: string }>;
}

/** A test app with a projection runtime running the read model on its database, its bus in deps. */
export async function createQueryApp(options: Parameters<typeof createTestApp>[0] = {}, moreProjections: ProjectionDefinition[] = []): Promise<QueryApp> {
  const t = await createTestApp(options);
  const runtime = createProjectionRuntime(
    { pool: t.deps.pools.write, url: t.db.url, logger: silentLogger, batchSize: 100, pollIntervalMs: 500, leaseCheckMs: 500 },
    [readModelDefinition, ...moreProjections],
  );
  await runtime.start();
  t.deps.progress = runtime.bus;
  t.deps.projections = runtime;
  return {
    ...t,
    runtime,
    async create(body) {
      const res = await sendJson(t.app, 'POST', '/api/v1/conversations', body);
      if (res.status !== 201) throw new Error(`create answered ${res.status}: ${JSON.stringify(res.body)}`);
      return { id: res.body.id as string, position: res.body.position as string };
    },
    async close() {
      await runtime.stop();
      await t.close();
    },
  };
}
