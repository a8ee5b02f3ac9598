import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listMigrations, migrate, MIGRATIONS_DIR } from '../../src/db/migrate.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
let dir: string;
const pools: pg.Pool[] = [];

beforeAll(async () => {
  db = await createTestDatabase({ migrate: false });
  // The shipped migrations plus slow ones that count their own runs: a second run of any file would show.
  dir = await mkdtemp(join(tmpdir(), 'sekha-migrations-'));
  for (const file of await listMigrations()) await writeFile(join(dir, file), await readFile(join(MIGRATIONS_DIR, file), 'utf8'));
  await writeFile(join(dir, '900_probe_table.sql'), 'create table migration_probe (file text not null); select pg_sleep(0.2);');
  await writeFile(join(dir, '901_probe_row.sql'), "insert into migration_probe values ('901'); select pg_sleep(0.2);");
  await writeFile(join(dir, '902_probe_row.sql'), "insert into migration_probe values ('902');");
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end().catch(() => {})));
  await db.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('migrate', () => {
  it('three runners with their own pools, started at once, apply each file exactly once', async () => {
    for (let i = 0; i < 3; i++) {
      const pool = new pg.Pool({ connectionString: db.url, max: 2 });
      // An idle connection that the server closes (a shared server under other files' load) must not end the file.
      pool.on('error', () => {});
      pools.push(pool);
    }
    const reports = await Promise.all(pools.map((p) => migrate(p, dir)));
    const files = await listMigrations(dir);
    // Every file applied by exactly one runner; the others found it done.
    const applied = reports.flatMap((r) => r.applied).sort();
    expect(applied).toEqual(files);
    for (const r of reports) expect([...r.applied, ...r.skipped].sort()).toEqual(files);
    const recorded = await db.pool.query<{ name: string }>('select name from schema_migrations order by name');
    expect(recorded.rows.map((r) => r.name)).toEqual(files);
    const probe = await db.pool.query<{ file: string }>('select file from migration_probe order by file');
    expect(probe.rows.map((r) => r.file)).toEqual(['901', '902']);
    // The event store's schema is there.
    expect((await db.pool.query("select to_regclass('events') as t")).rows[0].t).toBe('events');
  });

  it('running again applies nothing', async () => {
    const again = await migrate(pools[0]!, dir);
    expect(again.applied).toEqual([]);
    expect(again.skipped).toEqual(await listMigrations(dir));
    const probe = await db.pool.query('select count(*)::int as n from migration_probe');
    expect(probe.rows[0].n).toBe(2);
  });

  it('a failing migration rolls back, is not recorded, and names the file', async () => {
    await writeFile(join(dir, '903_broken.sql'), "insert into migration_probe values ('903'); select no_such_function();");
    await expect(migrate(pools[1]!, dir)).rejects.toThrow(/903_broken\.sql/);
    const recorded = await db.pool.query("select count(*)::int as n from schema_migrations where name = '903_broken.sql'");
    expect(recorded.rows[0].n).toBe(0);
    const probe = await db.pool.query("select count(*)::int as n from migration_probe where file = '903'");
    expect(probe.rows[0].n).toBe(0);
  });
});
