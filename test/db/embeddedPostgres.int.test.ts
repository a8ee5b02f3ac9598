import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/until.js';
import { alive, configuredDatabase, startEmbeddedPostgres } from '../../src/db/embeddedPostgres.js';
import { resolveConfig } from '../../src/config/load.js';

// A run killed with SIGKILL cannot stop its PostgreSQL; the next start on the same data dir must
// still work (the orphan is stopped first), and a data dir a live instance holds is refused by name.
let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'sekha-orphan-'));
});
afterAll(async () => {
  const pid = await postmasterPid();
  if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
  await rm(dataDir, { recursive: true, force: true });
});

const postmasterPid = async () => Number((await readFile(join(dataDir, 'pg', 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0]) || undefined;

/** A process of its own holding the embedded PostgreSQL on the data dir; answers once it is up. */
async function holder() {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'holdPostgres.ts'), join(dataDir, 'pg')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(Number(out.trim()));
    });
    child.once('exit', (code) => reject(new Error(`the holder exited (${code}) before PostgreSQL was up`)));
  });
  return { child, port };
}

const killed = (child: ChildProcess) => new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once('exit', r)));

/** The watchdog process of the postmaster `pid`. */
const watchdogOf = (pid: number) =>
  Number(
    execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
      .split('\n')
      .find((line) => line.includes('postgresWatchdog.mjs') && line.trim().endsWith(` ${pid}`))
      ?.trim()
      .split(/\s+/)[0],
  ) || undefined;

describe('embedded PostgreSQL on a data dir', () => {
  it('refuses a data dir that a running instance holds, naming it; stops with its owner even when the owner is SIGKILLed', async () => {
    const { child, port } = await holder();
    const writer = new pg.Client({ connectionString: `postgres://postgres:postgres@127.0.0.1:${port}/postgres` });
    await writer.connect();
    await writer.query("create table kept (note text); insert into kept values ('written before the kill')");
    await writer.end();
    await expect(startEmbeddedPostgres({ dataDir: join(dataDir, 'pg') })).rejects.toThrow(/in use by another running instance/);
    const pid = (await postmasterPid())!;
    child.kill('SIGKILL');
    await killed(child);
    // No exit handler runs on SIGKILL: the watchdog stops PostgreSQL.
    await until(() => !alive(pid), 60_000, 'the watchdog to stop PostgreSQL');
  }, 180_000);

  it('stops a PostgreSQL that a killed run left behind (its watchdog killed too), then starts on the same data with it intact', async () => {
    const { child } = await holder();
    const orphan = (await postmasterPid())!;
    const watchdog = watchdogOf(orphan);
    expect(watchdog).toBeDefined();
    process.kill(watchdog!, 'SIGKILL');
    child.kill('SIGKILL');
    await killed(child);
    expect(alive(orphan)).toBe(true);
    const handle = await startEmbeddedPostgres({ dataDir: join(dataDir, 'pg') });
    try {
      expect(alive(orphan)).toBe(false);
      const client = new pg.Client({ connectionString: handle.url });
      await client.connect();
      expect((await client.query('select note from kept')).rows).toEqual([{ note: 'written before the kill' }]);
      await client.end();
    } finally {
      await handle.stop();
    }
  }, 180_000);
});

describe('the configured embedded PostgreSQL', () => {
  it('starts under data_dir/pg with the configured shared_buffers, and not at all when database.url is set', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sekha-configured-pg-'));
    const config = resolveConfig(`data_dir = "${dir}"\n[database]\nembedded_shared_buffers_mb = 192\n`, {})._unsafeUnwrap();
    const { url, embedded } = await configuredDatabase(config);
    const handle = embedded!;
    expect(url).toBe(handle.url);
    try {
      expect(handle.dataDir).toBe(join(dir, 'pg'));
      const client = new pg.Client({ connectionString: handle.url });
      await client.connect();
      expect((await client.query('show shared_buffers')).rows[0].shared_buffers).toBe('192MB');
      // A table built in its own transaction (as a projection's rebuild builds its tables) writes no
      // WAL for its rows: ~8 MB of them, against the WAL of the catalogue changes.
      const lsn = async () => (await client.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn')).rows[0]!.lsn;
      const before = await lsn();
      await client.query('begin');
      await client.query(`create table built as select g, md5(g::text) as h from generate_series(1, 100000) g`);
      await client.query('create index on built (h)');
      await client.query('commit');
      const written = Number((await client.query<{ n: string }>('select pg_wal_lsn_diff(pg_current_wal_lsn(), $1) as n', [before])).rows[0]!.n);
      expect((await client.query<{ n: string }>(`select pg_total_relation_size('built') as n`)).rows[0]!.n).toSatisfy((n: string) => Number(n) > 8e6);
      expect(written).toBeLessThan(1e6);
      await client.end();
    } finally {
      await handle.stop();
      await rm(dir, { recursive: true, force: true });
    }
    const external = resolveConfig(`data_dir = "${dir}"\n[database]\nurl = "postgres://x@127.0.0.1:1/x"\n`, {})._unsafeUnwrap();
    expect(await configuredDatabase(external)).toEqual({ url: 'postgres://x@127.0.0.1:1/x' });
  }, 120_000);
});
