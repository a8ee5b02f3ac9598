import { join, resolve } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import type { Logger } from 'pino';
import type { ResolvedConfig } from './config/load.js';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from './db/embeddedPostgres.js';
import { migrate } from './db/migrate.js';
import { createPools, type Pools } from './db/pools.js';
import { createEventStore } from './eventstore/index.js';
import { createApp } from './http/app.js';
import type { AppDeps } from './http/deps.js';
import { prepareReadModel, startProjections, type ProjectionRuntime } from './projections/index.js';
import type { ChromaProcess } from './vectors/chromaProcess.js';
import { startVectorModel } from './vectors/rebuild.js';
import { startVectorService, type VectorService } from './vectors/service.js';
import { VERSION } from './version.js';

/** A running service and how to stop it. */
export interface RunningService {
  url: string;
  port: number;
  deps: AppDeps;
  embedded: { postgres?: EmbeddedPostgresHandle; chroma?: ChromaProcess };
  stop(): Promise<void>;
}

/** Starts what is not configured (embedded Postgres), migrates, and serves the API. */
export async function startService(config: ResolvedConfig, logger: Logger): Promise<RunningService> {
  const embedded: RunningService['embedded'] = {};
  let writeUrl = config.database.url;
  if (!writeUrl) {
    const dataDir = join(resolve(config.data_dir), 'pg');
    embedded.postgres = await startEmbeddedPostgres({
      dataDir,
      port: config.database.embedded_port,
      onLog: (line) => logger.trace({ component: 'embedded-postgres' }, line.trim()),
    });
    writeUrl = embedded.postgres.url;
    logger.info({ component: 'embedded-postgres', port: embedded.postgres.port, data_dir: dataDir }, 'started embedded PostgreSQL');
  }
  let pools: Pools | undefined;
  let projections: ProjectionRuntime | undefined;
  let vectors: VectorService | undefined;
  try {
    pools = createPools(writeUrl, config.database.read_url, config.database);
    const report = await migrate(pools.write);
    if (report.applied.length > 0) logger.info({ applied: report.applied }, 'applied migrations');
    const deps: AppDeps = {
      config,
      pools,
      store: createEventStore(pools.write),
      logger,
      clock: () => new Date(),
      startedAt: new Date(),
      version: VERSION,
    };
    // Chroma (CHROMA_URL, else a child process under DATA_DIR/chroma) and the embedders.
    vectors = await startVectorService(config, pools.write, logger);
    deps.vectors = vectors;
    if (vectors.chroma) embedded.chroma = vectors.chroma;
    // Projectors run with role all/projector; with several instances their leases pick who works.
    if (config.server.role !== 'api') {
      projections = await startProjections({ config, pools, url: writeUrl, logger, extra: vectors.definitions });
      // A changed configured embedding model rebuilds the vectors beside the live collection.
      await startVectorModel(projections, pools.write, vectors, logger);
      deps.projections = projections;
      deps.progress = projections.bus;
    } else {
      await prepareReadModel(pools);
    }
    const app = createApp(deps);
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
      async stop() {
        await new Promise<void>((r) => server.close(() => r()));
        // Finishes the batch in flight and lets the leases go before the pools close.
        await projections?.stop();
        await vectors?.stop();
        await livePools.close();
        await embedded.postgres?.stop();
      },
    };
  } catch (e) {
    await projections?.stop().catch(() => {});
    await vectors?.stop().catch(() => {});
    await pools?.close().catch(() => {});
    await embedded.postgres?.stop();
    throw e;
  }
}
