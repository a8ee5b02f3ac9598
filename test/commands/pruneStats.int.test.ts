import { countTokens } from 'gpt-tokenizer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countEvents, sendJson } from '../support/testApp.js';
import { createQueryApp, type QueryApp } from '../queries/support.js';

let t: QueryApp;
let now = Date.parse('2025-01-01T00:00:00Z');
const ids: Record<string, string> = {};
let last = '';
const DAY = 86_400_000;

beforeAll(async () => {
  t = await createQueryApp({ clock: () => new Date(now) });
  const specs = [
    { key: 'oldLow', label: 'groceries', folder: '/home', importance_score: 2, messages: [{ role: 'user', content: 'Buy milk and eggs' }, { role: 'assistant', content: 'Added both to the list.' }] },
    { key: 'oldMid', label: 'groceries', folder: '/home/sub', importance_score: 4, messages: [{ role: 'user', content: 'Bread too' }] },
    { key: 'oldHigh', label: 'taxes', folder: '/work', importance_score: 9, messages: [{ role: 'user', content: 'File the return' }] },
    { key: 'oldPinned', label: 'taxes', folder: '/work', importance_score: 1, messages: [{ role: 'user', content: 'Receipts' }] },
    { key: 'oldGone', label: 'junk', folder: '/work', importance_score: 1, messages: [{ role: 'user', content: 'delete me' }] },
  ];
  for (const s of specs) {
    const { key, ...body } = s;
    const c = await t.create(body);
    ids[key] = c.id;
  }
  await sendJson(t.app, 'PUT', `/api/v1/conversations/${ids.oldPinned}/pin`);
  await sendJson(t.app, 'DELETE', `/api/v1/conversations/${ids.oldGone}`);
  now += 60 * DAY;
  ids.fresh = (await t.create({ label: 'groceries', folder: '/home', importance_score: 1, messages: [{ role: 'user', content: 'fresh one' }] })).id;
  last = (await sendJson(t.app, 'PUT', `/api/v1/conversations/${ids.fresh}/pin`)).body.position;
  await sendJson(t.app, 'PUT', `/api/v1/conversations/${ids.fresh}/unpin`).then((r) => (last = r.body.position));
});
afterAll(() => t.close());

const dryRun = (body: unknown) => sendJson(t.app, 'POST', `/api/v1/prune/dry-run?min_position=${last}`, body, { 'x-sekha-position': last });

describe('prune', () => {
  it('suggests old, unpinned, unimportant conversations with tokenizer counts and a preview', async () => {
    const res = await dryRun({ threshold_days: 30, importance_threshold: 5 });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.suggestions.map((s: any) => s.conversation_id)).toEqual([ids.oldLow, ids.oldMid]);
    const low = res.body.suggestions[0];
    expect(low).toMatchObject({ conversation_label: 'groceries', message_count: 2, importance_score: 2, recommendation: 'archive', preview: 'Buy milk and eggs / Added both to the list.' });
    expect(low.token_estimate).toBe(countTokens('Buy milk and eggs') + countTokens('Added both to the list.') + 8);
    expect(res.body.suggestions[1].recommendation).toBe('review');
    expect(res.body.total).toBe(2);
    expect(res.body.estimated_token_savings).toBe(low.token_estimate + res.body.suggestions[1].token_estimate);
    // A higher threshold takes the important one too; a longer age leaves everything.
    expect((await dryRun({ threshold_days: 30, importance_threshold: 10 })).body.total).toBe(3);
    expect((await dryRun({ threshold_days: 90 })).body.total).toBe(0);
  });

  it('archives the listed conversations and reports the unknown and deleted ones', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    const res = await sendJson(t.app, 'POST', '/api/v1/prune/execute', { conversation_ids: [ids.oldLow, unknown, ids.oldGone] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ archived: [ids.oldLow], not_found: [unknown, ids.oldGone], position: expect.stringMatching(/^\d+:\d+$/) });
    const got = await sendJson(t.app, 'GET', `/api/v1/conversations/${ids.oldLow}?min_position=${res.body.position}`);
    expect(got.body.status).toBe('archived');
    last = res.body.position;
    expect((await dryRun({ threshold_days: 30 })).body.suggestions.map((s: any) => s.conversation_id)).toEqual([ids.oldMid]);
  });

  it.each([
    ['dry-run', {}, 'threshold_days'],
    ['dry-run', { threshold_days: -1 }, 'threshold_days'],
    ['dry-run', { threshold_days: '30' }, 'threshold_days'],
    ['dry-run', { threshold_days: 3, importance_threshold: 11 }, 'importance_threshold'],
    ['execute', {}, 'conversation_ids'],
    ['execute', { conversation_ids: [] }, 'conversation_ids'],
    ['execute', { conversation_ids: ['nope'] }, 'conversation_ids.0'],
  ])('%s rejects %j naming %s, writing nothing', async (which, body, field) => {
    const before = await countEvents(t.db);
    const res = await sendJson(t.app, 'POST', `/api/v1/prune/${which}`, body);
    expect(res.status).toBe(400);
    expect(res.body.details.field).toBe(field);
    expect(await countEvents(t.db)).toBe(before);
  });
});

describe('stats', () => {
  const stats = (q = '') => sendJson(t.app, 'GET', `/api/v1/stats?min_position=${last}${q}`);
  it('counts live conversations, messages, average importance, folders and labels', async () => {
    const all = await stats();
    expect(all.status).toBe(200);
    // oldGone is deleted; archived ones still count (they are kept, not forgotten).
    expect(all.body).toMatchObject({ total_conversations: 5, total_messages: 6, average_importance: (2 + 4 + 9 + 1 + 1) / 5 });
    expect(all.body.labels).toEqual(['groceries', 'taxes']);
    expect(all.body.folders).toEqual(['/home', '/work', '/home/sub']);
    const home = await stats('&folder=/home');
    expect(home.body).toMatchObject({ total_conversations: 3, total_messages: 4, folders: ['/home', '/home/sub'], labels: ['groceries'], folder: '/home' });
    const taxes = await stats('&label=taxes&folder=/work');
    expect(taxes.body).toMatchObject({ total_conversations: 2, average_importance: 5 });
    const none = await stats('&label=nothing');
    expect(none.body).toMatchObject({ total_conversations: 0, total_messages: 0, average_importance: 0, folders: [], labels: [] });
  });

  it('rejects bad filters', async () => {
    expect((await stats('&folder=/a/../b')).body.details.field).toBe('query.folder');
    expect((await stats('&label=')).body.details.field).toBe('query.label');
  });
});
