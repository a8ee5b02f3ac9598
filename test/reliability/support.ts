import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { resolveConfig } from '../../src/config/load.js';
import { liveCollection } from '../../src/vectors/collections.js';
import { createVectorStore } from '../../src/vectors/store.js';
import { until } from '../projections/helpers.js';

/** What a writer was told: the message contents the service acknowledged (201), and what else it answered. */
export interface BurstResult {
  acknowledged: string[];
  statuses: Record<string, number>;
}

/**
 * `clients` concurrent writers against a service URL until `stop()`: each creates a conversation,
 * then appends to it, every message with a unique content so it can be found afterwards.
 * A refused connection (the service is gone) is counted as status "0" and the writer pauses briefly.
 */
export function writeBurst(url: string, clients: number, headers: Record<string, string> = {}) {
  const result: BurstResult = { acknowledged: [], statuses: {} };
  let stopping = false;
  const count = (s: number) => (result.statuses[s] = (result.statuses[s] ?? 0) + 1);
  const post = async (path: string, body: unknown) => {
    try {
      const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
      count(res.status);
      return { status: res.status, body: (await res.json().catch(() => ({}))) as { id?: string } };
    } catch {
      count(0);
      await new Promise((r) => setTimeout(r, 50));
      return { status: 0, body: {} };
    }
  };
  const writer = async () => {
    while (!stopping) {
      const first = `burst ${randomUUID()}`;
      const created = await post('/api/v1/conversations', { label: 'burst', messages: [{ role: 'user', content: first }] });
      if (created.status !== 201) continue;
      result.acknowledged.push(first);
      for (let i = 0; i < 3 && !stopping; i++) {
        const content = `burst ${randomUUID()}`;
        const appended = await post(`/api/v1/conversations/${created.body.id}/messages`, { messages: [{ role: 'assistant', content }] });
        if (appended.status === 201) result.acknowledged.push(content);
      }
    }
  };
  const running = Promise.all(Array.from({ length: clients }, writer));
  return {
    result,
    async stop(): Promise<BurstResult> {
      stopping = true;
      await running;
      return result;
    },
  };
}

/** Counts across the three stores: the event log, the read model and the live vector collection. */
export async function storeCounts(pool: pg.Pool, chromaUrl: string) {
  const { rows } = await pool.query<{ logged: number; distinct_logged: number; projected: number; distinct_projected: number }>(
    `select (select count(*)::int from events e, jsonb_array_elements(e.data->'messages') m) as logged,
            (select count(distinct m->>'id')::int from events e, jsonb_array_elements(e.data->'messages') m) as distinct_logged,
            (select count(*)::int from messages) as projected,
            (select count(distinct id)::int from messages) as distinct_projected`,
  );
  const live = await liveCollection(pool);
  const chroma = resolveConfig('', {})._unsafeUnwrap().chroma;
  const vectors = live ? await createVectorStore(chromaUrl, chroma).count(live.collection) : 0;
  return { ...rows[0]!, vectors };
}

/**
 * Waits until the read model and the vectors hold every logged message, then checks the invariant:
 * every acknowledged message is in the log, the read model and (by count) the vectors, once.
 */
export async function expectAllAcknowledged(pool: pg.Pool, chromaUrl: string, acknowledged: string[], timeoutMs = 120_000) {
  const counts = await until(
    async () => {
      const c = await storeCounts(pool, chromaUrl);
      return c.projected === c.logged && c.vectors === c.logged ? c : undefined;
    },
    timeoutMs,
    'read model and vectors to hold every logged message',
  );
  const { rows } = await pool.query<{ content: string; n: number }>(
    `select m->>'content' as content, count(*)::int as n from events e, jsonb_array_elements(e.data->'messages') m
      where m->>'content' = any($1::text[]) group by 1`,
    [acknowledged],
  );
  const { rows: projected } = await pool.query<{ n: number }>(`select count(*)::int as n from messages where content = any($1::text[])`, [acknowledged]);
  return { ...counts, acknowledged: acknowledged.length, ackInLog: rows.length, ackTwice: rows.filter((r) => r.n > 1).length, ackProjected: projected[0]!.n };
}
