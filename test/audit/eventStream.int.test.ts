import { connect } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformExtras } from '../../src/app/platform.js';
import { createLogger } from '../../src/logger.js';
import { listenWakeup, type Wakeup } from '../../src/eventstore/wakeup.js';
import { createIsolatedTestDatabase, type TestDatabase } from '../support/database.js';
import { createTestApp, sendJson, type TestApp } from '../support/testApp.js';

interface SseEvent {
  event: string;
  id: string | undefined;
  data: string;
}

/** Parses a text/event-stream as it arrives; comments are reported as event ':'. */
function parseSse(onEvent: (e: SseEvent) => void) {
  let buffer = '';
  return (chunk: string) => {
    buffer += chunk;
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const e: SseEvent = { event: 'message', id: undefined, data: '' };
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) e.event = ':';
        else if (line.startsWith('event: ')) e.event = line.slice(7);
        else if (line.startsWith('id: ')) e.id = line.slice(4);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      e.data = data.join('\n');
      onEvent(e);
    }
  };
}

/** An open stream over a real socket: what arrived so far, and how to wait or leave. */
function openStream(base: string, path: string, headers: Record<string, string> = {}) {
  const events: SseEvent[] = [];
  const controller = new AbortController();
  let text = '';
  let ended = false;
  const response = fetch(`${base}${path}`, { headers, signal: controller.signal });
  const done = response.then(async (res) => {
    if (res.status !== 200) throw new Error(`stream answered ${res.status}: ${await res.text()}`);
    const parse = parseSse((e) => events.push(e));
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body!) {
        const s = decoder.decode(chunk, { stream: true });
        text += s;
        parse(s);
      }
    } catch {
      // aborted by the test
    }
    ended = true;
  });
  return {
    events,
    text: () => text,
    get ended() {
      return ended;
    },
    /** How many data events came (cheap: nothing parsed). */
    count: () => events.filter((e) => e.event === 'message').length,
    /** The data events (one per log event). */
    data: () => events.filter((e) => e.event === 'message').map((e) => ({ id: e.id!, ...JSON.parse(e.data) })),
    async until(what: string, check: () => boolean, timeoutMs = 20_000, explain?: () => Promise<string>) {
      const deadline = Date.now() + timeoutMs;
      while (!check()) {
        if (Date.now() > deadline) {
          const data = events.filter((e) => e.event === 'message');
          const why = explain ? `; ${await explain().catch((e: Error) => e.message)}` : '';
          throw new Error(`timed out waiting for ${what}; got ${events.length} events, ${data.length} of them data (last id ${data.at(-1)?.id})${why}`);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    close: async () => {
      controller.abort();
      await done.catch(() => {});
    },
    done,
  };
}

async function listen(t: TestApp): Promise<{ base: string; server: ServerType }> {
  const server: ServerType = await new Promise((r) => {
    const s = serve({ fetch: t.app.fetch, hostname: '127.0.0.1', port: 0 }, () => r(s));
  });
  const address = server.address();
  return { base: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, server };
}

const close = (server: ServerType) =>
  new Promise<void>((r) => {
    (server as import('node:http').Server).closeAllConnections();
    server.close(() => r());
  });

/** Every event of the log in read order, as the stream shows them (position, type, stream). */
async function logOrder(t: TestApp) {
  const { rows } = await t.db.pool.query<{ position: string; type: string }>(
    `select transaction_id::text || ':' || global_position as position, type from events order by transaction_id, global_position`,
  );
  return rows;
}

describe('GET /api/v1/events/stream', () => {
  let db: TestDatabase;
  let t: TestApp;
  let base: string;
  let server: ServerType;
  let wakeup: Wakeup;
  const closing = new AbortController();

  beforeAll(async () => {
    // A server of its own: on the shared one, another test file's long transaction would hold the
    // gap-safe reads (and so these streams) back for as long as it runs.
    db = await createIsolatedTestDatabase();
    t = await createTestApp({ db, config: { stream: { heartbeat_ms: 150 }, api: { max_content_chars: 1_000_000 } } });
    wakeup = listenWakeup(t.db.url, createLogger('silent'));
    t.deps.events = { wakeup, closing: closing.signal };
    ({ base, server } = await listen(t));
  });
  afterAll(async () => {
    await close(server);
    await wakeup.close();
    await t.close();
    await db.drop();
  });

  it('resumes by Last-Event-ID after a disconnect with nothing lost or repeated while writes continue', async () => {
    const created = await sendJson(t.app, 'POST', '/api/v1/conversations', { label: 'stream', messages: [{ role: 'user', content: 'first' }] });
    const id = created.body.id as string;
    const first = openStream(base, `/api/v1/events/stream?from=start&stream=${id}`);
    // Writes keep coming while the client reads, drops and reconnects.
    const writer = (async () => {
      for (let i = 0; i < 60; i++) {
        const res = await sendJson(t.app, 'POST', `/api/v1/conversations/${id}/messages`, { messages: [{ role: 'user', content: `message ${i}` }] });
        expect(res.status).toBe(201);
      }
    })();
    await first.until('some live events', () => first.data().length >= 10);
    await first.close();
    const seen = first.data();
    const lastId = seen.at(-1)!.id;
    const second = openStream(base, `/api/v1/events/stream?stream=${id}`, { 'last-event-id': lastId });
    await writer;
    const expected = (await t.db.pool.query<{ position: string }>(
      `select transaction_id::text || ':' || global_position as position from events where stream_id = $1 order by transaction_id, global_position`,
      [`conversation-${id}`],
    )).rows.map((r) => r.position);
    expect(expected).toHaveLength(62);
    // On a timeout, say what held the tail back: the oldest transactions still running, and the horizon.
    const heldBy = async () => {
      const { rows } = await t.db.pool.query(
        `select pid, datname, application_name, state, backend_xid::text as xid, extract(epoch from now() - xact_start)::int as open_seconds, left(query, 120) as query
           from pg_stat_activity where backend_xid is not null order by backend_xid::text::bigint limit 3`,
      );
      const horizon = (await t.db.pool.query(`select pg_snapshot_xmin(pg_current_snapshot())::text as xmin`)).rows[0].xmin;
      return `expected last ${expected.at(-1)}, horizon ${horizon}, oldest running: ${JSON.stringify(rows)}`;
    };
    await second.until('the rest of the log', () => second.data().length > 0 && second.data().at(-1)!.id === expected.at(-1), 60_000, heldBy);
    await second.close();
    const received = [...seen.map((e) => e.id), ...second.data().map((e) => e.id)];
    expect(received).toEqual(expected);
    expect(new Set(received).size).toBe(received.length);
    // The events carry what the audit shows.
    expect(seen[0]).toMatchObject({ type: 'ConversationStarted', stream_id: `conversation-${id}`, version: 1, metadata: { actor: 'anonymous' } });
    // The reconnect announced where it started: the Last-Event-ID it was given.
    expect(second.events[0]).toMatchObject({ event: 'ready', id: lastId });
  }, 150_000);

  it('filters by type, starts at now by default, and sends a heartbeat comment when idle', async () => {
    const live = openStream(base, '/api/v1/events/stream?type=ConversationLabeled');
    await live.until('ready', () => live.events.length > 0);
    const created = await sendJson(t.app, 'POST', '/api/v1/conversations', { label: 'a', messages: [{ role: 'user', content: 'x' }] });
    await sendJson(t.app, 'PUT', `/api/v1/conversations/${created.body.id}/label`, { label: 'b' });
    await live.until('the label event', () => live.data().length === 1);
    expect(live.data()[0]).toMatchObject({ type: 'ConversationLabeled', data: { label: 'b' } });
    await live.until('a heartbeat', () => live.events.some((e) => e.event === ':'));
    await live.close();
  });

  it('never shows purged content when the log is streamed after the purge', async () => {
    const secret = `the launch code is ${Math.random().toString(36).slice(2)}`;
    const created = await sendJson(t.app, 'POST', '/api/v1/conversations', { label: 'secret', messages: [{ role: 'user', content: secret }], metadata: { note: secret } });
    const purged = await sendJson(t.app, 'DELETE', `/api/v1/conversations/${created.body.id}?purge=true`);
    expect(purged.status).toBe(200);
    const replay = openStream(base, `/api/v1/events/stream?from=start&stream=${created.body.id}`);
    await replay.until('the purge event', () => replay.data().some((e) => e.type === 'ConversationPurged'));
    expect(replay.text()).not.toContain(secret);
    expect(replay.data().find((e) => e.type === 'MessagesAppended')!.data.messages[0].content).toBe('[redacted]');
    await replay.close();
  });

  it('rejects a bad position, naming the field', async () => {
    const bad = await sendJson(t.app, 'GET', '/api/v1/events/stream?from=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body.details.field).toBe('query.from');
    const badHeader = await sendJson(t.app, 'GET', '/api/v1/events/stream', undefined, { 'last-event-id': '12' });
    expect(badHeader.status).toBe(400);
    expect(badHeader.body.details.field).toBe('header.last-event-id');
  });

  it('ends open streams with a closing event and resume position when the service stops', async () => {
    const live = openStream(base, '/api/v1/events/stream?from=start');
    await live.until('ready', () => live.events.length > 0);
    closing.abort();
    await live.done;
    const last = live.events.at(-1)!;
    expect(last.event).toBe('closing');
    expect(JSON.parse(last.data).resume_from).toBe(last.id);
  });
});

describe('a slow consumer', () => {
  it('is cut off with a final event saying where to resume, and resuming there loses nothing', async () => {
    const t = await createTestApp({ config: { stream: { buffer_bytes: 16 * 1024, slow_client_ms: 1000 }, api: { max_content_chars: 1_000_000 } } });
    const logs: string[] = [];
    t.deps.logger = createLogger('info', { write: (line: string) => void logs.push(line) });
    const { base, server } = await listen(t);
    try {
      // ~24 MB of events (120 of 200 kB): more than the kernel buffers of both sockets hold. Appended
      // through the event store directly: the HTTP write path's checks would only make the setup slow.
      const big = 'x'.repeat(200_000);
      for (let batch = 0; batch < 12; batch++) {
        const events = Array.from({ length: 10 }, (_, i) => ({ type: 'NoteTaken', data: { n: batch * 10 + i, text: big } }));
        const appended = await t.deps.store.append(`bulk-${batch}`, 0, events, { actor: 'test' });
        expect(appended.isOk()).toBe(true);
      }
      const url = new URL(`${base}/api/v1/events/stream?from=start`);
      const socket = connect(Number(url.port), url.hostname);
      await new Promise<void>((r) => socket.once('connect', () => r()));
      socket.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nAccept: text/event-stream\r\n\r\n`);
      // The client does not read: the server's socket, its writable buffer and the stream's queue fill.
      socket.pause();
      // Wait until the server gave up on it (it logs that), then read everything: the last event says where to resume.
      const deadline = Date.now() + 30_000;
      while (!logs.some((l) => l.includes('too slow'))) {
        if (Date.now() > deadline) throw new Error('the slow client was never dropped');
        await new Promise((r) => setTimeout(r, 20));
      }
      const chunks: Buffer[] = [];
      socket.on('data', (d: Buffer) => chunks.push(d));
      const ended = new Promise<void>((r) => socket.once('end', () => r()));
      socket.resume();
      // The server ends the response after the final event (chunked terminator); close our side then.
      let tail = '';
      socket.on('data', (d: Buffer) => (tail = (tail + d.toString('latin1')).slice(-4096)));
      while (!tail.includes('event: dropped')) {
        if (Date.now() > deadline) throw new Error('no dropped event');
        await new Promise((r) => setTimeout(r, 20));
      }
      await Promise.race([ended, new Promise((r) => setTimeout(r, 2000))]);
      socket.destroy();
      const raw = Buffer.concat(chunks).toString('utf8');
      const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
      const events: SseEvent[] = [];
      // Chunked transfer framing lines are not SSE; drop them before parsing.
      parseSse((e) => events.push(e))(body.replace(/\r\n[0-9a-f]+\r\n/g, ''));
      const dropped = events.find((e) => e.event === 'dropped')!;
      const resumeFrom = JSON.parse(dropped.data).resume_from as string;
      expect(dropped.id).toBe(resumeFrom);
      const got = events.filter((e) => e.event === 'message').map((e) => e.id!);
      const all = (await logOrder(t)).map((r) => r.position);
      // Cut off before the end, and the resume position is the last event it was sent.
      expect(got.length).toBeLessThan(all.length);
      expect(resumeFrom).toBe(got.at(-1));
      // Reconnecting there gives exactly the rest (a reader slowed down by a loaded machine may be dropped
      // again: it resumes from each final event's id, as EventSource does).
      const rest: string[] = [];
      let from = resumeFrom;
      while (rest.length < all.length - got.length) {
        const next = openStream(base, '/api/v1/events/stream', { 'last-event-id': from });
        await next.until('more events or the end', () => next.ended || next.count() + rest.length >= all.length - got.length, 60_000);
        await next.close();
        rest.push(...next.events.filter((e) => e.event === 'message').map((e) => e.id!));
        const final = next.events.at(-1)!;
        from = final.event === 'dropped' ? final.id! : rest.at(-1) ?? from;
      }
      expect([...got, ...rest]).toEqual(all);
    } finally {
      await close(server);
      await t.close();
    }
  }, 180_000);
});

describe('who may stream what', () => {
  const ADMIN = 'a'.repeat(40);
  const ALICE = 'b'.repeat(40);
  const BOB = 'c'.repeat(40);
  let db: TestDatabase;
  let t: TestApp;
  let base: string;
  let server: ServerType;
  beforeAll(async () => {
    t = await createTestApp({
      config: {
        api: {
          keys: [
            { name: 'ops', key: ADMIN, scopes: ['admin'] },
            { name: 'alice', key: ALICE, scopes: ['read', 'write'] },
            { name: 'bob', key: BOB, scopes: ['read', 'write'] },
          ],
          rate_limit_requests: 6000,
        },
      },
      extras: (deps) => platformExtras(deps),
    });
    ({ base, server } = await listen(t));
  });
  afterAll(async () => {
    await close(server);
    await t.close();
  });

  it('admin sees every event; a read key only the events it wrote; no key is refused', async () => {
    for (const [key, label] of [[ALICE, 'alice-1'], [BOB, 'bob-1'], [ALICE, 'alice-2']] as const) {
      const res = await sendJson(t.app, 'POST', '/api/v1/conversations', { label, messages: [{ role: 'user', content: label }] }, { authorization: `Bearer ${key}` });
      expect(res.status).toBe(201);
    }
    const total = (await logOrder(t)).length;
    const admin = openStream(base, '/api/v1/events/stream?from=start', { authorization: `Bearer ${ADMIN}` });
    const alice = openStream(base, '/api/v1/events/stream?from=start', { authorization: `Bearer ${ALICE}` });
    await admin.until('every event', () => admin.data().length === total);
    await alice.until('alice’s events', () => alice.data().length === 4);
    expect(new Set(admin.data().map((e) => e.metadata.actor))).toEqual(new Set(['alice', 'bob']));
    expect(alice.data().every((e) => e.metadata.actor === 'alice')).toBe(true);
    await admin.close();
    await alice.close();
    expect((await fetch(`${base}/api/v1/events/stream`)).status).toBe(401);
  });
});
