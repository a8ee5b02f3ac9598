import type { LoadSpec } from './load.js';
import { queryAt } from './corpus.js';

/**
 * The read path's rows as the bench sends them: the corpus's first 20 queries to full-text search,
 * semantic and hybrid search (10 hits) and context assembly (2,000 tokens). One definition for
 * bench/run.ts and bench/readPath.ts.
 */
export function readRows(seed: number): { name: string; requests: LoadSpec['requests'] }[] {
  const queries = (body: (q: string) => unknown, path: string) => Array.from({ length: 20 }, (_, i) => ({ method: 'POST' as const, path, body: body(queryAt(seed, i)) }));
  return [
    { name: 'full-text search', requests: queries((query) => ({ query, limit: 10 }), '/api/v1/search/fts') },
    { name: 'semantic search (warm)', requests: queries((query) => ({ query, limit: 10, mode: 'semantic' }), '/api/v1/query') },
    { name: 'hybrid search', requests: queries((query) => ({ query, limit: 10, mode: 'hybrid' }), '/api/v1/query') },
    { name: 'context assembly', requests: queries((query) => ({ query, context_budget: 2000 }), '/api/v1/context/assemble') },
  ];
}
