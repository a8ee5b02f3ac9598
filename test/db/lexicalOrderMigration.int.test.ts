import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { createTestDatabase, migrateBefore, type TestDatabase } from '../support/database.js';

const ORDER = '090_lexical_order_params.sql';
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase({ migrate: false });
});
afterAll(() => db.drop());

describe(`migration ${ORDER}`, () => {
  it('records the order of lexical versions built before it (k1 0.9, b 0.3) and shows it through the view', async () => {
    await migrateBefore(db.pool, ORDER);
    // Two versions' totals as builds before the recorded order made them; version 2 is live.
    await db.pool.query(`
      create table lex_v1_totals (singleton boolean primary key default true check (singleton), docs bigint not null, total_len bigint not null, avgdl_ref float8);
      create table lex_v2_totals (singleton boolean primary key default true check (singleton), docs bigint not null, total_len bigint not null, avgdl_ref float8);
      insert into lex_v1_totals (docs, total_len, avgdl_ref) values (3, 30, 10);
      insert into lex_v2_totals (docs, total_len, avgdl_ref) values (4, 48, 12);
      insert into projection_checkpoints (name, version, state) values ('lexical-stats', 1, 'retired'), ('lexical-stats', 2, 'live');
      create view lexical_totals as select * from lex_v2_totals;`);

    expect((await migrate(db.pool)).applied).toContain(ORDER);

    const live = await db.pool.query('select docs::int, avgdl_ref, k1_ref, b_ref from lexical_totals');
    expect(live.rows).toEqual([{ docs: 4, avgdl_ref: 12, k1_ref: 0.9, b_ref: 0.3 }]);
    const retired = await db.pool.query('select k1_ref, b_ref from lex_v1_totals');
    expect(retired.rows).toEqual([{ k1_ref: 0.9, b_ref: 0.3 }]);
  });
});
