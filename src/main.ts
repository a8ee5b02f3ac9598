import { Command } from 'commander';
import { loadConfig, type ResolvedConfig } from './config/load.js';
import { createLogger } from './logger.js';
import { startService } from './app/server.js';
import { VERSION } from './version.js';

function configOrExit(overrides: Record<string, string> = {}): ResolvedConfig {
  const config = loadConfig({ ...process.env, ...overrides });
  if (config.isErr()) {
    process.stderr.write(`${config.error.message}\n`);
    process.exit(2);
  }
  return config.value;
}

async function serveCommand(options: { role?: string }): Promise<void> {
  const config = configOrExit(options.role ? { SEKHA_SERVER__ROLE: options.role } : {});
  const logger = createLogger(config.log_level);
  const service = await startService(config, logger);
  const lines = [`sekha ${VERSION} listening on ${service.url} (role ${config.server.role})`];
  if (service.loopbackOnly) lines.push('  no API keys configured: only clients on this machine (loopback) are served');
  if (service.embedded.postgres) lines.push(`  embedded PostgreSQL on 127.0.0.1:${service.embedded.postgres.port}, data in ${service.embedded.postgres.dataDir}`);
  else lines.push('  PostgreSQL: DATABASE_URL');
  if (service.embedded.chroma) lines.push(`  embedded Chroma on 127.0.0.1:${service.embedded.chroma.port}, data in ${service.embedded.chroma.dataDir}`);
  else lines.push('  Chroma: CHROMA_URL');
  if (service.deps.vectors) lines.push(`  embeddings: ${service.deps.config.embedding.provider} (${service.deps.vectors.embedders.configuredModel})`);
  process.stdout.write(`${lines.join('\n')}\n`);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      // A second Ctrl-C means now: the exit hooks still stop the embedded PostgreSQL and Chroma.
      logger.warn({ signal }, 'second signal: exiting at once');
      process.exit(130);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // Never hang on the way out: past the grace period and a margin, exit anyway.
    setTimeout(() => {
      logger.error({ grace_ms: config.server.shutdown_grace_ms }, 'shutdown did not finish in time; exiting');
      process.exit(1);
    }, config.server.shutdown_grace_ms + 15_000).unref();
    service.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        logger.error({ err: e }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

const program = new Command('sekha').description('Sekha memory controller').version(VERSION);
program
  .command('serve', { isDefault: true })
  .description('run the API and projectors')
  .option('--role <role>', 'all | api | projector (default: server.role, "all")')
  .action(serveCommand);
program
  .command('create-api-key <name>')
  .description('print a new random API key and the config lines that enable it')
  .option('--scopes <scopes>', 'comma-separated: read, write, admin', 'read,write')
  .action(async (name: string, options: { scopes: string }) => {
    const { newApiKey } = await import('./http/auth/createKey.js');
    const made = newApiKey(name, options.scopes);
    if (made.isErr()) {
      process.stderr.write(`create-api-key: ${made.error}\n`);
      process.exit(2);
    }
    const k = made.value;
    process.stdout.write(
      `API key (shown once; store it now):\n  ${k.key}\n\nconfig.toml (holds only its SHA-256):\n${k.toml}\n\nor in the environment:\n  SEKHA_API_KEYS=${k.env}\n`,
    );
  });
program
  .command('migrate')
  .description('apply database migrations and exit')
  .action(async () => {
    const { migrate } = await import('./db/migrate.js');
    const { createPools } = await import('./db/pools.js');
    const { configuredDatabase } = await import('./db/embeddedPostgres.js');
    const config = configOrExit();
    const { url, embedded } = await configuredDatabase(config);
    const pools = createPools(url, undefined, config.database);
    try {
      const report = await migrate(pools.write);
      process.stdout.write(`applied ${report.applied.length} migration(s)${report.applied.length ? `: ${report.applied.join(', ')}` : ''}; ${report.skipped.length} already applied\n`);
    } finally {
      await pools.close();
      await embedded?.stop();
    }
  });

program
  .command('replay <projection>')
  .description('rebuild a projection (e.g. read-model) beside the live one and switch to it when caught up')
  .action(async (projection: string) => {
    const { replayCommand } = await import('./app/replay.js');
    process.exitCode = await replayCommand(configOrExit(), projection);
  });

program
  .command('mcp')
  .description('an MCP server on stdin/stdout (for desktop agents): forwards to a running service, or starts the embedded defaults')
  .option('--url <url>', 'a running Sekha service (default: SEKHA_URL; none: start the embedded service here)')
  .option('--key <key>', 'its API key (default: SEKHA_API_KEY)')
  .action(async (options: { url?: string; key?: string }) => {
    const { runStdioServer } = await import('./app/mcpStdio.js');
    const pino = (await import('pino')).default;
    const config = configOrExit();
    // stdout carries the protocol: logs go to stderr.
    const logger = createLogger(config.log_level, pino.destination(2));
    const url = options.url ?? process.env.SEKHA_URL;
    const key = options.key ?? process.env.SEKHA_API_KEY;
    await runStdioServer(config, logger, { ...(url ? { url } : {}), ...(key ? { key } : {}) });
    process.exit(0);
  });

const retention = program.command('retention').description('retention rules ([[retention.rules]] in the config)');
retention
  .command('run')
  .description('run the retention rules once (under the retention lease), or print what a run would do')
  .option('--dry-run', 'print what the run would do (as GET /api/v1/retention/preview), change nothing', false)
  .option('--json', 'print JSON', false)
  .action(async (options: { dryRun: boolean; json: boolean }) => {
    const { retentionCommand } = await import('./app/retentionCommand.js');
    process.exitCode = await retentionCommand(configOrExit(), options);
  });

program.parseAsync().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
