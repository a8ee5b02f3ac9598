import { describe, expect, it } from 'vitest';
import { conversationMetadata, folderKeys } from '../../src/vectors/metadata.js';
import { toWhere } from '../../src/vectors/where.js';

describe('vector filters', () => {
  it('indexes each folder ancestor at its depth', () => {
    expect(folderKeys('/a/b/c')).toEqual({ fp1: '/a', fp2: '/a/b', fp3: '/a/b/c' });
    expect(folderKeys('/')).toEqual({});
    // Keys of deeper levels are cleared so that a move to a shallower folder leaves no stale prefix.
    expect(conversationMetadata({ label: 'l', folder: '/x', status: 'active', pinned: false, importance: 5 })).toMatchObject({ fp1: '/x', fp2: '', fp12: '' });
  });

  it('leaves archived out by default, and asks for them when told', () => {
    expect(toWhere({})).toEqual({ status: { $eq: 'active' } });
    expect(toWhere({ include_archived: true })).toBeUndefined();
    expect(toWhere({ status: 'archived' })).toEqual({ status: { $eq: 'archived' } });
  });

  it('turns a folder prefix into the key of its depth and combines filters with $and', () => {
    expect(toWhere({ folder: '/a/b', include_archived: true })).toEqual({ fp2: { $eq: '/a/b' } });
    expect(toWhere({ folder: '/', include_archived: true })).toBeUndefined();
    expect(toWhere({ importance_min: 3, created_after: '2024-01-01T00:00:00Z', role: 'user' })).toEqual({
      $and: [{ status: { $eq: 'active' } }, { role: { $eq: 'user' } }, { importance: { $gte: 3 } }, { timestamp: { $gte: 1704067200 } }],
    });
  });
});
