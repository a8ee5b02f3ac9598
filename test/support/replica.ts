import { execFile } from 'node:child_process';
import { chmod, chown, mkdtemp, rm, appendFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../../src/util/freePort.js';

const run = promisify(execFile);

/** Where the machine's PostgreSQL binaries are (Debian layout), or undefined. */
export function postgresBinDir(): string | undefined {
  for (const v of ['17', '16', '15']) {
    const dir = `/usr/lib/postgresql/${v}/bin`;
    if (existsSync(join(dir, 'pg_basebackup'))) return dir;
  }
  return undefined;
}

/** A primary and a streaming replica made with initdb and `pg_basebackup -R`, on ports of their own. */
export interface StreamingPair {
  primaryUrl: string;
  replicaUrl: string;
  stopReplica(): Promise<void>;
  startReplica(): Promise<void>;
  /** Waits until the replica has replayed everything the primary has written so far. */
  waitForReplay(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a primary + streaming replica in a temp dir; `stop()` stops both and removes the dir. */
export async function startStreamingPair(): Promise<StreamingPair> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('no PostgreSQL binaries with pg_basebackup on this machine');
  const dir = await mkdtemp(join(tmpdir(), 'sekha-replica-'));
  await chmod(dir, 0o755);
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout), Number(gid));
  }
  // Postgres refuses to run as root: run its tools as the postgres user then.
  const tool = (name: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, name), ...args]) : run(join(bin, name), args);
  const primaryDir = join(dir, 'primary');
  const replicaDir = join(dir, 'replica');
  const [primaryPort, replicaPort] = [await freePort(), await freePort()];
  await tool('initdb', ['-D', primaryDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  await appendFile(
    join(primaryDir, 'postgresql.conf'),
    `\nport = ${primaryPort}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '${dir}'\nwal_level = replica\nmax_wal_senders = 5\nfsync = off\n`,
  );
  await appendFile(join(primaryDir, 'pg_hba.conf'), '\nhost replication all 127.0.0.1/32 trust\n');
  const ctl = (data: string, action: 'start' | 'stop') =>
    tool('pg_ctl', ['-D', data, '-l', join(dir, `${action === 'start' ? '' : 'stop-'}${data === primaryDir ? 'primary' : 'replica'}.log`), '-w', '-t', '60', ...(action === 'stop' ? ['-m', 'fast'] : []), action]);
  await ctl(primaryDir, 'start');
  await tool('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-D', replicaDir, '-R', '-X', 'stream']);
  await writeFile(join(replicaDir, 'postgresql.auto.conf'), `port = ${replicaPort}\nhot_standby = on\n`, { flag: 'a' });
  await ctl(replicaDir, 'start');
  let replicaUp = true;
  const primaryUrl = `postgres://postgres@127.0.0.1:${primaryPort}/postgres`;
  const replicaUrl = `postgres://postgres@127.0.0.1:${replicaPort}/postgres`;
  const lsn = async (url: string, sql: string) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return (await c.query<{ lsn: string }>(sql)).rows[0]!.lsn;
    } finally {
      await c.end();
    }
  };
  return {
    primaryUrl,
    replicaUrl,
    async stopReplica() {
      if (replicaUp) await ctl(replicaDir, 'stop');
      replicaUp = false;
    },
    async startReplica() {
      if (!replicaUp) await ctl(replicaDir, 'start');
      replicaUp = true;
    },
    async waitForReplay(timeoutMs = 30_000) {
      const target = await lsn(primaryUrl, 'select pg_current_wal_lsn()::text as lsn');
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const c = new pg.Client({ connectionString: replicaUrl });
        await c.connect();
        try {
          const { rows } = await c.query<{ done: boolean }>('select pg_last_wal_replay_lsn() >= $1::pg_lsn as done', [target]);
          if (rows[0]?.done) return;
        } finally {
          await c.end();
        }
        if (Date.now() > deadline) throw new Error(`replica did not replay to ${target} within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      if (replicaUp) await ctl(replicaDir, 'stop').catch(() => {});
      await ctl(primaryDir, 'stop').catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}
