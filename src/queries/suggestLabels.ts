import { consistencyParams, readYourWrites } from './readYourWrites.js';
import { createRoute, z } from '@hono/zod-openapi';
import { err, ok } from 'neverthrow';
import type { AppDeps } from '../deps.js';
import { errorResponse } from '../http/errors.js';
import { errorResponses, register, type App } from '../http/openapi.js';
import { readQuery } from './sql.js';
import { embedForLive, nearestMessages } from './semantic.js';
import { suggestLabels, type KeyTerm, type Neighbour } from '../memory/labelVote.js';
import { loadConversation } from './loadConversation.js';
import { READ_MODEL } from '../projections/readModel/schema.js';
import { LEXICAL_STATS } from '../projections/lexicalStats.js';

export const suggestBody = z.object({ conversation_id: z.guid({ message: 'must be a UUID' }).transform((s) => s.toLowerCase()) });

const NEIGHBOURS = 7;
const EMBED_CHARS = 4000;

/** The conversation's most distinctive stems (BM25 statistics), each shown as its most frequent surface word. */
async function keyTerms(deps: AppDeps, id: string, texts: string[]) {
  const rows = await readQuery<{ lexeme: string; ndoc: number; df: number; docs: number }>(
    deps.pools.read,
    `with mine as (select u.lexeme, count(*)::int as ndoc from messages m, unnest(m.search) u where m.conversation_id = $1 and length(u.lexeme) > 2 and u.lexeme !~ '^[0-9]+$' group by u.lexeme)
     select mine.lexeme, mine.ndoc, coalesce(t.df, mine.ndoc)::int as df, (select docs from lexical_totals)::int as docs
       from mine left join lexical_terms t on t.term = mine.lexeme`,
    [id],
  );
  if (rows.isErr()) return err(rows.error);
  const words = texts.join(' ').toLowerCase().match(/\p{L}[\p{L}\p{N}-]*/gu) ?? [];
  const surface = (lexeme: string) => {
    const counts = new Map<string, number>();
    for (const w of words) if (w.startsWith(lexeme)) counts.set(w, (counts.get(w) ?? 0) + 1);
    return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].length - b[0].length)[0]?.[0] ?? lexeme;
  };
  const terms: KeyTerm[] = rows.value.map((r) => {
    const others = Math.max(1, r.docs - texts.length);
    return { term: r.lexeme, messages: r.ndoc, coverage: r.ndoc / Math.max(1, texts.length), rarity: 1 - Math.min(1, Math.max(0, r.df - r.ndoc) / others) };
  });
  return ok(
    terms
      .sort((a, b) => b.coverage * b.rarity - a.coverage * a.rarity || a.term.localeCompare(b.term))
      .slice(0, 3)
      .map((t) => ({ ...t, term: surface(t.term) })),
  );
}

/** Label suggestions from the labels of the nearest conversations (by embedding) and the conversation's key terms. */
export async function suggestLabelsFor(deps: AppDeps, conversationId: string) {
  const loaded = await loadConversation(deps.pools.read, conversationId);
  if (loaded.isErr()) return err(loaded.error);
  const texts = loaded.value.messages.map((m) => m.content);
  const embedded = texts.length > 0 ? await embedForLive(deps, texts.join('\n').slice(0, EMBED_CHARS)) : undefined;
  let neighbours: Neighbour[] = [];
  if (embedded) {
    const hits = (await nearestMessages(deps, embedded, NEIGHBOURS * 8, { $and: [{ conversation_id: { $ne: conversationId } }, { status: { $eq: 'active' } }] })) ?? [];
    const best = new Map<string, number>();
    for (const h of hits) {
      const cid = String(h.metadata?.conversation_id ?? '');
      if (cid && !best.has(cid)) best.set(cid, h.score);
    }
    const top = [...best.entries()].slice(0, NEIGHBOURS);
    const labels = await readQuery<{ id: string; label: string }>(deps.pools.read, `select id::text as id, label from conversations where id = any($1::uuid[]) and status = 'active'`, [top.map(([id]) => id)]);
    if (labels.isErr()) return err(labels.error);
    const labelOf = new Map(labels.value.map((r) => [r.id, r.label]));
    neighbours = top.flatMap(([id, similarity]) => (labelOf.has(id) ? [{ conversation_id: id, label: labelOf.get(id)!, similarity }] : []));
  }
  const terms = await keyTerms(deps, conversationId, texts);
  if (terms.isErr()) return err(terms.error);
  const existing = await readQuery<{ label: string }>(deps.pools.read, `select distinct label from conversations where status <> 'deleted'`);
  if (existing.isErr()) return err(existing.error);
  return ok({
    conversation_id: conversationId,
    suggestions: suggestLabels(neighbours, terms.value, existing.value.map((r) => r.label)),
    ...(embedded ? {} : { degraded: true }),
  });
}

export const suggestLabelsRoute = (deps: AppDeps) => (app: App) => {
  register(
    app,
    createRoute({
      method: 'post',
      path: '/api/v1/labels/suggest',
      tags: ['memory'],
      summary: 'Label suggestions: a similarity-weighted vote of the nearest conversations plus the conversation\'s key terms',
      // Key terms are weighed by the lexical projection's document frequencies: it too must have caught up.
      middleware: [readYourWrites(deps, [READ_MODEL, LEXICAL_STATS])] as const,
      request: {
        query: z.object(consistencyParams(deps)), body: { required: true, content: { 'application/json': { schema: suggestBody } } } },
      responses: { 200: { description: '`{conversation_id, suggestions:[{label, confidence, is_existing, reason}]}`' }, ...errorResponses, 404: { description: 'Unknown conversation' } },
    }),
    async (c) => (await suggestLabelsFor(deps, c.req.valid('json').conversation_id)).match((b) => c.json(b), (e) => errorResponse(c, e)),
    'read',
  );
};
