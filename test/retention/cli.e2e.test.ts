import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'smol-toml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendJson } from '../support/testApp.js';
import { createQueryApp, type QueryApp } from '../queries/support.js';

const run = promisify(execFile);
const bin = join(import.meta.dirname, '..', '..', 'bin', 'sekha.mjs');
let t: QueryApp;
let dir: string;
let env: NodeJS.ProcessEnv;
const old: string[] = [];

beforeAll(async () => {
  // Conversations from 2020 (the commands' clock); the CLI evaluates the rules at the real now.
  t = await createQueryApp({ clock: () => new Date('2020-01-01T00:00:00Z') });
  for (const folder of ['/inbox', '/inbox/a', '/keep']) old.push((await t.create({ label: 'x', folder, messages: [{ role: 'user', content: folder }] })).id);
  const last = (await sendJson(t.app, 'PUT', `/api/v1/conversations/${old[1]}/pin`)).body.position;
  expect((await sendJson(t.app, 'GET', `/api/v1/conversations/${old[0]}?min_position=${last}`)).status).toBe(200);
  dir = await mkdtemp(join(tmpdir(), 'sekha-retention-'));
  const config = join(dir, 'config.toml');
  await writeFile(
    config,
    stringify({ log_level: 'warn', database: { url: t.db.url }, retention: { rules: [{ name: 'inbox-archive', folder: '/inbox', after_days: 30, action: 'archive' }] } }),
  );
  env = { ...process.env, SEKHA_CONFIG: config };
  delete env.DATABASE_URL;
}, 120_000);
afterAll(async () => {
  await t.close();
  await rm(dir, { recursive: true, force: true });
});

const sekha = async (...args: string[]) => JSON.parse((await run(process.execPath, [bin, 'retention', 'run', '--json', ...args], { env })).stdout);

describe('sekha retention run', () => {
  it('--dry-run prints what the run then does, and changes nothing', async () => {
    const before = await t.db.pool.query('select count(*)::int as n from events');
    const dry = await sekha('--dry-run');
    expect(dry.items.map((i: any) => [i.conversation_id, i.rule, i.action])).toEqual([[old[0], 'inbox-archive', 'archive']]);
    expect((await t.db.pool.query('select count(*)::int as n from events')).rows[0].n).toBe(before.rows[0].n);
    const done = await sekha();
    expect(done.acted.map((i: any) => [i.conversation_id, i.rule, i.action])).toEqual(dry.items.map((i: any) => [i.conversation_id, i.rule, i.action]));
    const got = await sendJson(t.app, 'GET', `/api/v1/conversations/${old[0]}?min_position=${done.acted[0].position}`);
    expect(got.body.status).toBe('archived');
    const events = await sendJson(t.app, 'GET', `/api/v1/conversations/${old[0]}/events`);
    expect(events.body.events.at(-1)).toMatchObject({ type: 'ConversationArchived', metadata: { actor: 'retention:inbox-archive', request_id: done.run_id } });
  }, 120_000);
});
