import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBenchService, type BenchService } from '../../bench/service.js';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/db/embeddedPostgres.js';
import { freePort } from '../../src/util/freePort.js';
import { until } from '../projections/helpers.js';
import { startTestChroma, type TestChroma } from '../support/chroma.js';
import { startFakeOllama, type FakeOllama } from '../support/ollamaServer.js';
import { expectAllAcknowledged, writeBurst } from './support.js';

// Postgres (embedded, started here) stops and starts again under the running service while writers
// and the projectors are busy: during the outage writes answer 503, never 500; afterwards every
// acknowledged write is in the log, the read model and the vectors, once.
let dir: string;
let port: number;
let postgres: EmbeddedPostgresHandle | undefined;
let chroma: TestChroma;
let ollama: FakeOllama;
let service: BenchService | undefined;
let pool: pg.Pool;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sekha-pg-restart-'));
  port = await freePort();
  [postgres, chroma, ollama] = await Promise.all([startEmbeddedPostgres({ dataDir: join(dir, 'pg'), port }), startTestChroma(), startFakeOllama()]);
  pool = new pg.Pool({ connectionString: postgres.url, max: 2 });
  pool.on('error', () => {});
}, 180_000);
afterAll(async () => {
  await service?.stop();
  await pool?.end().catch(() => {});
  await postgres?.stop();
  await ollama?.close();
  await chroma?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('Postgres restart under load', () => {
  it('during writes and projection: 503s while it is down, then every acknowledged write everywhere, once', async () => {
    service = await startBenchService({
      DATABASE_URL: postgres!.url,
      CHROMA_URL: chroma.url,
      OLLAMA_URL: ollama.url,
      DATA_DIR: join(dir, 'data'),
      SEKHA_API__RATE_LIMIT_REQUESTS: '1000000',
      SEKHA_API__RATE_LIMIT_BURST: '1000000',
    });
    const burst = writeBurst(service.url, 6);
    await until(() => burst.result.acknowledged.length >= 100, 60_000, '100 acknowledged writes');
    // The projectors are behind the writers here (vectors embed in batches): the restart hits both.
    await postgres!.stop();
    postgres = undefined;
    await until(() => (burst.result.statuses[503] ?? 0) >= 6, 30_000, 'writes to answer 503 while Postgres is down').catch((e) => {
      throw new Error(`${(e as Error).message}; statuses ${JSON.stringify(burst.result.statuses)}\n${service!.output().slice(-4000)}`);
    });
    postgres = await startEmbeddedPostgres({ dataDir: join(dir, 'pg'), port });
    const resumedAt = burst.result.acknowledged.length;
    await until(() => burst.result.acknowledged.length >= resumedAt + 100, 90_000, '100 more acknowledged writes after the restart');
    const { acknowledged, statuses } = await burst.stop();
    const found = await expectAllAcknowledged(pool, chroma.url, acknowledged);
    console.log(`postgres restart: ${JSON.stringify({ ...found, statuses })}`);
    expect(found.ackInLog).toBe(acknowledged.length);
    expect(found.ackProjected).toBe(acknowledged.length);
    expect(found.ackTwice).toBe(0);
    expect(found.distinct_logged).toBe(found.logged);
    expect(Object.keys(statuses).filter((s) => Number(s) >= 500 && s !== '503')).toEqual([]);
  }, 300_000);
});
