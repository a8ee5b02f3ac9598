import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countEvents, sendJson } from '../support/testApp.js';
import { createQueryApp, type QueryApp } from '../queries/support.js';

const chatgpt = JSON.parse(readFileSync(new URL('../fixtures/chatgpt-conversations.json', import.meta.url), 'utf8'));

let t: QueryApp;
beforeAll(async () => {
  t = await createQueryApp();
});
afterAll(() => t.close());

const get = (path: string) => sendJson(t.app, 'GET', path);
const importRaw = (body: string, type: string) =>
  t.app.request('/api/v1/import', { method: 'POST', headers: { 'content-type': type, 'content-length': String(Buffer.byteLength(body)) }, body });

describe('import', () => {
  it('imports a ChatGPT export along its active branch: the regenerated reply replaces the first draft', async () => {
    const res = await sendJson(t.app, 'POST', '/api/v1/import', chatgpt);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ imported: 2, conversation_ids: [expect.any(String), expect.any(String)], position: expect.stringMatching(/^\d+:\d+$/) });
    const [sourdough, regex] = res.body.conversation_ids;
    const got = await get(`/api/v1/conversations/${sourdough}?include=messages&min_position=${res.body.position}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ label: 'Sourdough starter help', folder: '/imported/chatgpt', metadata: { import: { source: 'chatgpt', source_id: '6630a1b2-0000-4000-8000-00000000c0de' } } });
    const messages = got.body.messages as { role: string; content: string; timestamp: string }[];
    // Hidden system node and the null root skipped; the abandoned draft (n2) is not on the branch.
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(messages.map((m) => m.content).join('\n')).not.toContain('FIRST DRAFT');
    expect(messages[1]!.content).toMatch(/^Not dead/);
    // The image part is left out; the text part stays.
    expect(messages[2]!.content).toBe('Here is a photo after two feedings. Better?');
    expect(messages[0]!.timestamp).toBe(new Date(1714550460_000).toISOString());
    const code = await get(`/api/v1/conversations/${regex}?include=messages`);
    expect(code.body.messages[1].content).toMatch(/^\^\[0-9a-f\]\{8\}/);
    // The export's author.name is null here: no name.
    expect(messages.some((m) => 'name' in m)).toBe(false);
  });

  it("takes a ChatGPT message's name from its author", async () => {
    const item = structuredClone(chatgpt[0]);
    item.conversation_id = '6630a1b2-0000-4000-8000-0000000a0be1';
    item.mapping.n1.message.author.name = 'Caroline';
    const res = await sendJson(t.app, 'POST', '/api/v1/import', [item]);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const got = await get(`/api/v1/conversations/${res.body.conversation_ids[0]}?include=messages&min_position=${res.body.position}`);
    expect(got.body.messages.map((m: { name?: string }) => m.name)).toEqual(['Caroline', undefined, undefined, undefined]);
  });

  it('imports a Claude export with the label and folder asked for', async () => {
    const claude = [
      {
        uuid: 'c1a0de00-0000-4000-8000-000000000001',
        name: '',
        created_at: '2024-06-01T10:00:00.000Z',
        chat_messages: [
          { uuid: 'm1', sender: 'human', text: 'What is a monad?', created_at: '2024-06-01T10:00:01Z' },
          { uuid: 'm2', sender: 'assistant', text: '', content: [{ type: 'text', text: 'A monoid in the category of endofunctors.' }], created_at: '2024-06-01T10:00:02Z' },
        ],
      },
    ];
    const res = await sendJson(t.app, 'POST', '/api/v1/import', { format: 'claude', content: claude, folder: '/learning/fp', label: 'Monads' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const got = await get(`/api/v1/conversations/${res.body.conversation_ids[0]}?include=messages&min_position=${res.body.position}`);
    expect(got.body).toMatchObject({ label: 'Monads', folder: '/learning/fp', message_count: 2 });
    expect(got.body.messages.map((m: any) => [m.role, m.content, m.timestamp])).toEqual([
      ['user', 'What is a monad?', '2024-06-01T10:00:01.000Z'],
      ['assistant', 'A monoid in the category of endofunctors.', '2024-06-01T10:00:02.000Z'],
    ]);
  });

  it('imports raw Markdown with role headers and bold speaker lines', async () => {
    const md = '# Trip planning\n\n## User\nWhere should we go in May?\n\n### Assistant:\nLisbon is lovely in May.\n\nPack light.\n\n**User:** And for food?\n**Assistant:** Try pastel de nata.\n';
    const res = await importRaw(md, 'text/markdown');
    expect(res.status).toBe(201);
    const body = (await res.json()) as any;
    const got = await get(`/api/v1/conversations/${body.conversation_ids[0]}?include=messages&min_position=${body.position}`);
    expect(got.body.label).toBe('Trip planning');
    expect(got.body.messages.map((m: any) => [m.role, m.content])).toEqual([
      ['user', 'Where should we go in May?'],
      ['assistant', 'Lisbon is lovely in May.\n\nPack light.'],
      ['user', 'And for food?'],
      ['assistant', 'Try pastel de nata.'],
    ]);
  });

  it.each([
    ['an empty body', '', 'text/markdown', /body: is empty/],
    ['Markdown without role sections', 'just some notes', 'text/plain', /no role sections/],
    ['malformed JSON', '[{"mapping": ', 'application/json', /not valid JSON/],
    ['an unknown shape', JSON.stringify([{ foo: 1 }]), 'application/json', /^content: is not a ChatGPT export/],
    ['an unknown format', JSON.stringify({ format: 'gemini', content: [] }), 'application/json', /^format: must be/],
    ['a mapping that is not an object', JSON.stringify([{ mapping: [] }]), 'application/json', /^conversations\[0\]\.mapping: must be an object/],
    ['a current_node missing from the mapping', JSON.stringify([chatgpt[0], { ...chatgpt[1], current_node: 'nope' }]), 'application/json', /^conversations\[1\]\.current_node: names node "nope"/],
    ['a bad author role', JSON.stringify([{ ...chatgpt[1], mapping: { ...chatgpt[1].mapping, b1: { ...chatgpt[1].mapping.b1, message: { ...chatgpt[1].mapping.b1.message, author: { role: 'robot' } } } } }]), 'application/json', /^conversations\[0\]\.mapping\.b1\.message\.author\.role: must be user, assistant/],
    ['a parent cycle', JSON.stringify([{ current_node: 'a', mapping: { a: { id: 'a', message: null, parent: 'b' }, b: { id: 'b', message: null, parent: 'a' } } }]), 'application/json', /cycle/],
    ['a bad Claude sender', JSON.stringify([{ chat_messages: [{ sender: 'bot', text: 'x' }] }]), 'application/json', /^conversations\[0\]\.chat_messages\[0\]\.sender/],
    ['a conversation with no text', JSON.stringify([{ chat_messages: [{ sender: 'human', text: '  ' }] }]), 'application/json', /^content: has no messages with text/],
    ['a bad folder', JSON.stringify({ content: chatgpt, folder: '/a/../b' }), 'application/json', /^folder: must not contain/],
  ])('rejects %s with a 400 naming where, and imports nothing (not even the good conversations)', async (_, body, type, message) => {
    const before = await countEvents(t.db);
    const res = await importRaw(body, type);
    const answer = (await res.json()) as any;
    expect(res.status, JSON.stringify(answer)).toBe(400);
    expect(answer.error).toMatch(message);
    expect(await countEvents(t.db)).toBe(before);
  });

  it('rejects a message over the content limit, naming the message', async () => {
    const small = await createQueryApp({ config: { api: { max_content_chars: 20 } } });
    try {
      const res = await sendJson(small.app, 'POST', '/api/v1/import', chatgpt);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatch(/^conversations\[0\]\.messages\[0\]\.content: must be at most 20 characters/);
      expect(await countEvents(small.db)).toBe(0);
    } finally {
      await small.close();
    }
  });
});

describe('export', () => {
  let id = '';
  let position = '';
  beforeAll(async () => {
    const created = await t.create({
      label: 'Export me',
      folder: '/exports/one',
      importance_score: 7,
      messages: [
        { role: 'user', content: 'What is CQRS?', timestamp: '2024-01-01T00:00:00Z' },
        { role: 'assistant', name: 'Ada', content: 'Separate the write model from the read model.\n\nOften with events.', timestamp: '2024-01-01T00:00:05Z' },
      ],
    });
    id = created.id;
    position = (await t.create({ label: 'Other', folder: '/exports/two', messages: [{ role: 'user', content: 'hi' }] })).position;
  });

  it('exports one conversation as JSON with its messages', async () => {
    const res = await get(`/api/v1/conversations/${id}/export?format=json&min_position=${position}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, label: 'Export me', folder: '/exports/one', importance_score: 7 });
    expect(res.body.messages.map((m: any) => m.content)).toEqual(['What is CQRS?', 'Separate the write model from the read model.\n\nOften with events.']);
  });

  it('exports Markdown as text/markdown, and importing it back gives the same messages', async () => {
    const res = await t.app.request(`/api/v1/conversations/${id}/export?format=markdown&min_position=${position}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/markdown/);
    const md = await res.text();
    expect(md).toMatch(/^# Export me\n/);
    expect(md).toContain('## User\n_2024-01-01T00:00:00.000Z_\n\nWhat is CQRS?');
    const back = await importRaw(md, 'text/markdown');
    const body = (await back.json()) as any;
    const again = await get(`/api/v1/conversations/${body.conversation_ids[0]}?include=messages&min_position=${body.position}`);
    expect(again.body.label).toBe('Export me');
    expect(md).toContain('## Assistant (Ada)\n');
    expect(again.body.messages.map((m: any) => [m.role, m.name, m.content, m.timestamp])).toEqual([
      ['user', undefined, 'What is CQRS?', '2024-01-01T00:00:00.000Z'],
      ['assistant', 'Ada', 'Separate the write model from the read model.\n\nOften with events.', '2024-01-01T00:00:05.000Z'],
    ]);
  });

  it('exports by folder (with subfolders) and label as {format, count, content}', async () => {
    const byFolder = await get(`/api/v1/export?folder=/exports&min_position=${position}`);
    expect(byFolder.status).toBe(200);
    expect(byFolder.body).toMatchObject({ format: 'json', count: 2 });
    expect(byFolder.body.content.map((c: any) => c.label).sort()).toEqual(['Export me', 'Other']);
    const md = await get(`/api/v1/export?label=Export%20me&folder=/exports&format=markdown`);
    expect(md.body).toMatchObject({ format: 'markdown', count: 1 });
    expect(md.body.content).toMatch(/^# Export me/);
  });

  it.each([
    [`/api/v1/conversations/not-a-uuid/export`, 400, /path\.id: must be a UUID/],
    [`/api/v1/conversations/{id}/export?format=pdf`, 400, /query\.format: must be json or markdown/],
    [`/api/v1/export?format=xml`, 400, /query\.format/],
    [`/api/v1/export?folder=/a/../b`, 400, /query\.folder/],
    [`/api/v1/conversations/00000000-0000-4000-8000-000000000000/export`, 404, /not found/],
  ])('GET %s answers %i', async (path, status, message) => {
    const res = await get(path.replace('{id}', id));
    expect(res.status).toBe(status);
    expect(res.body.error).toMatch(message);
  });
});
