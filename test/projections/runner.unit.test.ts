import { describe, expect, it } from 'vitest';
import { failureBackoffMs, heldBackWaitMs } from '../../src/projections/runner.js';

describe('runner waits', () => {
  it('looks again 5 ms after events are first held back, doubling up to the slow poll', () => {
    expect([1, 2, 3, 4, 5].map((n) => heldBackWaitMs(n, 1000))).toEqual([5, 10, 20, 40, 80]);
    expect(heldBackWaitMs(12, 1000)).toBe(1000);
    expect(heldBackWaitMs(3, 15)).toBe(15);
  });

  it('waits for the slow poll when nothing is held back', () => {
    expect(heldBackWaitMs(0, 1000)).toBe(1000);
  });

  it('backs off a failing batch from 100 ms, doubling to 30 s', () => {
    expect([1, 2, 3].map(failureBackoffMs)).toEqual([100, 200, 400]);
    expect(failureBackoffMs(20)).toBe(30_000);
  });
});
