import cliProgress from 'cli-progress';
import type { ResolvedConfig } from '../config/load.js';
import { configuredDatabase } from '../db/embeddedPostgres.js';
import { migrate } from '../db/migrate.js';
import { createPools } from '../db/pools.js';
import { countEventsAfter } from '../eventstore/index.js';
import { createLogger } from '../logger.js';
import { readCheckpoint } from '../projections/checkpoints.js';
import { startProjections } from '../projections/index.js';
import { projectionDefinitions } from './projectors.js';
import { setNextModel } from '../vectors/collections.js';
import { startVectorService } from '../vectors/service.js';

/** Events after a position: what the rebuild still has to apply. */
async function remaining(pool: import('pg').Pool, name: string, version: number): Promise<{ left: number; state: string | undefined }> {
  const row = await readCheckpoint(pool, name, version);
  if (!row) return { left: 0, state: undefined };
  return { left: (await countEventsAfter(pool, row.position)).count, state: row.state };
}

/**
 * `sekha replay <projection>`: builds a new version of the projection beside the live one, shows a
 * progress bar, and returns once it has been switched to. A running server keeps answering queries
 * meanwhile; whichever instance holds the new version's lease does the work.
 */
export async function replayCommand(config: ResolvedConfig, name: string, out: NodeJS.WriteStream = process.stderr): Promise<number> {
  const logger = createLogger(config.log_level === 'info' ? 'warn' : config.log_level);
  const { url, embedded } = await configuredDatabase(config);
  const pools = createPools(url, undefined, config.database);
  const started = Date.now();
  try {
    await migrate(pools.write);
    // Vectors need Chroma and the embedders (CHROMA_URL, else an embedded Chroma: then no server may be
    // running on the same DATA_DIR).
    const vectors = name === 'vectors' ? await startVectorService(config, pools.write, logger) : undefined;
    const definitions = projectionDefinitions({ config, pool: pools.write, logger, ...(vectors ? { vectors } : {}) });
    const runtime = await startProjections({ config, pools, url, logger, definitions });
    try {
      if (!runtime.definitions.some((d) => d.name === name)) {
        out.write(`unknown projection "${name}"; known: ${runtime.definitions.map((d) => d.name).join(', ')}\n`);
        return 2;
      }
      // A vectors replay embeds with the configured model (a rebuild over HTTP may have asked for another).
      if (vectors && name === 'vectors') await setNextModel(pools.write, vectors.embedders.configuredModel);
      const { version, created } = await runtime.rebuild(name);
      out.write(`${created ? 'rebuilding' : 'a rebuild is already running:'} ${name} version ${version}\n`);
      const total = (await remaining(pools.write, name, version)).left;
      const bar = new cliProgress.SingleBar(
        { format: `${name} v${version} [{bar}] {percentage}% | {value}/{total} events | {rate} events/s | eta {eta}s`, stream: out, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      bar.start(Math.max(total, 1), 0, { rate: 0 });
      for (;;) {
        const { left, state } = await remaining(pools.write, name, version);
        const done = Math.max(0, total - left);
        const seconds = (Date.now() - started) / 1000;
        bar.setTotal(Math.max(total, done + left, 1));
        bar.update(done, { rate: Math.round(done / Math.max(seconds, 0.001)) });
        if (state === 'live' || state === undefined) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      bar.stop();
      out.write(`switched ${name} to version ${version} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      return 0;
    } finally {
      await runtime.stop();
      await vectors?.stop();
    }
  } finally {
    await pools.close();
    await embedded?.stop();
  }
}
