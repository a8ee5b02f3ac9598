import { countTokens } from 'gpt-tokenizer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summariesDefinition } from '../../src/projections/summaries.js';
import { createProjectionRuntime, type ProjectionRuntime } from '../../src/projections/runtime.js';
import { silentLogger } from '../projections/helpers.js';
import { countEvents, sendJson } from '../support/testApp.js';
import { createSearchApp, type SearchApp } from '../vectors/support.js';

// Context assembly, extractive summaries and label suggestions over real Chroma and the real local model.
let t: SearchApp;
let summaries: ProjectionRuntime;
const ids: Record<string, string> = {};
let last = '';
let messageCount = 0;
const NOW = new Date('2025-06-01T00:00:00Z');

const conversations = [
  { key: 'car1', label: 'car repair', folder: '/home/car', importance_score: 6, messages: ['My car engine rattles when I accelerate on the highway.', 'A rattle under acceleration often means a loose heat shield or worn engine mounts.'] },
  { key: 'car2', label: 'car repair', folder: '/home/car', importance_score: 5, messages: ['The mechanic said the brake pads on my car are worn out.', 'Replace the brake pads and check the rotors for scoring.'] },
  { key: 'car3', label: 'car repair', folder: '/home/car', importance_score: 5, messages: ['How often should I change the oil in my car engine?', 'Every 8,000 to 10,000 km with synthetic oil for most modern engines.'] },
  { key: 'bake1', label: 'baking', folder: '/home/food', importance_score: 5, messages: ['My sourdough bread comes out flat and dense.', 'Let the dough proof longer and strengthen the gluten with stretch and folds.'] },
  { key: 'bake2', label: 'baking', folder: '/home/food', importance_score: 5, messages: ['What oven temperature for baking a sponge cake?', 'Bake the sponge at 180 C until a skewer comes out clean.'] },
  { key: 'secret', label: 'car repair', folder: '/private/diary', importance_score: 10, messages: ['Secret diary: my car engine rattles and I am worried about the repair bill.'] },
  { key: 'archived', label: 'car repair', folder: '/home/car', importance_score: 10, messages: ['Old note: the car engine rattled from a loose exhaust clamp.'] },
  { key: 'pinned', label: 'travel', folder: '/trips', importance_score: 8, messages: ['Always book the aisle seat on long flights.'] },
  { key: 'new', label: 'misc', folder: '/inbox', importance_score: 5, messages: ['The engine of my car makes a knocking noise and the check engine light is on.', 'Knocking can come from low oil or wrong fuel; read the engine codes first.'] },
];

beforeAll(async () => {
  t = await createSearchApp({ clock: () => NOW });
  summaries = createProjectionRuntime({ pool: t.deps.pools.write, url: t.db.url, logger: silentLogger, batchSize: 100, pollIntervalMs: 200, leaseCheckMs: 500 }, [summariesDefinition]);
  await summaries.start();
  for (const c of conversations) {
    const { key, messages, ...rest } = c;
    const created = await t.create({ ...rest, messages: messages.map((content, i) => ({ role: i % 2 ? 'assistant' : 'user', content, timestamp: new Date(NOW.getTime() - 86_400_000).toISOString() })) });
    ids[key] = created.id;
    last = created.position;
    messageCount += messages.length;
  }
  last = (await sendJson(t.app, 'PUT', `/api/v1/conversations/${ids.archived}/archive`)).body.position;
  last = (await sendJson(t.app, 'PUT', `/api/v1/conversations/${ids.pinned}/pin`)).body.position;
  await t.untilVectors(messageCount);
}, 180_000);
afterAll(async () => {
  await summaries?.stop();
  await t?.close();
});

const assemble = (body: Record<string, unknown>) => sendJson(t.app, 'POST', `/api/v1/context/assemble?min_position=${last}`, body);

describe('POST /api/v1/context/assemble', () => {
  it('brings the relevant conversations first, with correct citations, within the budget', async () => {
    const res = await assemble({ query: 'why does my car engine rattle', context_budget: 120, excluded_folders: ['/private'] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const { messages, estimated_tokens, conversations_used } = res.body;
    expect(estimated_tokens).toBeLessThanOrEqual(120);
    expect(estimated_tokens).toBe(messages.reduce((n: number, m: any) => n + countTokens(m.content) + 4, 0));
    expect(messages[0].metadata.citation.conversation_id).toBe(ids.car1);
    const byId = Object.fromEntries(conversations.map((c) => [ids[c.key], c]));
    for (const m of messages) {
      const c = m.metadata.citation;
      expect(byId[c.conversation_id]).toBeDefined();
      expect(c).toMatchObject({ label: byId[c.conversation_id]!.label, folder: byId[c.conversation_id]!.folder, timestamp: new Date(NOW.getTime() - 86_400_000).toISOString() });
      expect(byId[c.conversation_id]!.messages).toContain(m.content);
    }
    expect(conversations_used).toBe(new Set(messages.map((m: any) => m.metadata.citation.conversation_id)).size);
    const used = messages.map((m: any) => m.metadata.citation.conversation_id);
    // Archived and excluded never appear, though both match the query well and are important.
    expect(used).not.toContain(ids.archived);
    expect(used).not.toContain(ids.secret);
    // The first conversation's two messages come in their original order.
    const car1 = messages.filter((m: any) => m.metadata.citation.conversation_id === ids.car1).map((m: any) => m.content);
    expect(car1).toEqual(conversations[0]!.messages);
  });

  it('includes pinned conversations and recent messages of preferred labels when the budget allows', async () => {
    const res = await assemble({ query: 'engine rattle', context_budget: 4000, preferred_labels: ['baking'] });
    const used = new Set(res.body.messages.map((m: any) => m.metadata.citation.conversation_id));
    expect(used.has(ids.pinned)).toBe(true);
    expect(used.has(ids.bake1) && used.has(ids.bake2)).toBe(true);
    expect(used.has(ids.secret)).toBe(true);
    expect(used.has(ids.archived)).toBe(false);
    // Everything eligible fits in 4000 tokens, and nothing is duplicated.
    const ids2 = res.body.messages.map((m: any) => m.metadata.message_id);
    expect(new Set(ids2).size).toBe(ids2.length);
  });

  it.each([
    [{}, 'query'],
    [{ query: '   ' }, 'query'],
    [{ query: 'x', context_budget: 0 }, 'context_budget'],
    [{ query: 'x', context_budget: 1.5 }, 'context_budget'],
    [{ query: 'x', preferred_labels: 'car' }, 'preferred_labels'],
    [{ query: 'x', excluded_folders: ['/a/../b'] }, 'excluded_folders.0'],
  ])('rejects %j naming %s', async (body, field) => {
    const res = await sendJson(t.app, 'POST', '/api/v1/context/assemble', body);
    expect(res.status).toBe(400);
    expect(res.body.details.field).toBe(field);
  });
});

describe('POST /api/v1/labels/suggest', () => {
  it('suggests the label of the nearest conversations first, with a confidence and a reason naming the evidence', async () => {
    const res = await sendJson(t.app, 'POST', `/api/v1/labels/suggest?min_position=${last}`, { conversation_id: ids.new });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const [top, ...rest] = res.body.suggestions;
    expect(top, JSON.stringify(res.body.suggestions)).toBeDefined();
    // The whole answer on failure: a vote without neighbours (Chroma or the embedder unavailable) says `degraded` or shows no "nearest" reason.
    expect(top, JSON.stringify(res.body)).toMatchObject({ label: 'car repair', is_existing: true });
    expect(top.confidence).toBeGreaterThan(0.3);
    expect(top.confidence).toBeLessThanOrEqual(1);
    expect(top.reason).toMatch(/of the \d+ nearest conversations by meaning carry this label \(\d+% of the similarity-weighted vote\)/);
    expect(top.reason).toContain(ids.car1!.slice(0, 8));
    for (const s of rest) expect(s.confidence).toBeLessThanOrEqual(top.confidence);
    expect(rest.find((s: any) => s.label === 'baking')?.confidence ?? 0).toBeLessThan(top.confidence / 2);
    // A key term of its own: "engine" is in both of its messages.
    const term = res.body.suggestions.find((s: any) => /key term "engine"/.test(s.reason));
    expect(term).toBeDefined();
    for (const s of res.body.suggestions) expect(s.confidence).toBeGreaterThanOrEqual(0);
  });

  it('suggests baking for a baking conversation', async () => {
    const { id, position } = await t.create({ label: 'unsorted', messages: [{ role: 'user', content: 'How long should bread dough rise before baking in the oven?' }] });
    await t.untilVectors(++messageCount);
    const res = await sendJson(t.app, 'POST', `/api/v1/labels/suggest?min_position=${position}`, { conversation_id: id });
    expect(res.body.suggestions[0], JSON.stringify(res.body.suggestions)).toMatchObject({ label: 'baking', is_existing: true });
  });

  it('rejects bad ids and answers 404 for unknown ones', async () => {
    expect((await sendJson(t.app, 'POST', '/api/v1/labels/suggest', { conversation_id: 'x' })).body.details.field).toBe('conversation_id');
    expect((await sendJson(t.app, 'POST', '/api/v1/labels/suggest', {})).status).toBe(400);
    expect((await sendJson(t.app, 'POST', '/api/v1/labels/suggest', { conversation_id: '00000000-0000-4000-8000-000000000000' })).status).toBe(404);
  });
});

describe('extractive summaries (no Ollama)', () => {
  it('keeps the central sentences: those the conversation keeps coming back to', async () => {
    const text = [
      'The database migration failed last night because the disk filled up.',
      'By the way, the office coffee machine is broken again.',
      'We freed disk space on the database server and reran the migration.',
      'The migration finished and the database is healthy now.',
      'Someone left an umbrella in the meeting room.',
      'Next time we will monitor database disk usage before migrations.',
    ];
    const { id, position } = await t.create({ label: 'ops', messages: text.map((content, i) => ({ role: i % 2 ? 'assistant' : 'user', content, timestamp: '2025-05-30T10:00:00Z' })) });
    const before = await countEvents(t.db);
    const res = await sendJson(t.app, 'POST', `/api/v1/summarize?min_position=${position}`, { conversation_id: id, level: 'daily' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ model: 'extractive', level: 'daily', source_count: 6 });
    expect(res.body.summary).toMatch(/database/i);
    expect(res.body.summary).not.toMatch(/coffee|umbrella/);
    expect(await countEvents(t.db)).toBe(before + 1);
    const listed = await sendJson(t.app, 'GET', `/api/v1/conversations/${id}/summaries?min_position=${res.body.position}`);
    expect(listed.body.summaries).toEqual([expect.objectContaining({ level: 'daily', model: 'extractive', summary: res.body.summary })]);
  });
});
