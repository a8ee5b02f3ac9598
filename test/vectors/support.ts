import { createProjectionRuntime, type ProjectionRuntime } from '../../src/projections/runtime.js';
import { projectionDefinitions } from '../../src/app/projectors.js';
import { liveCollection } from '../../src/vectors/collections.js';
import { startVectorService, type VectorService } from '../../src/vectors/service.js';
import { silentLogger, until } from '../projections/helpers.js';
import { startTestChroma, type TestChroma } from '../support/chroma.js';
import { createTestApp, sendJson, type TestApp } from '../support/testApp.js';

export interface SearchApp extends TestApp {
  runtime: ProjectionRuntime;
  vectors: VectorService;
  chroma: TestChroma;
  /** Creates a conversation over HTTP; answers its id and position. */
  create(body: Record<string, unknown>): Promise<{ id: string; position: string }>;
  search(body: Record<string, unknown>): Promise<{ status: number; body: any }>;
  /** Vectors in the live collection. */
  vectorCount(): Promise<number>;
  /** Waits until the live collection holds `n` vectors. */
  untilVectors(n: number, timeoutMs?: number): Promise<void>;
}

/**
 * A test app with a real Chroma server, the real local embedder, and a projection runtime running
 * the read model, the vector projection and the lexical statistics.
 */
export async function createSearchApp(options: Parameters<typeof createTestApp>[0] = {}): Promise<SearchApp> {
  const chroma = await startTestChroma();
  const t = await createTestApp({ ...options, config: { ...options.config, chroma: { url: chroma.url, ...options.config?.chroma } } });
  const vectors = await startVectorService(t.deps.config, t.deps.pools.write, silentLogger);
  const runtime = createProjectionRuntime(
    { pool: t.deps.pools.write, url: t.db.url, logger: silentLogger, batchSize: 200, pollIntervalMs: 300, leaseCheckMs: 500 },
    projectionDefinitions({ config: t.deps.config, pool: t.deps.pools.write, logger: silentLogger, vectors }),
  );
  await runtime.start();
  t.deps.progress = runtime.bus;
  t.deps.projections = runtime;
  t.deps.vectors = vectors;
  const vectorCount = async () => {
    const live = await liveCollection(t.deps.pools.read);
    return live ? vectors.store.count(live.collection) : 0;
  };
  return {
    ...t,
    runtime,
    vectors,
    chroma,
    async create(body) {
      const res = await sendJson(t.app, 'POST', '/api/v1/conversations', body);
      if (res.status !== 201) throw new Error(`create answered ${res.status}: ${JSON.stringify(res.body)}`);
      return { id: res.body.id as string, position: res.body.position as string };
    },
    search: (body) => sendJson(t.app, 'POST', '/api/v1/query', body),
    vectorCount,
    async untilVectors(n, timeoutMs = 60_000) {
      await until(async () => (await vectorCount()) === n, timeoutMs, `${n} vectors`);
    },
    async close() {
      await runtime.stop();
      await vectors.stop();
      await t.close();
      await chroma.stop();
    },
  };
}
