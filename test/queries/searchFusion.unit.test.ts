import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuseRankings } from '../../src/queries/searchFusion.js';

const list = (...ids: string[]) => ids.map((id, i) => ({ id, score: 1 / (i + 1) }));

describe('weighted reciprocal rank fusion', () => {
  it('puts an item both lists rank high above items only one list has', () => {
    const fused = fuseRankings(list('a', 'b', 'c'), list('d', 'b', 'e'), { semantic: 1, lexical: 1, k: 60 });
    expect(fused[0]!.id).toBe('b');
    expect(fused.map((h) => h.id).sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('follows the heavier list when the lists disagree', () => {
    expect(fuseRankings(list('a'), list('b'), { semantic: 0.35, lexical: 1, k: 60 })[0]!.id).toBe('b');
    expect(fuseRankings(list('a'), list('b'), { semantic: 1, lexical: 0.35, k: 60 })[0]!.id).toBe('a');
  });

  it('with one list empty keeps the other list’s order', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 4 }), { maxLength: 30 }), (ids) => {
        expect(fuseRankings([], list(...ids), { semantic: 0.5, lexical: 1, k: 10 }).map((h) => h.id)).toEqual(ids);
      }),
    );
  });
});

describe('fusion weights per model', () => {
  it('takes configured weights first, then built-in ones, then 1/1/60', async () => {
    const { fusionFor } = await import('../../src/queries/searchFusion.js');
    expect(fusionFor('energetic-ai/use-lite-en', { hybrid_weights: {} })).toEqual({ semantic: 0.3, lexical: 0.7, k: 10 });
    expect(fusionFor('energetic-ai/use-lite-en', { rrf_k: 30, hybrid_weights: {} })).toEqual({ semantic: 0.3, lexical: 0.7, k: 30 });
    expect(fusionFor('nomic-embed-text', { hybrid_weights: { 'nomic-embed-text': { semantic: 2, lexical: 1, k: 5 } } })).toEqual({ semantic: 2, lexical: 1, k: 5 });
    expect(fusionFor(undefined, { hybrid_weights: {} })).toEqual({ semantic: 1, lexical: 1, k: 60 });
  });
});
