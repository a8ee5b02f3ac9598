import { ok } from 'neverthrow';
import type { AppDeps } from '../deps.js';
import { rankMessages } from './rankMessages.js';
import type { MessageFilter } from '../domain/conversation/index.js';

/**
 * Hybrid ranking of messages for a query, as POST /api/v1/query ranks them, with each message's
 * semantic similarity kept aside, and the candidates' rows as the ranking's lookup read them. Without
 * vectors it is the BM25 ranking alone.
 */
export async function hybridRanking(deps: AppDeps, query: string, filter: MessageFilter, depth: number) {
  const ranking = await rankMessages(deps, { query, filter, depth, mode: 'hybrid', rows: true });
  if (ranking.isErr()) return ranking;
  const { ranked, semantic, degraded, rows } = ranking.value;
  return ok({ ranked, cosine: new Map((semantic ?? []).map((h) => [h.id, h.score])), degraded, rows });
}
