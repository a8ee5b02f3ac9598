import { describe, expect, it } from 'vitest';
import { postingsOf } from '../../src/queries/lexicalTopK.js';

describe('postingsOf', () => {
  it('reads each term row\'s postings in order, each number\'s shortest text read back to the same double', () => {
    const a = '0b7c3f1e-0000-4000-8000-000000000001';
    const b = '0b7c3f1e-0000-4000-8000-000000000002';
    const costs = [0.1 + 0.2, 1e-7, 2.5e21, 1 / 3];
    const rows = [
      { term: 1, postings: `${a},3,17,${costs[0]};${b},1,4,${costs[1]}` },
      { term: 0, postings: null },
      { term: 2, postings: `${b},12,90,${costs[2]};${a},2,5,${costs[3]}` },
    ];
    expect(postingsOf(rows)).toEqual([
      { term: 1, id: a, tf: 3, len: 17, cost: costs[0] },
      { term: 1, id: b, tf: 1, len: 4, cost: costs[1] },
      { term: 2, id: b, tf: 12, len: 90, cost: costs[2] },
      { term: 2, id: a, tf: 2, len: 5, cost: costs[3] },
    ]);
  });
});
