import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { createEventStore } from '../../src/eventstore/index.js';
import { createTestDatabase, migrateBefore, type TestDatabase } from '../support/database.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase({ migrate: false });
});
afterAll(() => db.drop());

describe('070_streams on an existing database', () => {
  it('backfills every stream’s version from its events, and appends go on from there', async () => {
    // A database as the version before the streams table left it, with events in it.
    const rest = await migrateBefore(db.pool, '070_streams.sql');
    const streams = { [`s-${randomUUID()}`]: 3, [`s-${randomUUID()}`]: 1, [`s-${randomUUID()}`]: 12 };
    for (const [stream, version] of Object.entries(streams)) {
      for (let v = 1; v <= version; v++) {
        await db.pool.query(`insert into events (stream_id, stream_version, event_id, type, data) values ($1, $2, $3, 'Old', '{}')`, [stream, v, randomUUID()]);
      }
    }

    const report = await migrate(db.pool);
    expect(report.applied).toEqual(rest);
    const { rows } = await db.pool.query<{ stream_id: string; version: number }>('select stream_id, version from streams');
    expect(Object.fromEntries(rows.map((r) => [r.stream_id, r.version]))).toEqual(streams);

    const store = createEventStore(db.pool);
    const [first, second, third] = Object.keys(streams) as [string, string, string];
    const append = (stream: string, expected: number | 'any') => store.append(stream, expected, [{ type: 'New', data: {} }], { actor: 'test' });
    expect((await append(first, 3))._unsafeUnwrap().nextVersion).toBe(4);
    expect((await append(second, 0))._unsafeUnwrapErr()).toMatchObject({ type: 'version_conflict', actual: 1 });
    expect((await append(third, 11))._unsafeUnwrapErr()).toMatchObject({ type: 'version_conflict', actual: 12 });
    // Of concurrent writers expecting the backfilled version, exactly one wins.
    const race = await Promise.all(Array.from({ length: 5 }, () => append(third, 12)));
    expect(race.filter((r) => r.isOk())).toHaveLength(1);
    expect((await append(third, 'any'))._unsafeUnwrap().nextVersion).toBe(14);
  });
});
