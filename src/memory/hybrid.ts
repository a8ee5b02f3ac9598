import { err, ok } from 'neverthrow';
import type { AppDeps } from '../http/deps.js';
import { fuseRankings, fusionFor, type Ranking } from '../queries/searchFusion.js';
import { bm25Params, bm25Sql } from '../queries/searchLexical.js';
import { readQuery } from '../queries/sql.js';
import { embedForLive, nearestMessages } from '../queries/semantic.js';
import { toWhere, type SearchFilters } from '../vectors/where.js';

export { embedForLive, nearestMessages };

/**
 * Hybrid ranking of messages for a query, as POST /api/v1/query ranks them (the same BM25 SQL, Chroma
 * query and weighted reciprocal-rank fusion), with each message's semantic similarity kept aside.
 * Without vectors it is the BM25 ranking alone.
 */
export async function hybridRanking(deps: AppDeps, query: string, filters: SearchFilters, depth: number) {
  const embedded = await embedForLive(deps, query);
  const { text, values } = bm25Sql(query, filters, depth, bm25Params(deps.config.search));
  const [semantic, lexical] = await Promise.all([embedded ? nearestMessages(deps, embedded, depth, toWhere(filters)) : Promise.resolve([] as Ranking), readQuery<{ id: string; score: number }>(deps.pools.read, text, values)]);
  if (lexical.isErr()) return err(lexical.error);
  const ranked: Ranking = embedded ? fuseRankings(semantic, lexical.value, fusionFor(embedded.model, deps.config.search)) : lexical.value;
  return ok({ ranked, cosine: new Map(semantic.map((h) => [h.id, h.score])), degraded: !embedded });
}
