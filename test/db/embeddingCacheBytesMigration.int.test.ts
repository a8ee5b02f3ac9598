import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { withEmbeddingCache, type Embedder } from '../../src/embeddings/index.js';
import { createTestDatabase, migrateBefore, type TestDatabase } from '../support/database.js';

const BYTES = '100_embedding_cache_bytes.sql';
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase({ migrate: false });
});
afterAll(() => db.drop());

const hash = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** An embedder that must not be called: every text is in the cache. */
const cachedOnly = (model: string): Embedder => ({
  model,
  dimension: 3,
  embed: async (texts) => {
    throw new Error(`embedded ${texts.join(', ')}: the converted cache should have answered`);
  },
});

describe(`migration ${BYTES}`, () => {
  it('converts vectors cached as real[] into bytes that read back as the same float4 values', async () => {
    await migrateBefore(db.pool, BYTES);
    await db.pool.query(`insert into embedding_cache (model, text_hash, vector) values ('m', $1, '{0.1,-2.5,3e-8}'), ('m', $2, '{}')`, [hash('three'), hash('none')]);

    expect((await migrate(db.pool)).applied).toContain(BYTES);

    const [three, none] = await withEmbeddingCache(cachedOnly('m'), db.pool).embed(['three', 'none']);
    expect(three).toEqual([0.1, -2.5, 3e-8].map(Math.fround));
    expect(none).toEqual([]);
    const columns = await db.pool.query(`select column_name from information_schema.columns where table_name = 'embedding_cache' order by ordinal_position`);
    expect(columns.rows.map((r) => r.column_name)).toEqual(['model', 'text_hash', 'created_at', 'vector_bytes']);
  });
});
