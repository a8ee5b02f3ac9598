import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { selectContext, underFolder, type ContextCandidate, type SelectOptions } from '../../src/memory/contextSelect.js';

const NOW = new Date('2025-06-01T00:00:00Z');
const weights = { similarity: 1, importance: 0.3, recency: 0.3, label: 0.2, half_life_days: 7 };
const FOLDERS = ['/', '/work', '/work/secret', '/home', '/workshop', '/home/kids'];
const LABELS = ['alpha', 'beta', 'gamma'];

const candidate = fc.record({
  message_id: fc.integer({ min: 0, max: 60 }).map((n) => `m${n}`),
  conversation_id: fc.integer({ min: 0, max: 8 }).map((n) => `c${n}`),
  seq: fc.integer({ min: 1, max: 50 }),
  role: fc.constantFrom('user', 'assistant'),
  content: fc.string({ maxLength: 20 }),
  metadata: fc.constant({}),
  timestamp: fc.integer({ min: 0, max: 60 }).map((d) => new Date(NOW.getTime() - d * 86_400_000).toISOString()),
  label: fc.constantFrom(...LABELS),
  folder: fc.constantFrom(...FOLDERS),
  status: fc.constantFrom('active', 'active', 'active', 'archived', 'deleted'),
  importance_score: fc.integer({ min: 1, max: 10 }),
  similarity: fc.double({ min: 0, max: 1, noNaN: true }),
  tokens: fc.integer({ min: 1, max: 400 }),
});
// Message ids are unique per conversation and seq in real data: derive them so duplicates are true duplicates.
// A message found by several sources is the same message (only its similarity differs), and a conversation
// has one label, folder, status and importance.
const candidates = fc.array(candidate, { maxLength: 80 }).map((cs) => {
  const firstOf = new Map<string, ContextCandidate>();
  const conversationOf = new Map<string, ContextCandidate>();
  return cs.map((raw) => {
    const c = { ...raw, conversation_id: `c${Number(raw.message_id.slice(1)) % 9}`, seq: Number(raw.message_id.slice(1)) };
    const m = firstOf.get(c.message_id) ?? (firstOf.set(c.message_id, c), c);
    const conv = conversationOf.get(c.conversation_id) ?? (conversationOf.set(c.conversation_id, c), c);
    return { ...m, similarity: c.similarity, label: conv.label, folder: conv.folder, status: conv.status, importance_score: conv.importance_score };
  });
});
const options = fc.record({
  budget: fc.integer({ min: 0, max: 3000 }),
  preferredLabels: fc.subarray(LABELS),
  excludedFolders: fc.subarray(['/work', '/home/kids', '/workshop']),
});

const run = (cs: ContextCandidate[], o: Omit<SelectOptions, 'now' | 'weights'>) => selectContext(cs, { ...o, now: NOW, weights });

describe('selectContext (property tests)', () => {
  it('never exceeds the budget, and reports the tokens it used', () => {
    fc.assert(
      fc.property(candidates, options, (cs, o) => {
        const s = run(cs, o);
        const used = s.messages.reduce((n, m) => n + m.tokens, 0);
        expect(used).toBeLessThanOrEqual(o.budget);
        expect(s.tokens).toBe(used);
      }),
      { numRuns: 500 },
    );
  });

  it('fills the budget: every eligible message left out is larger than what remains', () => {
    fc.assert(
      fc.property(candidates, options, (cs, o) => {
        const s = run(cs, o);
        const taken = new Set(s.messages.map((m) => m.message_id));
        const eligible = cs.filter((c) => c.status === 'active' && !o.excludedFolders.some((f) => underFolder(c.folder, f)));
        for (const c of eligible) if (!taken.has(c.message_id)) expect(c.tokens).toBeGreaterThan(o.budget - s.tokens);
      }),
      { numRuns: 300 },
    );
  });

  it('never includes archived or deleted conversations or excluded folders, nor a message twice', () => {
    fc.assert(
      fc.property(candidates, options, (cs, o) => {
        const s = run(cs, o);
        for (const m of s.messages) {
          expect(m.status).toBe('active');
          for (const f of o.excludedFolders) expect(underFolder(m.folder, f)).toBe(false);
        }
        expect(new Set(s.messages.map((m) => m.message_id)).size).toBe(s.messages.length);
      }),
      { numRuns: 300 },
    );
  });

  it("keeps each conversation's messages together and in their original order", () => {
    fc.assert(
      fc.property(candidates, options, (cs, o) => {
        const s = run(cs, o);
        const order = s.messages.map((m) => m.conversation_id);
        const runs = order.filter((c, i) => i === 0 || order[i - 1] !== c);
        expect(new Set(runs).size).toBe(runs.length);
        for (let i = 1; i < s.messages.length; i++) {
          if (s.messages[i]!.conversation_id === s.messages[i - 1]!.conversation_id) expect(s.messages[i]!.seq).toBeGreaterThan(s.messages[i - 1]!.seq);
        }
        expect(s.conversations).toBe(new Set(order).size);
      }),
      { numRuns: 300 },
    );
  });

  it('gives a tie to the preferred label when only one of two equal messages fits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 1, max: 10 }), (tokens, similarity, importance) => {
        const base = { role: 'user', content: 'x', metadata: {}, timestamp: NOW.toISOString(), folder: '/', status: 'active', importance_score: importance, similarity, tokens, seq: 1 };
        const a = { ...base, message_id: 'a', conversation_id: 'ca', label: 'alpha' };
        const b = { ...base, message_id: 'b', conversation_id: 'cb', label: 'beta' };
        // With no label weight the two are exactly equal; preference alone must break the tie.
        const s = selectContext([a, b], { budget: tokens, preferredLabels: ['beta'], excludedFolders: [], now: NOW, weights: { ...weights, label: 0 } });
        expect(s.messages.map((m) => m.message_id)).toEqual(['b']);
        const s2 = selectContext([b, a], { budget: tokens, preferredLabels: ['alpha'], excludedFolders: [], now: NOW, weights: { ...weights, label: 0 } });
        expect(s2.messages.map((m) => m.message_id)).toEqual(['a']);
      }),
    );
  });
});

describe('selectContext (examples)', () => {
  it('prefers relevant, important, recent messages in that weighting', () => {
    const mk = (id: string, over: Partial<ContextCandidate>): ContextCandidate => ({
      message_id: id, conversation_id: id, seq: 1, role: 'user', content: id, metadata: {}, timestamp: NOW.toISOString(), label: 'x', folder: '/', status: 'active', importance_score: 5, similarity: 0.5, tokens: 10, ...over,
    });
    const s = selectContext([mk('old', { timestamp: '2025-01-01T00:00:00Z' }), mk('relevant', { similarity: 0.9 }), mk('dull', { similarity: 0.1 })], { budget: 20, preferredLabels: [], excludedFolders: [], now: NOW, weights });
    // relevant: 0.9 + 0.3 recency; old: 0.5 + ~0 recency; dull: 0.1 + 0.3 recency. Two fit.
    expect(s.messages.map((m) => m.message_id)).toEqual(['relevant', 'old']);
  });

  it('treats folder prefixes by segment', () => {
    expect(underFolder('/work/secret', '/work')).toBe(true);
    expect(underFolder('/workshop', '/work')).toBe(false);
    expect(underFolder('/anything', '/')).toBe(true);
    expect(underFolder('/work', '/work/')).toBe(true);
  });
});
