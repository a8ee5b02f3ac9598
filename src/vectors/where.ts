import type { Where } from 'chromadb';
import { MAX_FOLDER_DEPTH, folderKey } from './metadata.js';

/** Filters of a search, as the API takes them. */
export interface SearchFilters {
  label?: string | undefined;
  /** Folder prefix: "/a" matches "/a" and "/a/b", not "/ab". */
  folder?: string | undefined;
  status?: 'active' | 'archived' | undefined;
  include_archived?: boolean | undefined;
  pinned?: boolean | undefined;
  conversation_id?: string | undefined;
  role?: string | undefined;
  /** The participant's name, exactly. */
  name?: string | undefined;
  importance_min?: number | undefined;
  importance_max?: number | undefined;
  created_after?: string | undefined;
  created_before?: string | undefined;
}

const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

/** Chroma `where` for the filters; archived conversations are left out unless asked for. Undefined = no filter. */
export function toWhere(f: SearchFilters): Where | undefined {
  const clauses: Where[] = [];
  if (f.label !== undefined) clauses.push({ label: { $eq: f.label } });
  if (f.folder !== undefined) {
    const segments = f.folder.split('/').filter(Boolean);
    if (segments.length > 0 && segments.length <= MAX_FOLDER_DEPTH) clauses.push({ [folderKey(segments.length)]: { $eq: `/${segments.join('/')}` } });
    // Deeper than we index: match exactly (rare; documented limit).
    if (segments.length > MAX_FOLDER_DEPTH) clauses.push({ folder: { $eq: `/${segments.join('/')}` } });
  }
  if (f.status !== undefined) clauses.push({ status: { $eq: f.status } });
  else if (!f.include_archived) clauses.push({ status: { $eq: 'active' } });
  if (f.pinned !== undefined) clauses.push({ pinned: { $eq: f.pinned } });
  if (f.conversation_id !== undefined) clauses.push({ conversation_id: { $eq: f.conversation_id } });
  if (f.role !== undefined) clauses.push({ role: { $eq: f.role } });
  if (f.name !== undefined) clauses.push({ name: { $eq: f.name } });
  if (f.importance_min !== undefined) clauses.push({ importance: { $gte: f.importance_min } });
  if (f.importance_max !== undefined) clauses.push({ importance: { $lte: f.importance_max } });
  if (f.created_after !== undefined) clauses.push({ timestamp: { $gte: seconds(f.created_after) } });
  if (f.created_before !== undefined) clauses.push({ timestamp: { $lte: seconds(f.created_before) } });
  if (clauses.length === 0) return undefined;
  return clauses.length === 1 ? clauses[0] : { $and: clauses };
}

/** The clauses of a `where`: its $and list, or itself. */
const clausesOf = (where: Where): Where[] => ('$and' in where && Array.isArray(where.$and) ? (where.$and as Where[]) : [where]);

/** A clause's single key and condition, when it is `{ key: { $eq | $ne: value } }`. */
function simpleClause(clause: Where): { key: string; op: '$eq' | '$ne'; value: unknown } | undefined {
  const entries = Object.entries(clause);
  if (entries.length !== 1) return undefined;
  const [key, cond] = entries[0]!;
  if (typeof cond !== 'object' || cond === null) return undefined;
  if ('$ne' in cond) return { key, op: '$ne', value: (cond as { $ne: unknown }).$ne };
  if ('$eq' in cond) return { key, op: '$eq', value: (cond as { $eq: unknown }).$eq };
  return undefined;
}

/**
 * A filter that almost every vector passes: only "active" and "not equal to" clauses. Chroma applies a
 * `where` before its HNSW search by listing the matching ids, which at 50,000 vectors costs about 160 ms
 * against 9 ms unfiltered; for such a filter it is cheaper to search unfiltered and drop the rest.
 */
export function isBroad(where: Where): boolean {
  return clausesOf(where).every((clause) => {
    const c = simpleClause(clause);
    return c !== undefined && (c.op === '$ne' || (c.key === 'status' && c.value === 'active'));
  });
}

/** Whether a vector's metadata passes a broad filter (pure). */
export function passesBroad(metadata: Record<string, unknown>, where: Where): boolean {
  return clausesOf(where).every((clause) => {
    const c = simpleClause(clause)!;
    return c.op === '$ne' ? metadata[c.key] !== c.value : metadata[c.key] === c.value;
  });
}
