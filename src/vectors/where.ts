import type { Where } from 'chromadb';
import type { MessageFilter } from '../domain/conversation/index.js';
import { MAX_FOLDER_DEPTH, folderKey } from './metadata.js';

const seconds = (iso: string) => Date.parse(iso) / 1000;

/**
 * A message's timestamp is kept in whole seconds (rounded down), so a time bound is exact when it falls
 * on a whole second at the end it is inclusive from, or exclusive to (what POST /api/v1/query gives);
 * any other bound is widened to the seconds it touches.
 */
function timeClauses(f: MessageFilter): Where[] {
  const clauses: Where[] = [];
  if (f.from !== undefined) clauses.push({ timestamp: { $gte: Math.floor(seconds(f.from.at)) } });
  if (f.to !== undefined) {
    const to = seconds(f.to.at);
    clauses.push(Number.isInteger(to) && !f.to.inclusive ? { timestamp: { $lt: to } } : { timestamp: { $lte: Math.floor(to) } });
  }
  return clauses;
}

/** The folder clause: a subtree by the indexed ancestor key of its depth (deeper than indexed: that folder exactly, a documented limit). */
function folderTreeClause(root: string): Where | undefined {
  const segments = root.split('/').filter(Boolean);
  if (segments.length === 0) return undefined;
  const path = `/${segments.join('/')}`;
  return segments.length <= MAX_FOLDER_DEPTH ? { [folderKey(segments.length)]: { $eq: path } } : { folder: { $eq: path } };
}

/** Chroma `where` for a message filter (the vector reading of `passesFilter`). Undefined = no filter. */
export function toWhere(f: MessageFilter): Where | undefined {
  const tree = f.folderTree === undefined ? undefined : folderTreeClause(f.folderTree);
  const clauses: Where[] = [
    ...(f.label !== undefined ? [{ label: { $eq: f.label } }] : []),
    ...(f.folder !== undefined ? [{ folder: { $eq: f.folder } }] : []),
    ...(tree ? [tree] : []),
    ...(f.status !== 'any' ? [{ status: { $eq: f.status } }] : []),
    ...(f.pinned !== undefined ? [{ pinned: { $eq: f.pinned } }] : []),
    ...(f.conversationId !== undefined ? [{ conversation_id: { $eq: f.conversationId } }] : []),
    ...(f.role !== undefined ? [{ role: { $eq: f.role } }] : []),
    ...(f.name !== undefined ? [{ name: { $eq: f.name } }] : []),
    ...(f.importanceMin !== undefined ? [{ importance: { $gte: f.importanceMin } }] : []),
    ...(f.importanceMax !== undefined ? [{ importance: { $lte: f.importanceMax } }] : []),
    ...timeClauses(f),
  ];
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
