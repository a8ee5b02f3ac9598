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
