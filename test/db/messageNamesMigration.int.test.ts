import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { createTestDatabase, migrateBefore, type TestDatabase } from '../support/database.js';

const NAMES = '062_message_names.sql';
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase({ migrate: false });
});
afterAll(() => db.drop());

describe(`migration ${NAMES}`, () => {
  it('gives a read-model table made before names the column, a written search vector and a view that shows both', async () => {
    await migrateBefore(db.pool, NAMES);
    // The messages table and view as versions before names made them.
    await db.pool.query(`
      create table rm_v3_messages (
        id uuid primary key, conversation_id uuid not null, seq integer not null, role text not null, content text not null,
        parts jsonb, timestamp timestamptz not null, metadata jsonb not null default '{}'::jsonb,
        search tsvector generated always as (to_tsvector('english', content)) stored, unique (conversation_id, seq));
      create view messages as select * from rm_v3_messages;
      insert into rm_v3_messages (id, conversation_id, seq, role, content, timestamp)
        values ('10000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-00000000000a', 1, 'user', 'support group', now());`);

    const report = await migrate(db.pool);
    expect(report.applied).toContain(NAMES);

    const old = await db.pool.query(`select name, search::text as search from messages`);
    expect(old.rows).toEqual([{ name: null, search: `'group':2 'support':1` }]);
    await db.pool.query(`
      insert into rm_v3_messages (id, conversation_id, seq, role, name, content, timestamp, search)
        values ('10000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-00000000000a', 2, 'user', 'Caroline', 'hi', now(), to_tsvector('english', 'Caroline hi'))`);
    const named = await db.pool.query(`select name from messages where search @@ to_tsquery('english', 'caroline')`);
    expect(named.rows).toEqual([{ name: 'Caroline' }]);
  });
});
