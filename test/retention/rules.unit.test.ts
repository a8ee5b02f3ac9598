import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load.js';
import type { RetentionRule } from '../../src/config/schema.js';
import { inFolder, ruleFor, type RetainedConversation } from '../../src/retention/rules.js';

const rule = (r: Partial<RetentionRule> & Pick<RetentionRule, 'name' | 'action' | 'after_days'>): RetentionRule => ({ include_pinned: false, include_important: false, ...r });
const conversation = (c: Partial<RetainedConversation> = {}): RetainedConversation => ({
  id: 'c',
  label: 'notes',
  folder: '/work',
  pinned: false,
  importance_score: 5,
  status: 'active',
  updated_at: '2025-01-01T00:00:00.000Z',
  last_message_at: null,
  ...c,
});
const at = (days: number) => new Date(Date.parse('2025-01-01T00:00:00Z') + days * 86_400_000);

describe('retention rules', () => {
  it('match folders by prefix at a path boundary', () => {
    expect(inFolder('/work', '/work')).toBe(true);
    expect(inFolder('/work/a/b', '/work/')).toBe(true);
    expect(inFolder('/workshop', '/work')).toBe(false);
    expect(inFolder('/anything', '/')).toBe(true);
  });

  it('act after N days without activity (a message counts), the most severe applicable rule winning', () => {
    const policy = {
      keep_importance_at_least: 8,
      rules: [rule({ name: 'archive', folder: '/work', after_days: 30, action: 'archive' }), rule({ name: 'delete', label: 'notes', after_days: 90, action: 'delete' })],
    };
    expect(ruleFor(policy, conversation(), at(29))).toBeUndefined();
    expect(ruleFor(policy, conversation(), at(30))?.name).toBe('archive');
    expect(ruleFor(policy, conversation({ last_message_at: '2025-01-20T00:00:00.000Z' }), at(30))).toBeUndefined();
    expect(ruleFor(policy, conversation(), at(90))?.name).toBe('delete');
    // Archiving an archived conversation is nothing to do; deleting it is.
    expect(ruleFor(policy, conversation({ status: 'archived' }), at(60))).toBeUndefined();
    expect(ruleFor(policy, conversation({ status: 'archived' }), at(90))?.name).toBe('delete');
  });

  it('keep pinned and important conversations unless the rule includes them', () => {
    const keep = { keep_importance_at_least: 8, rules: [rule({ name: 'r', folder: '/', after_days: 1, action: 'purge' })] };
    expect(ruleFor(keep, conversation({ pinned: true }), at(5))).toBeUndefined();
    expect(ruleFor(keep, conversation({ importance_score: 8 }), at(5))).toBeUndefined();
    const include = { keep_importance_at_least: 8, rules: [rule({ name: 'r', folder: '/', after_days: 1, action: 'purge', include_pinned: true, include_important: true })] };
    expect(ruleFor(include, conversation({ pinned: true, importance_score: 10 }), at(5))?.name).toBe('r');
  });

  it('are read from [[retention.rules]], refusing a rule that matches nothing in particular', () => {
    const ok = resolveConfig('[[retention.rules]]\nname = "old"\nfolder = "/tmp"\nafter_days = 7\naction = "delete"\n', {});
    expect(ok._unsafeUnwrap().retention.rules[0]).toMatchObject({ name: 'old', folder: '/tmp', after_days: 7, action: 'delete', include_pinned: false });
    const bad = resolveConfig('[[retention.rules]]\nname = "all"\nafter_days = 7\naction = "delete"\n', {});
    expect(bad.isErr() && bad.error.message).toMatch(/retention\.rules\.0/);
    const badAction = resolveConfig('[[retention.rules]]\nname = "x"\nlabel = "a"\nafter_days = 7\naction = "shred"\n', {});
    expect(badAction.isErr() && badAction.error.message).toMatch(/retention\.rules\.0\.action = "shred" is invalid: allowed: one of "archive", "delete", "purge"/);
  });
});
