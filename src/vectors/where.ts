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
  if (f.importance_min !== undefined) clauses.push({ importance: { $gte: f.importance_min } });
  if (f.importance_max !== undefined) clauses.push({ importance: { $lte: f.importance_max } });
  if (f.created_after !== undefined) clauses.push({ timestamp: { $gte: seconds(f.created_after) } });
  if (f.created_before !== undefined) clauses.push({ timestamp: { $lte: seconds(f.created_before) } });
  if (clauses.length === 0) return undefined;
  return clauses.length === 1 ? clauses[0] : { $and: clauses };
}
