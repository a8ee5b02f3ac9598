import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendJson } from '../support/testApp.js';
import { until } from '../projections/helpers.js';
import { createSearchApp, type SearchApp } from '../vectors/support.js';
import { projectionDefinitions } from '../../src/app/projectors.js';
import { createProjectionRuntime, type ProjectionRuntime } from '../../src/projections/runtime.js';
import { silentLogger } from '../projections/helpers.js';

const msg = (content: string, role = 'user', timestamp?: string) => ({ role, content, ...(timestamp ? { timestamp } : {}) });

describe('POST /api/v1/query (real Chroma, real local model)', () => {
  let t: SearchApp;
  const ids: Record<string, string> = {};
  let messageCount = 0;

  beforeAll(async () => {
    t = await createSearchApp();
    const conversations = [
      { key: 'car', label: 'garage', folder: '/home/car', importance_score: 8, messages: [msg('My automobile engine makes a strange rattling noise when I accelerate', 'user', '2024-01-10T10:00:00Z')] },
      { key: 'cake', label: 'kitchen', folder: '/home/food', importance_score: 3, messages: [msg('Preheat the oven and mix flour with sugar and eggs for the sponge', 'assistant', '2024-02-10T10:00:00Z')] },
      { key: 'tax', label: 'finance', folder: '/work/admin', importance_score: 5, messages: [msg('Quarterly revenue report for the accounting department is due Friday', 'user', '2024-03-10T10:00:00Z')] },
      { key: 'dog', label: 'pets', folder: '/homework', importance_score: 6, messages: [msg('The puppy chewed my shoes again this morning', 'user', '2024-04-10T10:00:00Z')] },
      { key: 'old', label: 'archive-me', folder: '/home/old', importance_score: 5, messages: [msg('An ancient note about fixing the vehicle motor in the barn', 'user', '2024-05-10T10:00:00Z')] },
    ];
    for (const c of conversations) {
      const { key, ...body } = c;
      ids[key] = (await t.create(body)).id;
      messageCount += body.messages.length;
    }
    expect((await sendJson(t.app, 'PUT', `/api/v1/conversations/${ids.old}/archive`)).status).toBe(200);
    expect((await sendJson(t.app, 'PUT', `/api/v1/conversations/${ids.dog}/pin`)).status).toBe(200);
    await t.untilVectors(messageCount);
    // The archive reaches the vectors' metadata too.
    await until(async () => (await t.search({ query: 'vehicle motor barn', mode: 'semantic', filters: { status: 'archived' } })).body.results?.length === 1);
  });
  afterAll(() => t.close());

  it('finds a paraphrase that shares no words with the query and ranks it above unrelated messages', async () => {
    // No word of the query appears in the car message (nor any stem of it).
    // The first semantic answers after a catch-up can still come from BM25 (degraded) on a loaded machine:
    // wait, bounded, for the vectors to answer; the fallback itself is tested with Chroma stopped.
    const res = await until(async () => {
      const r = await t.search({ query: 'vehicle motor fault', mode: 'semantic', limit: 5 });
      return r.status === 200 && r.body.degraded === false ? r : undefined;
    }, 30_000, 'a non-degraded semantic answer');
    expect(res.status).toBe(200);
    expect(res.body.degraded).toBe(false);
    expect(res.body.results[0].conversation_id).toBe(ids.car);
    expect(res.body.results[0].score).toBeGreaterThan(res.body.results[1].score);
    expect(res.body.results[0].content).toMatch(/automobile engine/);
    expect(res.body.results[0]).toMatchObject({ label: 'garage', folder: '/home/car', role: 'user', timestamp: '2024-01-10T10:00:00.000Z' });
    // Words alone cannot find it.
    const fts = await t.search({ query: 'vehicle motor fault', mode: 'fts', filters: { folder: '/home/car' } });
    expect(fts.body.results).toHaveLength(0);
  });

  it('leaves archived conversations out unless asked for', async () => {
    for (const mode of ['semantic', 'fts', 'hybrid']) {
      const plain = await t.search({ query: 'vehicle motor barn', mode, limit: 20 });
      expect(plain.body.results.map((r: any) => r.conversation_id)).not.toContain(ids.old);
      const asked = await t.search({ query: 'vehicle motor barn', mode, limit: 20, filters: { include_archived: true } });
      expect(asked.body.results.map((r: any) => r.conversation_id)).toContain(ids.old);
      const only = await t.search({ query: 'vehicle motor barn', mode, limit: 20, filters: { status: 'archived' } });
      expect(only.body.results.map((r: any) => r.conversation_id)).toEqual([ids.old]);
    }
  });

  it('applies every filter the same way in semantic, fts and hybrid modes', async () => {
    const cases: [Record<string, unknown>, string[]][] = [
      [{ label: 'kitchen' }, ['cake']],
      [{ folder: '/home' }, ['car', 'cake']],
      [{ folder: '/home/car' }, ['car']],
      [{ pinned: true }, ['dog']],
      [{ conversation_id: 'X' }, ['tax']],
      [{ role: 'assistant' }, ['cake']],
      [{ importance_min: 6 }, ['car', 'dog']],
      [{ importance_max: 3 }, ['cake']],
      [{ created_after: '2024-02-01T00:00:00Z', created_before: '2024-03-31T00:00:00Z' }, ['cake', 'tax']],
    ];
    // A query whose words appear in every message, so the full-text side matches them all too.
    const query = 'the engine oven report puppy shoes flour revenue noise';
    for (const [raw, expected] of cases) {
      const filters = raw.conversation_id ? { conversation_id: ids.tax } : raw;
      for (const mode of ['semantic', 'fts', 'hybrid']) {
        const res = await t.search({ query, mode, limit: 20, filters });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        const got = res.body.results.map((r: any) => r.conversation_id).sort();
        expect(got, `${mode} ${JSON.stringify(filters)}`).toEqual(expected.map((k) => ids[k]).sort());
      }
    }
  });

  it('rejects bad input with a 400 naming the field', async () => {
    const res = await t.search({ query: 'x', mode: 'telepathy' });
    expect(res.status).toBe(400);
    expect(res.body.details.field).toBe('mode');
    expect((await t.search({ query: '   ' })).status).toBe(400);
    expect((await t.search({ query: 'x', filters: { importance_min: 11 } })).status).toBe(400);
  });

  it('hybrid beats either alone on a small labelled set', async () => {
    // Two kinds of questions: paraphrases (no shared words: only meaning finds them) and exact
    // identifiers (codes and names the sentence encoder blurs: words find them).
    const docs = [
      'Please water the tomato plants in the greenhouse every evening',
      'The invoice number INV-88231 from Zentrix Corp is still unpaid',
      'The invoice number INV-55102 from Qorvath Ltd was paid yesterday',
      'Deploy build 7f3a9c to the staging cluster named heliotrope',
      'Deploy build 2b8e41 to the production cluster named marigold',
      'I feel anxious before speaking in front of large audiences',
      'Our flight to Lisbon leaves at dawn on Saturday',
    ];
    const c = await t.create({ label: 'labelled', folder: '/eval/set', messages: docs.map((d) => msg(d)) });
    await t.untilVectors(messageCount + docs.length);
    messageCount += docs.length;
    const questions: [string, number][] = [
      ['irrigate vegetables inside glasshouse nightly', 0],
      ['nervousness about public presentations', 5],
      ['aeroplane trip portugal early morning weekend', 6],
      ['Zentrix INV-88231', 1],
      ['Qorvath INV-55102', 2],
      ['heliotrope 7f3a9c', 3],
      ['marigold 2b8e41', 4],
    ];
    const hitsAt1 = async (mode: string) => {
      let hits = 0;
      for (const [q, expected] of questions) {
        const res = await t.search({ query: q, mode, limit: 1, filters: { conversation_id: c.id } });
        if (res.body.results[0]?.content === docs[expected]) hits++;
      }
      return hits;
    };
    const [semantic, fts, hybrid] = [await hitsAt1('semantic'), await hitsAt1('fts'), await hitsAt1('hybrid')];
    expect(hybrid, `semantic ${semantic}, fts ${fts}, hybrid ${hybrid}`).toBeGreaterThan(semantic);
    expect(hybrid, `semantic ${semantic}, fts ${fts}, hybrid ${hybrid}`).toBeGreaterThan(fts);
  });

  it('finds the nearest active message when more than the searched depth of nearer ones are archived', async () => {
    // The semantic side searches twice its depth unfiltered and checks "not archived" in the read
    // model; when too few of those pass, it asks Chroma's own filtered search.
    const near = Array.from({ length: 120 }, (_, i) => msg(`The lighthouse keeper polished the brass lens, night ${i}`));
    const archived = await t.create({ label: 'lighthouse', folder: '/sea', messages: near });
    expect((await sendJson(t.app, 'PUT', `/api/v1/conversations/${archived.id}/archive`)).status).toBe(200);
    await t.create({ label: 'harbour', folder: '/sea', messages: [msg('A fisherman mended his nets on the quay')] });
    messageCount += near.length + 1;
    await t.untilVectors(messageCount, 120_000);
    // Every one of its vectors archived (a page of 100 archived hits), and the read model's row too.
    await until(async () => (await t.search({ query: 'lighthouse keeper lens', mode: 'semantic', limit: 100, filters: { status: 'archived' } })).body.results?.length === 100, 30_000, 'the archive in the vectors');
    await until(async () => (await sendJson(t.app, 'GET', `/api/v1/conversations/${archived.id}`)).body.status === 'archived', 30_000, 'the archive in the read model');
    const res = await t.search({ query: 'The lighthouse keeper polished the brass lens', mode: 'semantic', limit: 10 });
    expect(res.status).toBe(200);
    expect(res.body.degraded).toBe(false);
    // Twelve active messages in all: the ten nearest of them, none archived.
    expect(res.body.results).toHaveLength(10);
    expect(res.body.results.map((r: any) => r.conversation_id)).not.toContain(archived.id);
  }, 180_000);
});

describe('POST /api/v1/query waits for the vectors as long as wait_ms says', () => {
  let t: SearchApp;
  let restarted: ProjectionRuntime | undefined;
  // A default wait of 0: only the request's own wait_ms can make the semantic side wait.
  beforeAll(async () => {
    t = await createSearchApp({ config: { api: { read_wait_default_ms: 0, read_wait_max_ms: 60_000 } } });
  });
  afterAll(async () => {
    await restarted?.stop();
    await t.close();
  });

  it('with min_position beyond the vectors, waits up to wait_ms for them instead of answering degraded', async () => {
    await t.runtime.stop();
    const { position } = await t.create({ label: 'late', messages: [msg('The lighthouse keeper polished the great brass lens at dusk')] });
    const pending = sendJson(t.app, 'POST', `/api/v1/query?min_position=${position}&wait_ms=60000`, { query: 'keeper polishing a lamp lens', mode: 'hybrid' });
    // The projectors come back while the request waits.
    restarted = createProjectionRuntime(
      { pool: t.deps.pools.write, url: t.db.url, logger: silentLogger, batchSize: 200, pollIntervalMs: 300, leaseCheckMs: 500 },
      projectionDefinitions({ config: t.deps.config, pool: t.deps.pools.write, logger: silentLogger, vectors: t.vectors }),
    );
    await restarted.start();
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.body.degraded).toBe(false);
    expect(res.body.results[0].content).toMatch(/lighthouse keeper/);
  }, 120_000);
});
