import type { VectorService } from './service.js';

type Check = () => Promise<string> | string;

const within = <T>(p: Promise<T>, ms: number, late: T): Promise<T> =>
  Promise.race([p, new Promise<T>((r) => setTimeout(() => r(late), ms).unref())]);

/** Cheap checks for /health and /ready: Chroma's heartbeat (bounded); the embedder is never called (it is CPU-heavy). */
export function vectorChecks(vectors: VectorService): { chroma: Check; embedder: Check } {
  return {
    chroma: () =>
      within(
        vectors.store.heartbeat().then(
          () => 'ok',
          () => 'down',
        ),
        1000,
        'timeout',
      ),
    embedder: () => (vectors.embedders.supports(vectors.embedders.configuredModel) ? 'ok' : 'down'),
  };
}
