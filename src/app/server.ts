import type { Server } from 'node:http';
import { serve, type ServerType } from '@hono/node-server';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../config/load.js';
import { configuredDatabase, type EmbeddedPostgresHandle } from '../db/embeddedPostgres.js';
import { migrate } from '../db/migrate.js';
import { createPools, type Pools } from '../db/pools.js';
import { createApp } from './createApp.js';
import { configuredEventStore } from './eventStore.js';
import type { AppDeps } from '../deps.js';
import { bindPolicy } from '../http/auth/bindPolicy.js';
import { createOpsApp, platformExtras } from './platform.js';
import { createMetrics } from '../metrics/index.js';
import { bm25Params } from '../queries/bm25.js';
import { prepareReadModel, startProjections, type ProjectionRuntime } from '../projections/index.js';
import type { ChromaProcess } from '../vectors/chromaProcess.js';
import { startVectorModel } from '../projections/vectorRebuild.js';
import { projectionDefinitions } from './projectors.js';
import { listenWakeup, type Wakeup } from '../eventstore/wakeup.js';
import { startRetentionScheduler, type RetentionScheduler } from '../retention/scheduler.js';
import { startVectorService, type VectorService } from '../vectors/service.js';
import { startWarmUp, type WarmUp } from '../vectors/warmUp.js';
import { VERSION } from '../version.js';

/** A running service and how to stop it. */
export interface RunningService {
  url: string;
  port: number;
  deps: AppDeps;
  embedded: { postgres?: EmbeddedPostgresHandle; chroma?: ChromaProcess };
  /** No API key configured: only loopback clients are served. */
  loopbackOnly: boolean;
  /** Graceful: stop accepting, finish in-flight requests and the projector batch, close pools (server.shutdown_grace_ms). */
  stop(): Promise<void>;
}

/** Starts what is not configured (embedded Postgres), migrates, and serves the API. */
export async function startService(config: ResolvedConfig, logger: Logger): Promise<RunningService> {
  const policy = bindPolicy(config);
  if (policy.isErr()) throw new Error(policy.error);
  if (policy.value.loopbackOnly) logger.warn({ host: config.server.host }, 'no API keys configured: only loopback clients are served');
  const embedded: RunningService['embedded'] = {};
  const { url: writeUrl, embedded: postgres } = await configuredDatabase(config, (line) => logger.trace({ component: 'embedded-postgres' }, line.trim()));
  if (postgres) {
    embedded.postgres = postgres;
    logger.info({ component: 'embedded-postgres', port: postgres.port, data_dir: postgres.dataDir }, 'started embedded PostgreSQL');
  }
  let pools: Pools | undefined;
  let projections: ProjectionRuntime | undefined;
  let vectors: VectorService | undefined;
  let warmUp: WarmUp | undefined;
  // Live event streams: woken by the projections' LISTEN, or by one of their own in an API-only process.
  let streamWakeup: Wakeup | undefined;
  const closingStreams = new AbortController();
  let retention: RetentionScheduler | undefined;
  // REDIS_URL: rate-limit buckets shared by every instance. No offline queue: when Redis is down each
  // instance falls back to its own buckets instead of queueing requests.
  const redis = config.redis.url ? new Redis(config.redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 }) : undefined;
  redis?.on('error', (e: Error) => logger.warn({ component: 'redis', err: { message: e.message } }, 'redis unavailable'));
  try {
    pools = createPools(writeUrl, config.database.read_url, config.database);
    const report = await migrate(pools.write);
    if (report.applied.length > 0) logger.info({ applied: report.applied }, 'applied migrations');
    const deps: AppDeps = {
      config,
      pools,
      store: configuredEventStore(pools.write, config, {
        notify: {
          windowMs: config.projections.notify_window_ms,
          onError: (e) => logger.debug({ err: { message: (e as Error).message } }, 'NOTIFY after append failed; projectors poll'),
        },
      }),
      logger,
      clock: () => new Date(),
      startedAt: new Date(),
      version: VERSION,
      metrics: createMetrics({ defaultMetrics: true }),
    };
    // Chroma (CHROMA_URL, else a child process under DATA_DIR/chroma) and the embedders.
    vectors = await startVectorService(config, pools.write, logger, { metrics: deps.metrics });
    deps.vectors = vectors;
    if (vectors.chroma) embedded.chroma = vectors.chroma;
    // The embedder and every collection in use are loaded before /ready says 200 (not by the first search).
    const warming = startWarmUp({ pool: pools.write, store: vectors.store, embedders: vectors.embedders, logger });
    warmUp = warming;
    deps.readiness = { ...deps.readiness, warm_up: () => warming.check() };
    // Projectors run with role all/projector; with several instances their leases pick who works.
    if (config.server.role !== 'api') {
      projections = await startProjections({ config, pools, url: writeUrl, logger, definitions: projectionDefinitions({ config, pool: pools.write, logger, vectors }), appends: deps.store.notifier });
      // A changed configured embedding model rebuilds the vectors beside the live collection.
      await startVectorModel(projections, pools.write, vectors, logger);
      deps.projections = projections;
      deps.progress = projections.bus;
    } else {
      await prepareReadModel(pools, bm25Params(config.search));
    }
    const wakeup = projections?.wakeup ?? (streamWakeup = listenWakeup(writeUrl, logger));
    deps.events = { wakeup, closing: closingStreams.signal };
    // Retention rules run beside the projectors, in the one instance holding the retention lease.
    if (config.server.role !== 'api' && config.retention.enabled && config.retention.rules.length > 0) {
      retention = startRetentionScheduler(deps, { url: writeUrl });
    }
    const app = config.server.role === 'projector' ? createOpsApp(deps) : createApp(deps, platformExtras(deps, redis ? { redis } : {}));
    const server: ServerType = await new Promise((resolveServer, reject) => {
      const s = serve({ fetch: app.fetch, hostname: config.server.host, port: config.server.port }, () => resolveServer(s));
      s.once('error', reject);
    });
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.server.port;
    const url = `http://${config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host}:${port}`;
    const livePools = pools;
    return {
      url,
      port,
      deps,
      embedded,
      loopbackOnly: policy.value.loopbackOnly,
      async stop() {
        const deadline = Date.now() + config.server.shutdown_grace_ms;
        // Open event streams end with a 'closing' event (where to resume) instead of holding the grace period.
        closingStreams.abort();
        await closeServer(server as Server, config.server.shutdown_grace_ms);
        // Finishes the batch in flight and lets the leases go before the pools close, within what is
        // left of the grace period (at least 2 s). A vector batch still embedding then is abandoned:
        // its checkpoint has not moved, so the next start applies it again (at-least-once, idempotent).
        warmUp?.stop();
        await withDeadline(retention?.stop(), 5000);
        const finished = await withDeadline(projections?.stop(), Math.max(deadline - Date.now(), 2000));
        if (!finished) logger.warn({ grace_ms: config.server.shutdown_grace_ms }, 'projector batch still running at shutdown; abandoned, it will be re-applied');
        await vectors?.stop();
        await streamWakeup?.close();
        redis?.disconnect();
        // The last appends' NOTIFY, before its pool closes.
        await withDeadline(deps.store.notifier.flush(), 1000);
        // An abandoned batch may still hold a client; pool.end() would wait for it forever.
        if (!(await withDeadline(livePools.close(), 5000))) logger.warn('database pools did not close in 5 s; going on');
        await embedded.postgres?.stop();
      },
    };
  } catch (e) {
    warmUp?.stop();
    await retention?.stop().catch(() => {});
    await projections?.stop().catch(() => {});
    await vectors?.stop().catch(() => {});
    await streamWakeup?.close().catch(() => {});
    await pools?.close().catch(() => {});
    redis?.disconnect();
    await embedded.postgres?.stop();
    throw e;
  }
}

/** Waits for `work` at most `ms`; true when it finished in time. */
async function withDeadline(work: Promise<unknown> | undefined, ms: number): Promise<boolean> {
  if (!work) return true;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([work.then(() => true as const, () => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Stops accepting connections and lets in-flight requests finish: idle keep-alive connections are
 * closed as they become idle; whatever is still open after `graceMs` is cut.
 */
async function closeServer(server: Server, graceMs: number): Promise<void> {
  const closed = new Promise<void>((r) => server.close(() => r()));
  server.closeIdleConnections();
  const sweep = setInterval(() => server.closeIdleConnections(), 25);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((r) => {
    timer = setTimeout(() => r('timeout'), graceMs);
  });
  try {
    if ((await Promise.race([closed, deadline])) === 'timeout') {
      server.closeAllConnections();
      await closed;
    }
  } finally {
    clearInterval(sweep);
    clearTimeout(timer);
  }
}
