import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStreamingPair, type StreamingPair } from '../support/replica.js';

let pair: StreamingPair;
beforeAll(async () => {
  pair = await startStreamingPair();
});
afterAll(() => pair?.stop());

describe('streaming replica test support', () => {
  it('makes a replica that is in recovery and replays what the primary writes', async () => {
    const primary = new pg.Client({ connectionString: pair.primaryUrl });
    const replica = new pg.Client({ connectionString: pair.replicaUrl });
    await primary.connect();
    await replica.connect();
    try {
      expect((await replica.query('select pg_is_in_recovery() as r')).rows[0].r).toBe(true);
      await primary.query('create table t (x int)');
      await primary.query('insert into t values (42)');
      await pair.waitForReplay();
      expect((await replica.query('select x from t')).rows).toEqual([{ x: 42 }]);
      await expect(replica.query('insert into t values (1)')).rejects.toThrow(/read-only/);
    } finally {
      await primary.end();
      await replica.end();
    }
  });
});
