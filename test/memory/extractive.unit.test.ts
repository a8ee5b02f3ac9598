import { describe, expect, it } from 'vitest';
import { centralSentences, splitSentences, summaryLength } from '../../src/memory/extractive.js';
import { suggestLabels } from '../../src/memory/labelVote.js';
import { periodOf } from '../../src/memory/summaryPeriod.js';

describe('extractive summary', () => {
  it('splits sentences at punctuation and line breaks, dropping fragments without letters', () => {
    expect(splitSentences('One. Two!  Three?\nFour\n\n--- \n42.')).toEqual(['One.', 'Two!', 'Three?', 'Four']);
  });

  it('keeps the sentences most similar to all the others, in their original order', () => {
    // Three sentences on one theme (similar vectors), two off-topic ones (orthogonal).
    const sentences = ['a1', 'off1', 'a2', 'off2', 'a3'];
    const vectors = [
      [1, 0.1, 0, 0],
      [0, 0, 1, 0],
      [1, 0, 0.1, 0],
      [0, 0, 0, 1],
      [0.9, 0.1, 0.1, 0],
    ];
    expect(centralSentences(sentences, vectors, 3)).toEqual(['a1', 'a2', 'a3']);
    expect(centralSentences(sentences, vectors, 1)).toHaveLength(1);
    expect(['a1', 'a2', 'a3']).toContain(centralSentences(sentences, vectors, 1)[0]);
  });

  it('keeps a fifth of the sentences, between 1 and 5', () => {
    expect([1, 5, 6, 25, 100].map(summaryLength)).toEqual([1, 1, 2, 5, 5]);
  });

  it('periods: the UTC day, the ISO week from Monday, the calendar month', () => {
    const at = new Date('2025-03-09T23:30:00Z'); // a Sunday
    expect(periodOf('daily', at)).toEqual({ start: new Date('2025-03-09T00:00:00Z'), end: new Date('2025-03-10T00:00:00Z') });
    expect(periodOf('weekly', at)).toEqual({ start: new Date('2025-03-03T00:00:00Z'), end: new Date('2025-03-10T00:00:00Z') });
    expect(periodOf('monthly', at)).toEqual({ start: new Date('2025-03-01T00:00:00Z'), end: new Date('2025-04-01T00:00:00Z') });
  });
});

describe('label vote', () => {
  const n = (label: string, similarity: number, id = `${label}-${similarity}`) => ({ conversation_id: id.padEnd(12, '0'), label, similarity });

  it('is confident when the nearest neighbours agree and are close, and not when they are far or split', () => {
    const agree = suggestLabels([n('cars', 0.9, 'a'), n('cars', 0.85, 'b'), n('cars', 0.8, 'c'), n('food', 0.2)], [], ['cars', 'food']);
    expect(agree[0]).toMatchObject({ label: 'cars', is_existing: true });
    expect(agree[0]!.confidence).toBeGreaterThan(0.85);
    const far = suggestLabels([n('cars', 0.3, 'a'), n('cars', 0.25, 'b')], [], ['cars']);
    expect(far[0]!.confidence).toBeLessThan(0.31);
    const split = suggestLabels([n('cars', 0.8, 'a'), n('food', 0.8, 'b')], [], ['cars', 'food']);
    expect(split.map((s) => s.confidence)).toEqual([0.4, 0.4]);
    for (const s of [...agree, ...far, ...split]) expect(s.confidence).toBeGreaterThanOrEqual(0), expect(s.confidence).toBeLessThanOrEqual(1);
  });

  it('adds key terms as weaker evidence, matching existing labels case-insensitively, and combines sources', () => {
    const s = suggestLabels([n('Cars', 0.6, 'a')], [{ term: 'cars', coverage: 1, rarity: 1, messages: 4 }, { term: 'engine', coverage: 1, rarity: 1, messages: 1 }], ['Cars']);
    const cars = s.find((x) => x.label === 'Cars')!;
    // 0.6 from the neighbour, 0.5·1·1·4/5 = 0.4 from the term: 1 − 0.4·0.6 = 0.76.
    expect(cars.confidence).toBe(0.76);
    expect(cars.reason).toMatch(/nearest conversations.*; key term "cars" appears in 4 messages/);
    expect(s.find((x) => x.label === 'engine')).toMatchObject({ confidence: 0.25, is_existing: false });
  });
});
