import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBenchService, type BenchService } from '../../bench/service.js';
import { until } from '../projections/helpers.js';
import { startTestChroma, type TestChroma } from '../support/chroma.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeOllama, type FakeOllama } from '../support/ollamaServer.js';
import { expectAllAcknowledged, storeCounts, writeBurst } from './support.js';

// The real service as a child process (Postgres, Chroma and the embedder outside it, so they
// survive): kill -9 in the middle of a write burst, and an embedder that fails for a while.
let db: TestDatabase;
let chroma: TestChroma;
let ollama: FakeOllama;
let dataDir: string;
const services: BenchService[] = [];

const start = async () => {
  const service = await startBenchService({
    DATABASE_URL: db.url,
    CHROMA_URL: chroma.url,
    OLLAMA_URL: ollama.url,
    DATA_DIR: dataDir,
    SEKHA_API__RATE_LIMIT_REQUESTS: '1000000',
    SEKHA_API__RATE_LIMIT_BURST: '1000000',
  });
  services.push(service);
  return service;
};

beforeAll(async () => {
  [db, chroma, ollama] = await Promise.all([createTestDatabase(), startTestChroma(), startFakeOllama()]);
  dataDir = await mkdtemp(join(tmpdir(), 'sekha-kill-'));
}, 120_000);
afterAll(async () => {
  for (const s of services) await s.stop();
  await ollama?.close();
  await chroma?.stop();
  await db?.drop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('faults around the service process', () => {
  it('kill -9 in the middle of a write burst: after a restart every acknowledged write is in the log, the read model and the vectors, once', async () => {
    const first = await start();
    const burst = writeBurst(first.url, 8);
    await until(() => burst.result.acknowledged.length >= 150, 60_000, '150 acknowledged writes');
    process.kill(first.pid, 'SIGKILL');
    await until(() => (burst.result.statuses[0] ?? 0) >= 8, 30_000, 'the writers to see the service gone');
    const second = await start();
    const { acknowledged, statuses } = await burst.stop();
    const found = await expectAllAcknowledged(db.pool, chroma.url, acknowledged);
    console.log(`kill -9: ${JSON.stringify({ ...found, statuses })}`);
    expect(found.ackInLog).toBe(acknowledged.length);
    expect(found.ackProjected).toBe(acknowledged.length);
    expect(found.ackTwice).toBe(0);
    expect(found.distinct_projected).toBe(found.projected);
    expect(Object.keys(statuses).filter((s) => Number(s) >= 500)).toEqual([]);
    await second.stop();
  }, 240_000);

  it('the embedder failing (503) for a while: writes keep working, and every message gets its vector once it is back', async () => {
    const service = await start();
    const before = ollama.requests.length;
    ollama.failNext(1_000_000);
    const burst = writeBurst(service.url, 4);
    await until(() => burst.result.acknowledged.length >= 60, 60_000, '60 acknowledged writes while the embedder fails');
    // The projector really met the outage: the embedder answered 503s.
    await until(() => ollama.requests.length > before, 30_000, 'the projector to try the embedder');
    const { acknowledged, statuses } = await burst.stop();
    // Still failing: the messages are logged and projected, but not embedded.
    const during = await storeCounts(db.pool, chroma.url);
    expect(during.vectors).toBeLessThan(during.logged);
    ollama.failNext(0);
    const found = await expectAllAcknowledged(db.pool, chroma.url, acknowledged);
    console.log(`embedder outage: ${JSON.stringify({ ...found, statuses })}`);
    expect(found.ackInLog).toBe(acknowledged.length);
    expect(found.ackProjected).toBe(acknowledged.length);
    expect(found.ackTwice).toBe(0);
    expect(Object.keys(statuses).filter((s) => Number(s) >= 500)).toEqual([]);
    await service.stop();
  }, 240_000);

  it('two service instances racing for the projector leases; kill -9 of one: the other takes over, nothing twice', async () => {
    // The first instance started takes the leases; the second waits as standby.
    const [a, b] = [await start(), await start()];
    const burstA = writeBurst(a.url, 4);
    const burstB = writeBurst(b.url, 4);
    await until(() => burstA.result.acknowledged.length + burstB.result.acknowledged.length >= 150, 60_000, '150 acknowledged writes on two instances');
    process.kill(a.pid, 'SIGKILL');
    const more = burstB.result.acknowledged.length;
    await until(() => burstB.result.acknowledged.length >= more + 60, 60_000, '60 more writes on the survivor');
    const [ra, rb] = [await burstA.stop(), await burstB.stop()];
    const acknowledged = [...ra.acknowledged, ...rb.acknowledged];
    const found = await expectAllAcknowledged(db.pool, chroma.url, acknowledged);
    console.log(`two instances, one killed: ${JSON.stringify({ ...found, statusesA: ra.statuses, statusesB: rb.statuses })}`);
    expect(found.ackInLog).toBe(acknowledged.length);
    expect(found.ackProjected).toBe(acknowledged.length);
    expect(found.ackTwice).toBe(0);
    expect(found.distinct_projected).toBe(found.projected);
    expect(Object.keys(rb.statuses).filter((s) => Number(s) >= 500 || s === '0')).toEqual([]);
  }, 240_000);
});
