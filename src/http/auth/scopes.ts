import type { Scope } from '../../config/schema.js';

/** What a route needs: nothing (public), or one scope. */
export type Requirement = 'public' | Scope;

/** Operations endpoints anyone may call. /metrics holds only route templates and counts, no content. */
const PUBLIC = new Set(['/health', '/ready', '/metrics', '/openapi.json', '/docs']);

/** POSTs that only read (a query body is too large or structured for a URL). */
const READ_POSTS = new Set([
  '/api/v1/query',
  '/api/v1/search/fts',
  '/api/v1/context/assemble',
  '/api/v1/labels/suggest',
  '/api/v1/prune/dry-run',
]);

/** MCP tools that only read; the others write. */
const READ_TOOLS = new Set(['memory_search', 'memory_get_context', 'memory_assemble_context', 'memory_export', 'memory_stats', 'memory_get_conversation', 'memory_prune_suggestions']);

/** The scope an MCP tool needs (the MCP endpoint checks it per tool call). */
export const toolScope = (name: string): 'read' | 'write' => (READ_TOOLS.has(name) ? 'read' : 'write');

/**
 * The scope a request needs, decided in this one place from method, path and query:
 * admin for rebuilds, purges and audit across streams; write for other non-GET requests; read else.
 */
export function requiredScope(method: string, path: string, query: URLSearchParams): Requirement {
  const m = method.toUpperCase();
  const p = path.length > 1 ? path.replace(/\/+$/, '') : path;
  if (PUBLIC.has(p) && (m === 'GET' || m === 'HEAD')) return 'public';
  if (m === 'OPTIONS') return 'public';
  if (m === 'POST' && (/^\/api\/v1\/projections\/[^/]+\/rebuild$/.test(p) || p === '/api/v1/rebuild-embeddings')) return 'admin';
  if (m === 'DELETE' && /^\/api\/v1\/conversations\/[^/]+$/.test(p) && query.get('purge')?.toLowerCase() === 'true') return 'admin';
  if (p === '/api/v1/audit' || p.startsWith('/api/v1/audit/')) return 'admin';
  if (m === 'GET' || m === 'HEAD') return 'read';
  if (m === 'POST' && READ_POSTS.has(p)) return 'read';
  // The MCP endpoint: every call needs read at least; each tool call is checked for its own scope there.
  if (p === '/mcp') return 'read';
  const tool = /^\/mcp\/tools\/([^/]+)$/.exec(p)?.[1];
  if (m === 'POST' && tool && toolScope(tool) === 'read') return 'read';
  return 'write';
}

/** Whether scopes grant a requirement; admin grants everything. */
export const grants = (scopes: readonly Scope[], needed: Requirement): boolean =>
  needed === 'public' || scopes.includes(needed) || scopes.includes('admin');
