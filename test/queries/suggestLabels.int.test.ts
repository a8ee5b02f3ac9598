import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lexicalStatsDefinition } from '../../src/projections/lexicalStats.js';
import { readModelDefinition } from '../../src/projections/readModel/index.js';
import { createProjectionRuntime, type ProjectionRuntime } from '../../src/projections/runtime.js';
import type { ProjectionDefinition } from '../../src/projections/types.js';
import { silentLogger } from '../projections/helpers.js';
import { createTestApp, sendJson, type TestApp } from '../support/testApp.js';

// Label suggestions read the lexical projection too (a conversation's key terms are weighed by its
// document frequencies): a request with a position waits for it as well as for the read model.

let t: TestApp;
let runtime: ProjectionRuntime | undefined;

const run = async (definitions: ProjectionDefinition[]) => {
  await runtime?.stop();
  runtime = createProjectionRuntime({ pool: t.deps.pools.write, url: t.db.url, logger: silentLogger, batchSize: 100, pollIntervalMs: 100, leaseCheckMs: 500 }, definitions);
  await runtime.start();
};

beforeAll(async () => {
  t = await createTestApp({ config: { api: { rate_limit_requests: 1_000_000, rate_limit_burst: 1000 } } });
});
afterAll(async () => {
  await runtime?.stop();
  await t?.close();
});

describe('POST /api/v1/labels/suggest with a position', () => {
  it('waits for the lexical projection as well as the read model', async () => {
    await run([readModelDefinition, lexicalStatsDefinition]);
    const created = await sendJson(t.app, 'POST', '/api/v1/conversations', { label: 'car repair', messages: [{ role: 'user', content: 'the engine knocks' }] });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    // Waits up to the most a request may (a loaded machine can take seconds to project), or 300 ms
    // where the lexical projection is stopped and the answer must be 503.
    const suggest = (position: string, waitMs = 10_000) =>
      sendJson(t.app, 'POST', `/api/v1/labels/suggest?min_position=${position}&wait_ms=${waitMs}`, { conversation_id: id });
    expect((await suggest(created.body.position)).status).toBe(200);
    // The lexical projection stops; the read model goes on.
    await run([readModelDefinition]);
    const appended = await sendJson(t.app, 'POST', `/api/v1/conversations/${id}/messages`, { messages: [{ role: 'user', content: 'and the check engine light is on' }] });
    expect(appended.status).toBe(201);
    const behind = await suggest(appended.body.position, 300);
    expect([behind.status, behind.body.code]).toEqual([503, 'not_caught_up']);
    await run([readModelDefinition, lexicalStatsDefinition]);
    expect((await suggest(appended.body.position)).status).toBe(200);
  });
});
