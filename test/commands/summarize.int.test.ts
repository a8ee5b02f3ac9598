import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summariesDefinition } from '../../src/projections/summaries.js';
import { createProjectionRuntime, type ProjectionRuntime } from '../../src/projections/runtime.js';
import { silentLogger } from '../projections/helpers.js';
import { createQueryApp, type QueryApp } from '../queries/support.js';
import { startFakeOllama, type FakeOllama } from '../support/ollamaServer.js';
import { countEvents, sendJson } from '../support/testApp.js';

let ollama: FakeOllama;
let t: QueryApp;
let summaries: ProjectionRuntime;

beforeAll(async () => {
  ollama = await startFakeOllama({ models: { 'nomic-embed-text': 768, 'llama3.1': 0 } });
  t = await createQueryApp({ config: { embedding: { ollama_url: ollama.url }, summaries: { model: 'llama3.1:8b' } } });
  summaries = createProjectionRuntime({ pool: t.deps.pools.write, url: t.db.url, logger: silentLogger, batchSize: 100, pollIntervalMs: 200, leaseCheckMs: 500 }, [summariesDefinition]);
  await summaries.start();
});
afterAll(async () => {
  await summaries?.stop();
  await t?.close();
  await ollama?.close();
});

const msg = (content: string, timestamp: string, role = 'user') => ({ role, content, timestamp });

describe('POST /api/v1/summarize with Ollama configured', () => {
  it('summarizes the latest day with the generate API, records an event, and weekly rolls up the daily summaries', async () => {
    const { id, position } = await t.create({
      label: 'garden',
      messages: [
        msg('Tomatoes need staking this week.', '2025-03-03T09:00:00Z'),
        msg('Planted basil next to the tomatoes.', '2025-03-05T09:00:00Z'),
        msg('Watered everything in the evening.', '2025-03-05T18:00:00Z', 'assistant'),
      ],
    });
    const daily = await sendJson(t.app, 'POST', `/api/v1/summarize?min_position=${position}`, { conversation_id: id, level: 'daily' });
    expect(daily.status, JSON.stringify(daily.body)).toBe(200);
    expect(daily.body).toMatchObject({ conversation_id: id, level: 'daily', model: 'llama3.1:8b', source_count: 2, period_start: '2025-03-05T00:00:00.000Z', period_end: '2025-03-06T00:00:00.000Z', rolled_up_from: 'messages' });
    // The fake answers with the start of the prompt it received: the day's messages were sent, not the earlier one.
    expect(daily.body.summary).toMatch(/^Summary: Summarize the following conversation/);
    expect(daily.body.summary).toContain('Planted basil');
    expect(daily.body.summary).not.toContain('staking');
    const events = await sendJson(t.app, 'GET', `/api/v1/conversations/${id}/events`);
    expect(events.body.events.at(-1)).toMatchObject({ type: 'SummaryGenerated', data: { level: 'daily', model: 'llama3.1:8b' } });

    // X-Sekha-Position of the daily summary: the weekly waits until the summaries projector has it.
    const weekly = await sendJson(t.app, 'POST', '/api/v1/summarize', { conversation_id: id, level: 'weekly' }, { 'x-sekha-position': daily.body.position });
    expect(weekly.status, JSON.stringify(weekly.body)).toBe(200);
    expect(weekly.body.rolled_up_from).toBe('daily');
    expect(weekly.body.summary).toMatch(/^Summary: Summarize the following daily summaries.*Summary: Summarize the following conversation/s);
    const listed = await sendJson(t.app, 'GET', `/api/v1/conversations/${id}/summaries?min_position=${weekly.body.position}`);
    expect(listed.status).toBe(200);
    expect(listed.body.summaries.map((s: any) => s.level).sort()).toEqual(['daily', 'weekly']);
    expect(weekly.body).toMatchObject({ level: 'weekly', period_start: '2025-03-03T00:00:00.000Z', period_end: '2025-03-10T00:00:00.000Z' });
  });

  it('answers 503 when the model is missing, and writes nothing', async () => {
    const other = await createQueryApp({ db: t.db, config: { embedding: { ollama_url: ollama.url }, summaries: { model: 'missing-model' } } });
    try {
      const { id, position } = await other.create({ label: 'x', messages: [msg('hello there', '2025-03-05T09:00:00Z')] });
      const before = await countEvents(t.db);
      const res = await sendJson(other.app, 'POST', `/api/v1/summarize?min_position=${position}`, { conversation_id: id, level: 'daily' });
      expect(res.status).toBe(503);
      expect(await countEvents(t.db)).toBe(before);
    } finally {
      await other.runtime.stop();
      await other.deps.pools.close();
    }
  });

  it.each([
    [{}, 'conversation_id'],
    [{ conversation_id: 'nope' }, 'conversation_id'],
    [{ conversation_id: '00000000-0000-4000-8000-000000000000', level: 'hourly' }, 'level'],
  ])('rejects %j naming %s', async (body, field) => {
    const before = await countEvents(t.db);
    const res = await sendJson(t.app, 'POST', '/api/v1/summarize', body);
    expect(res.status).toBe(400);
    expect(res.body.details.field).toBe(field);
    expect(await countEvents(t.db)).toBe(before);
  });

  it('answers 404 for an unknown conversation, and 422 for one without messages', async () => {
    expect((await sendJson(t.app, 'POST', '/api/v1/summarize', { conversation_id: '00000000-0000-4000-8000-000000000000' })).status).toBe(404);
    const empty = await t.create({ label: 'empty' });
    const res = await sendJson(t.app, 'POST', `/api/v1/summarize?min_position=${empty.position}`, { conversation_id: empty.id });
    expect(res.status).toBe(422);
    expect((await sendJson(t.app, 'GET', '/api/v1/conversations/00000000-0000-4000-8000-000000000000/summaries')).status).toBe(404);
  });
});
