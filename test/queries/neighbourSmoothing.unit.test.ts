import { describe, expect, it } from 'vitest';
import { smoothNeighbours } from '../../src/queries/neighbourSmoothing.js';
import { fuseScores } from '../../src/queries/searchFusion.js';

const at = (entries: [string, string, number][]) => new Map(entries.map(([id, c, seq]) => [id, { conversation_id: c, seq }]));

describe('smoothNeighbours', () => {
  it('lifts a candidate next to a strong one in the same conversation, not one elsewhere', () => {
    const ranked = [
      { id: 'q', score: 10 },
      { id: 'far', score: 4 },
      { id: 'reply', score: 3 },
      { id: 'other', score: 3.5 },
    ];
    const placed = at([['q', 'c1', 5], ['reply', 'c1', 6], ['far', 'c1', 9], ['other', 'c2', 6]]);
    const out = smoothNeighbours(ranked, placed, 0.5);
    expect(out.map((h) => h.id)).toEqual(['q', 'reply', 'far', 'other']);
    expect(out.find((h) => h.id === 'reply')!.score).toBeCloseTo(3 + 0.5 * 10);
    // The strong one gains from its weaker neighbour too, by the best of its two sides.
    expect(out[0]!.score).toBeCloseTo(10 + 0.5 * 3);
  });

  it('changes nothing with weight 0 or without placements', () => {
    const ranked = [{ id: 'a', score: 2 }, { id: 'b', score: 1 }];
    expect(smoothNeighbours(ranked, at([['a', 'c', 1], ['b', 'c', 2]]), 0)).toEqual(ranked);
    expect(smoothNeighbours(ranked, new Map(), 0.5)).toEqual(ranked);
  });
});

describe('fuseScores (convex fusion)', () => {
  it('keeps a clear lexical winner ahead where reciprocal ranks would tie it', () => {
    const lexical = [{ id: 'a', score: 10 }, { id: 'b', score: 1 }];
    const semantic = [{ id: 'b', score: 0.9 }, { id: 'a', score: 0.8 }, { id: 'c', score: 0.1 }];
    const fused = fuseScores(semantic, lexical, { semantic: 0.3, lexical: 0.7, k: 10 });
    expect(fused.map((h) => h.id)).toEqual(['a', 'b', 'c']);
    // a: 0.7·1 + 0.3·(0.8−0.1)/0.8; b: 0.7·0.1 + 0.3·1; c: 0.
    expect(fused[0]!.score).toBeCloseTo(0.7 + 0.3 * (0.7 / 0.8));
    expect(fused[1]!.score).toBeCloseTo(0.07 + 0.3);
    expect(fused[2]!.score).toBe(0);
  });

  it('with one list empty ranks the other as it was', () => {
    const lexical = [{ id: 'x', score: 3 }, { id: 'y', score: 2 }, { id: 'z', score: 1 }];
    expect(fuseScores([], lexical, { semantic: 1, lexical: 1, k: 60 }).map((h) => h.id)).toEqual(['x', 'y', 'z']);
  });
});
