import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveCollection } from '../../src/vectors/collections.js';
import { until } from '../projections/helpers.js';
import { sendJson } from '../support/testApp.js';
import { createSearchApp, type SearchApp } from '../vectors/support.js';

const topics = ['sailing boats', 'baking bread', 'tax returns', 'mountain hiking', 'jazz music', 'python code'];

describe('rebuild embeddings while queries run (real Chroma, real local model)', () => {
  let t: SearchApp;
  let total = 0;
  beforeAll(async () => {
    // No embedding cache: the rebuild really embeds again, so queries run while it builds.
    t = await createSearchApp({ config: { embedding: { cache: false } } });
    for (let c = 0; c < 6; c++) {
      const messages = Array.from({ length: 20 }, (_, i) => ({ role: 'user', content: `${topics[c]} message ${i} with some more words` }));
      await t.create({ label: `topic-${c}`, messages });
      total += messages.length;
    }
    await t.untilVectors(total);
  });
  afterAll(() => t.close());

  it('builds a new collection beside the live one, switches when caught up, drops the old one; no query fails', async () => {
    const before = (await liveCollection(t.db.pool))!;
    const start = await sendJson(t.app, 'POST', '/api/v1/rebuild-embeddings', {});
    expect(start.status, JSON.stringify(start.body)).toBe(202);
    expect(start.body.collection).not.toBe(before.collection);
    expect(start.body.status_url).toBe(`/api/v1/rebuild-embeddings/${start.body.job_id}`);

    let queries = 0;
    let degraded = 0;
    const progress: number[] = [];
    let running = 0;
    let done = false;
    const querying = (async () => {
      while (!done) {
        const res = await t.search({ query: topics[queries % topics.length], limit: 5, mode: queries % 2 ? 'semantic' : 'hybrid' });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(res.body.results.length).toBeGreaterThan(0);
        if (res.body.degraded) degraded++;
        queries++;
      }
    })();
    const final = await until(async () => {
      const s = await sendJson(t.app, 'GET', start.body.status_url);
      expect(s.status).toBe(200);
      progress.push(s.body.processed);
      if (s.body.status === 'running') running++;
      expect(s.body.total).toBe(total);
      return s.body.status === 'completed' ? s.body : undefined;
    }, 120_000, 'rebuild to complete');
    done = true;
    await querying;

    expect(final).toMatchObject({ processed: total, total, eta_seconds: 0 });
    expect(final.rate).toBeGreaterThan(0);
    expect(progress.every((p, i) => i === 0 || p >= progress[i - 1]!)).toBe(true);
    // A rebuild from cached embeddings in 2,000-text writes may complete before the first poll: progress, not 'running', is what every poll shows.
    expect(progress.length + running, 'the job was polled').toBeGreaterThan(0);
    expect(queries).toBeGreaterThan(0);
    const after = (await liveCollection(t.db.pool))!;
    expect(after.collection).toBe(start.body.collection);
    // Chroma counts a write once its log is applied: wait for it, bounded.
    await until(async () => (await t.vectors.store.count(after.collection)) === total, 30_000, 'every rebuilt vector counted');
    // The old collection goes once nobody reads it.
    await until(async () => (await t.vectors.store.count(before.collection).then(() => false, () => true)), 30_000, 'old collection dropped');
    expect(degraded, `${degraded} of ${queries} queries degraded`).toBeLessThanOrEqual(1);
  });

  it('refuses a model the provider cannot serve with 422, and an unknown job with 404', async () => {
    const res = await sendJson(t.app, 'POST', '/api/v1/rebuild-embeddings', { model: 'nomic-embed-text' });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('model_unsupported');
    expect((await sendJson(t.app, 'GET', '/api/v1/rebuild-embeddings/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });
});
