import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RetentionRule } from '../../src/config/schema.js';
import { comparePositions, formatPosition, parsePosition } from '../../src/eventstore/index.js';
import { startRetentionScheduler } from '../../src/retention/scheduler.js';
import { sendJson } from '../support/testApp.js';
import { createQueryApp, type QueryApp } from '../queries/support.js';

const DAY = 86_400_000;
let now = Date.parse('2025-01-01T00:00:00Z');
let t: QueryApp;
const ids: Record<string, string> = {};
let last = '';

const rules: Partial<RetentionRule>[] = [
  { name: 'scratch-archive', folder: '/scratch', after_days: 30, action: 'archive' },
  { name: 'trash-delete', folder: '/trash', after_days: 60, action: 'delete' },
  // Pinned secrets go too: this rule says so.
  { name: 'secret-purge', label: 'secret', after_days: 90, action: 'purge', include_pinned: true },
  // Applies to nothing yet: only 100 days have passed.
  { name: 'scratch-delete', folder: '/scratch', after_days: 365, action: 'delete' },
];

beforeAll(async () => {
  t = await createQueryApp({ clock: () => new Date(now), config: { retention: { keep_importance_at_least: 8, rules: rules as RetentionRule[] }, api: { rate_limit_requests: 6000 } } });
  const specs: Record<string, { label: string; folder: string; importance_score?: number }> = {
    oldScratch: { label: 'notes', folder: '/scratch' },
    oldScratchDeep: { label: 'notes', folder: '/scratch/deeper/still' },
    oldScratchPinned: { label: 'notes', folder: '/scratch' },
    oldScratchImportant: { label: 'notes', folder: '/scratch', importance_score: 9 },
    oldScratchpad: { label: 'notes', folder: '/scratchpad' },
    oldTrash: { label: 'junk', folder: '/trash/2024' },
    oldSecret: { label: 'secret', folder: '/private' },
    oldSecretPinned: { label: 'secret', folder: '/private' },
  };
  for (const [key, spec] of Object.entries(specs)) {
    ids[key] = (await t.create({ ...spec, messages: [{ role: 'user', content: `${key}: the password is hunter2-${key}` }] })).id;
  }
  for (const key of ['oldScratchPinned', 'oldSecretPinned']) last = (await sendJson(t.app, 'PUT', `/api/v1/conversations/${ids[key]}/pin`)).body.position;
  now += 100 * DAY;
  ids.newScratch = (await t.create({ label: 'notes', folder: '/scratch', messages: [{ role: 'user', content: 'fresh' }] })).id;
  // Old but active lately: a message today.
  const touched = await sendJson(t.app, 'POST', `/api/v1/conversations/${ids.oldScratchpad}/messages`, { messages: [{ role: 'user', content: 'still here' }] });
  ids.touchedTrash = (await t.create({ label: 'junk', folder: '/trash', messages: [{ role: 'user', content: 'recent junk' }] })).id;
  last = touched.body.position;
  // The read model has everything before the preview reads it.
  expect((await sendJson(t.app, 'GET', `/api/v1/conversations/${ids.newScratch}?min_position=${last}`)).status).toBe(200);
  last = (await sendJson(t.app, 'GET', `/api/v1/conversations/${ids.touchedTrash}?min_position=${last}`)).body.position ?? last;
}, 120_000);
afterAll(() => t.close());

const expectedPlan = () =>
  [
    [ids.oldScratch, 'scratch-archive', 'archive'],
    [ids.oldScratchDeep, 'scratch-archive', 'archive'],
    [ids.oldTrash, 'trash-delete', 'delete'],
    [ids.oldSecret, 'secret-purge', 'purge'],
    [ids.oldSecretPinned, 'secret-purge', 'purge'],
  ].sort((a, b) => a[0]!.localeCompare(b[0]!));
const byId = (items: { conversation_id: string; rule: string; action: string }[]) =>
  items.map((i) => [i.conversation_id, i.rule, i.action]).sort((a, b) => a[0]!.localeCompare(b[0]!));

describe('retention', () => {
  let preview: any;

  it('previews each action: old conversations by folder prefix and label; pinned, important, new and recently active ones kept', async () => {
    const res = await sendJson(t.app, 'GET', '/api/v1/retention/preview');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    preview = res.body;
    expect(byId(preview.items)).toEqual(expectedPlan());
    expect(preview).toMatchObject({ at: new Date(now).toISOString(), truncated: false, rules: rules.map((r) => r.name) });
  });

  it('two instances never act twice; the run does exactly what the dry run said, as actor retention:<rule>', async () => {
    const a = startRetentionScheduler(t.deps, { url: t.db.url, timer: false, lease: true });
    const b = startRetentionScheduler(t.deps, { url: t.db.url, timer: false, lease: true });
    try {
      const [ra, rb] = await Promise.all([a.runNow(), b.runNow()]);
      const reports = [ra, rb].filter((r) => r !== undefined);
      // One holds the lease and acts; the other stands by.
      expect(reports).toHaveLength(1);
      const report = reports[0]!;
      expect(byId(report.acted)).toEqual(byId(preview.items));
      expect(report.skipped).toEqual([]);
      const standby = ra ? b : a;
      expect(await standby.runNow()).toBeUndefined();
      // The leader runs again at once (its read model may lag): it re-checks each stream and writes nothing more.
      const again = await (ra ? a : b).runNow();
      expect(again!.acted).toEqual([]);
    } finally {
      await a.stop();
      await b.stop();
    }
    const { rows } = await t.db.pool.query<{ actor: string; type: string; stream_id: string }>(
      `select metadata->>'actor' as actor, type, stream_id from events where metadata->>'actor' like 'retention:%' order by global_position`,
    );
    expect(rows.map((r) => [r.stream_id.slice('conversation-'.length), r.actor.slice('retention:'.length), r.type]).sort((x, y) => x[0]!.localeCompare(y[0]!))).toEqual(
      expectedPlan().map(([id, rule, action]) => [id, rule, { archive: 'ConversationArchived', delete: 'ConversationDeleted', purge: 'ConversationPurged' }[action!]]),
    );
  });

  it('leaves each conversation as its rule said: archived, deleted, purged (content redacted in the log), others untouched', async () => {
    // The latest position of any rule's events: a rule's appends may commit with another's, in any order.
    const latest: string[] = [];
    for (const rule of new Set(expectedPlan().map(([, r]) => r!))) {
      latest.push((await sendJson(t.app, 'GET', `/api/v1/audit/events?actor=retention:${rule}`)).body.events.at(-1).position);
    }
    const position = formatPosition(latest.map((p) => parsePosition(p)!).sort(comparePositions).at(-1)!);
    const get = (key: string) => sendJson(t.app, 'GET', `/api/v1/conversations/${ids[key]}?min_position=${position}`);
    expect((await get('oldScratch')).body.status).toBe('archived');
    expect((await get('oldScratchDeep')).body.status).toBe('archived');
    for (const key of ['oldTrash', 'oldSecret']) {
      const gone = await get(key);
      expect([gone.status, gone.body.code], key).toEqual([404, 'deleted']);
    }
    for (const key of ['oldScratchPinned', 'oldScratchImportant', 'oldScratchpad', 'newScratch', 'touchedTrash']) {
      expect((await get(key)).body.status, key).toBe('active');
    }
    const { rows } = await t.db.pool.query<{ data: string }>(`select data::text as data from events where stream_id = any($1)`, [
      [`conversation-${ids.oldSecret}`, `conversation-${ids.oldSecretPinned}`],
    ]);
    expect(rows.some((r) => r.data.includes('hunter2'))).toBe(false);
    expect(rows.some((r) => r.data.includes('[redacted]'))).toBe(true);
    // Nothing left to do: the preview is empty now (bar what only a later date makes due).
    const after = await sendJson(t.app, 'GET', '/api/v1/retention/preview');
    expect(after.body.items).toEqual([]);
  });

  it('a year later the stricter rule deletes the archived scratch conversations', async () => {
    now += 400 * DAY;
    const res = await sendJson(t.app, 'GET', '/api/v1/retention/preview');
    const actions = new Map(res.body.items.map((i: any) => [i.conversation_id, `${i.rule}/${i.action}`]));
    expect(actions.get(ids.oldScratch)).toBe('scratch-delete/delete');
    expect(actions.get(ids.newScratch)).toBe('scratch-delete/delete');
    // Pinned and important ones stay kept by every rule that does not include them.
    expect(actions.has(ids.oldScratchPinned)).toBe(false);
    expect(actions.has(ids.oldScratchImportant)).toBe(false);
  });
});
