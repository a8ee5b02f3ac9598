import { validate, version } from 'uuid';
import { describe, expect, it } from 'vitest';
import { timeOrderedUuid } from '../../src/eventstore/timeOrderedUuid.js';

describe('timeOrderedUuid', () => {
  it('is a valid version 7 UUID with the RFC variant, unique', () => {
    const ids = Array.from({ length: 1000 }, timeOrderedUuid);
    for (const id of ids) {
      expect(validate(id)).toBe(true);
      expect(version(id)).toBe(7);
      expect('89ab').toContain(id[19]);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('starts with the current Unix time in milliseconds, so later ids sort after earlier ones', async () => {
    const before = Date.now();
    const first = timeOrderedUuid();
    const after = Date.now();
    const ms = parseInt(first.slice(0, 8) + first.slice(9, 13), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(after);
    await new Promise((r) => setTimeout(r, 3));
    expect(timeOrderedUuid() > first).toBe(true);
  });
});
