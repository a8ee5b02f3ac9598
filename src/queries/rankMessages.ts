import { err, ok, type Result } from 'neverthrow';
import type { AppDeps } from '../deps.js';
import type { ApiError } from '../http/errors.js';
import { nearestByCosine, type VectorHit } from '../vectors/store.js';
import type { MessageFilter } from '../domain/conversation/index.js';
import { toWhere } from '../vectors/where.js';
import { smoothNeighbours, type Placement } from './neighbourSmoothing.js';
import { fuseRankings, fuseScores, fusionFor, type Ranking } from './searchFusion.js';
import { bm25Params } from './bm25.js';
import { lexicalTopK } from './lexicalTopK.js';
import { embedForLive, filteredVectors, guardedVectors, passingOfUnfiltered, uncheckedVectors } from './semantic.js';
import { filterScope, messageFilterConditions } from './messageFilter.js';
import { Conditions, readQuery } from './sql.js';
import type { MessageRow } from './views.js';

export type SearchMode = 'semantic' | 'fts' | 'hybrid';

export interface MessageRanking {
  /** Message ids, best first: the mode's ranking, or BM25 alone when degraded. */
  ranked: Ranking;
  /** The semantic side's hits (cosine similarity), when it answered. */
  semantic: VectorHit[] | undefined;
  /** Semantic was wanted but vectors could not answer (no Chroma, embedder down, not caught up). */
  degraded: boolean;
  /** With `rows`: the candidates' messages as the lookup read them (some may be missing: read them apart). */
  rows: ReadonlyMap<string, CandidateRow>;
}

/** A candidate message with its conversation's attributes, as context assembly reads it. */
export type CandidateRow = Omit<MessageRow, 'parts'> & { label: string; folder: string; status: string; importance_score: number };

/** The columns of a CandidateRow, from messages `m` and conversations `c`. */
export const CANDIDATE_COLUMNS = `m.id::text as id, m.conversation_id::text as conversation_id, m.seq, m.role, m.name, m.content, m.metadata, m.timestamp, c.label, c.folder, c.status, c.importance_score`;

/** The BM25 ranking of the read model's messages: the exact top `depth` (src/queries/lexicalTopK.ts). */
export function lexicalRanking(deps: AppDeps, query: string, filter: MessageFilter, depth: number) {
  return lexicalTopK(deps.pools.read, { query, filter, k: depth, params: bm25Params(deps.config.search) }).map((r) => r.hits);
}

/** The semantic side before the read model has checked it: hits, and whether the filter still applies to them. */
interface SemanticSide {
  hits: VectorHit[];
  unchecked: boolean;
  depth: number;
  model: string;
  embedded: { vector: number[]; collection: string };
}

/** The semantic side's nearest vectors, or undefined when vectors cannot answer now. */
async function semanticSide(
  deps: AppDeps,
  query: string,
  filter: MessageFilter,
  depth: number,
  vectorsReady: Promise<boolean> | boolean,
): Promise<SemanticSide | undefined> {
  if (!deps.vectors || !(await vectorsReady)) return undefined;
  const store = deps.vectors.store;
  const [embedded, narrow] = await Promise.all([embedForLive(deps, query), narrowMessageIds(deps, filter)]);
  const found =
    embedded &&
    (await guardedVectors(deps, async () =>
      narrow
        ? { hits: nearestByCosine(embedded.vector, await store.vectorsOf(embedded.collection, narrow), depth), unchecked: false, depth }
        : uncheckedVectors(store, embedded.collection, embedded.vector, depth, toWhere(filter)),
    ));
  return embedded && found ? { ...found, model: embedded.model, embedded } : undefined;
}

/**
 * A filter that selects at most this many messages is ranked exactly from their stored vectors:
 * Chroma's metadata pre-filter walks its whole collection (one conversation at 1,000,000 vectors:
 * 2.3 s filtered, against 10 ms unfiltered and 95 ms to fetch 1,000 vectors by id).
 */
const NARROW_VECTORS = 1000;

/** The ids of the messages a narrow filter selects (read model), or undefined when it is not narrow (or cannot be read: Chroma filters then). */
async function narrowMessageIds(deps: AppDeps, filter: MessageFilter): Promise<string[] | undefined> {
  try {
    const scope = await filterScope(deps.pools.read, filter, NARROW_VECTORS);
    if (!scope || scope.messages > NARROW_VECTORS) return undefined;
    const where = messageFilterConditions(filter, new Conditions());
    const { rows } = await deps.pools.read.query<{ id: string }>(
      `select m.id::text as id from messages m join conversations c on c.id = m.conversation_id ${where.where}`,
      where.values,
    );
    return rows.map((r) => r.id);
  } catch {
    return undefined;
  }
}

type Looked = Placement & { pass: boolean; row?: CandidateRow };

/**
 * Where each message sits in its conversation and whether it passes the filters, with the whole
 * row when asked: one primary-key lookup per message and per its conversation (a lateral join fenced
 * by offset 0, so never a scan of conversations).
 */
async function lookUp(deps: AppDeps, ids: readonly string[], filter: MessageFilter, withRows: boolean): Promise<Result<Map<string, Looked>, ApiError>> {
  if (ids.length === 0) return ok(new Map());
  const where = new Conditions();
  const idsParam = where.param([...new Set(ids)]);
  messageFilterConditions(filter, where);
  const pass = where.parts.length ? where.parts.join(' and ') : 'true';
  const rows = await readQuery<CandidateRow & { pass: boolean }>(
    deps.pools.read,
    `select ${withRows ? CANDIDATE_COLUMNS : 'm.id::text as id, m.conversation_id::text as conversation_id, m.seq'}, coalesce(${pass}, false) as pass
       from messages m left join lateral (select * from conversations c where c.id = m.conversation_id offset 0) c on true
      where m.id = any(${idsParam}::uuid[])`,
    where.values,
  );
  return rows.map((r) => new Map(r.map(({ pass, ...row }) => [row.id, { conversation_id: row.conversation_id, seq: row.seq, pass, ...(withRows ? { row } : {}) }])));
}

/**
 * The semantic hits that pass the filters, the asked depth at most: from the lookup for an unfiltered
 * search, exact whenever that many pass (a nearer passing vector would be among them); else Chroma's
 * own filtered search (undefined when it cannot answer).
 */
async function passingSemantic(deps: AppDeps, side: SemanticSide, asked: number, filter: MessageFilter, looked: Map<string, Looked>): Promise<VectorHit[] | undefined> {
  if (!side.unchecked) return side.hits;
  const passing = side.hits.filter((h) => looked.get(h.id)?.pass);
  return (
    passingOfUnfiltered(side.hits, passing, asked, side.depth) ??
    guardedVectors(deps, () => filteredVectors(deps.vectors!.store, side.embedded.collection, side.embedded.vector, asked, toWhere(filter)))
  );
}

/**
 * Ranks messages for a query as POST /api/v1/query does, `depth` deep on each side: semantic (Chroma),
 * fts (BM25 top-k of the lexical index) or hybrid (convex or reciprocal-rank fusion, weights per embedding model); fts and
 * hybrid are then smoothed over neighbouring turns (`[search] neighbour_weight`). When
 * vectors cannot answer, the ranking is BM25's and says degraded. `vectorsReady` resolving false skips
 * the semantic side (the vectors are behind what the caller must see); BM25 runs meanwhile.
 */
export async function rankMessages(
  deps: AppDeps,
  input: { query: string; filter: MessageFilter; depth: number; mode: SearchMode; vectorsReady?: Promise<boolean> | boolean; rows?: boolean },
): Promise<Result<MessageRanking, ApiError>> {
  const { query, filter, depth, mode } = input;
  const wantsSemantic = mode !== 'fts';
  // Semantic-only asks BM25 only if it has to fall back; the others ask both sides at once.
  const [side, lexical] = await Promise.all([
    wantsSemantic ? semanticSide(deps, query, filter, depth, input.vectorsReady ?? true) : Promise.resolve(undefined),
    mode !== 'semantic' || !deps.vectors ? lexicalRanking(deps, query, filter, depth) : undefined,
  ]);
  const lexicalResult = lexical ?? (wantsSemantic && side === undefined ? await lexicalRanking(deps, query, filter, depth) : undefined);
  if (lexicalResult?.isErr()) return err(lexicalResult.error);
  const bm25: Ranking = lexicalResult?.isOk() ? lexicalResult.value : [];
  // Rankings with a lexical side are smoothed over neighbouring turns (semantic alone: measured no better).
  const weight = deps.config.search.neighbour_weight;
  const smooth = weight > 0 && (side === undefined || mode !== 'semantic');
  // One lookup: the filter for the semantic hits Chroma did not filter, and every candidate's placement.
  const semanticIds = side && (side.unchecked || smooth) ? side.hits.map((h) => h.id) : [];
  const withRows = input.rows ?? false;
  const looked = await lookUp(deps, [...semanticIds, ...(smooth || withRows ? bm25.map((h) => h.id) : [])], filter, withRows);
  if (looked.isErr()) return err(looked.error);
  const semantic = side && (await passingSemantic(deps, side, depth, filter, looked.value));
  const degraded = wantsSemantic && semantic === undefined;
  const lexicalAfterAll = degraded && lexicalResult === undefined ? await lexicalRanking(deps, query, filter, depth) : undefined;
  if (lexicalAfterAll?.isErr()) return err(lexicalAfterAll.error);
  const lexicalHits: Ranking = lexicalAfterAll?.isOk() ? lexicalAfterAll.value : bm25;
  let ranked: Ranking;
  if (degraded || mode === 'fts') ranked = lexicalHits;
  else if (mode === 'semantic') ranked = semantic!;
  else {
    const fuse = deps.config.search.fusion === 'rrf' ? fuseRankings : fuseScores;
    ranked = fuse(semantic!, bm25, fusionFor(side!.model, deps.config.search));
  }
  if ((smooth || degraded) && weight > 0 && ranked.length > 1) {
    // Candidates the lookup did not place (the fallback's hits, a late BM25 ranking): placed now.
    const missing = ranked.filter((h) => !looked.value.has(h.id)).map((h) => h.id);
    const placed = await lookUp(deps, missing, filter, withRows);
    if (placed.isErr()) return err(placed.error);
    for (const [id, p] of placed.value) looked.value.set(id, p);
    ranked = smoothNeighbours(ranked, looked.value, weight);
  }
  const rows = new Map<string, CandidateRow>();
  if (withRows) for (const [id, p] of looked.value) if (p.row) rows.set(id, p.row);
  return ok({ ranked, semantic, degraded, rows });
}
