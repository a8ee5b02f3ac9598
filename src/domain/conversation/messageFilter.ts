import type { Role } from './events.js';

/** An instant bounding message timestamps (ISO-8601, as precise as it was given). */
export interface TimeBound {
  at: string;
  inclusive: boolean;
}

/**
 * Which messages a search may return, in one vocabulary for every search mode: the SQL of the lexical
 * side (src/queries/messageFilter.ts) and the Chroma `where` of the semantic side (src/vectors/where.ts)
 * both read this, and `passesFilter` below is the meaning both must agree with. Each route maps its own
 * documented wire fields onto it (POST /api/v1/query and POST /api/v1/search/fts spell some differently).
 * Deleted conversations never pass.
 */
export interface MessageFilter {
  /** The conversations' status; `any` is active or archived. */
  status: 'active' | 'archived' | 'any';
  label?: string | undefined;
  /** Exactly this folder. */
  folder?: string | undefined;
  /** This folder and its subfolders: "/a" holds "/a" and "/a/b", not "/ab". */
  folderTree?: string | undefined;
  pinned?: boolean | undefined;
  conversationId?: string | undefined;
  role?: Role | undefined;
  /** The participant's name, exactly. */
  name?: string | undefined;
  importanceMin?: number | undefined;
  importanceMax?: number | undefined;
  from?: TimeBound | undefined;
  to?: TimeBound | undefined;
}

/** What `passesFilter` reads of a message and its conversation. */
export interface FilteredMessage {
  conversationId: string;
  label: string;
  folder: string;
  status: 'active' | 'archived' | 'deleted';
  pinned: boolean;
  importance: number;
  role: Role;
  name?: string | undefined;
  timestamp: string;
}

/** Whether `folder` is `root` or lies under it. */
export const inFolderTree = (folder: string, root: string): boolean => root === '/' || folder === root || folder.startsWith(`${root}/`);

const after = (t: number, b: TimeBound) => (b.inclusive ? t >= Date.parse(b.at) : t > Date.parse(b.at));
const before = (t: number, b: TimeBound) => (b.inclusive ? t <= Date.parse(b.at) : t < Date.parse(b.at));

/** The filter's meaning, as a predicate (millisecond precision). */
export function passesFilter(f: MessageFilter, m: FilteredMessage): boolean {
  const t = Date.parse(m.timestamp);
  return (
    m.status !== 'deleted' &&
    (f.status === 'any' || m.status === f.status) &&
    (f.label === undefined || m.label === f.label) &&
    (f.folder === undefined || m.folder === f.folder) &&
    (f.folderTree === undefined || inFolderTree(m.folder, f.folderTree)) &&
    (f.pinned === undefined || m.pinned === f.pinned) &&
    (f.conversationId === undefined || m.conversationId === f.conversationId) &&
    (f.role === undefined || m.role === f.role) &&
    (f.name === undefined || m.name === f.name) &&
    (f.importanceMin === undefined || m.importance >= f.importanceMin) &&
    (f.importanceMax === undefined || m.importance <= f.importanceMax) &&
    (f.from === undefined || after(t, f.from)) &&
    (f.to === undefined || before(t, f.to))
  );
}
