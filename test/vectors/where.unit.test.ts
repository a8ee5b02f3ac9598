import { describe, expect, it } from 'vitest';
import { queryFilterOf } from '../../src/queries/searchFilters.js';
import { conversationMetadata, folderKeys, vectorMetadata } from '../../src/vectors/metadata.js';
import { toWhere } from '../../src/vectors/where.js';

describe('vector filters', () => {
  it('indexes each folder ancestor at its depth', () => {
    expect(folderKeys('/a/b/c')).toEqual({ fp1: '/a', fp2: '/a/b', fp3: '/a/b/c' });
    expect(folderKeys('/')).toEqual({});
    // Keys of deeper levels are cleared so that a move to a shallower folder leaves no stale prefix.
    expect(conversationMetadata({ label: 'l', folder: '/x', status: 'active', pinned: false, importance: 5 })).toMatchObject({ fp1: '/x', fp2: '', fp12: '' });
  });

  it("gives a new vector only the keys a filter reads: no empty folder keys, no model", () => {
    const message = { conversation_id: 'c', role: 'user', timestamp: '2024-01-01T00:00:01.500Z' };
    expect(vectorMetadata(message, { label: 'l', folder: '/a/b', status: 'active', pinned: true, importance: 5 })).toEqual({
      conversation_id: 'c', role: 'user', timestamp: 1704067201, label: 'l', folder: '/a/b', status: 'active', pinned: true, importance: 5, fp1: '/a', fp2: '/a/b',
    });
    expect(vectorMetadata({ ...message, name: 'ann' }, { label: 'l', folder: '/', status: 'archived', pinned: false, importance: 1 })).toEqual({
      conversation_id: 'c', role: 'user', name: 'ann', timestamp: 1704067201, label: 'l', folder: '/', status: 'archived', pinned: false, importance: 1,
    });
  });

  it('leaves archived out by default, and asks for them when told (POST /api/v1/query)', () => {
    expect(toWhere(queryFilterOf({}))).toEqual({ status: { $eq: 'active' } });
    expect(toWhere(queryFilterOf({ include_archived: true }))).toBeUndefined();
    expect(toWhere(queryFilterOf({ status: 'archived' }))).toEqual({ status: { $eq: 'archived' } });
  });

  it('turns a folder prefix into the key of its depth and combines filters with $and', () => {
    expect(toWhere(queryFilterOf({ folder: '/a/b', include_archived: true }))).toEqual({ fp2: { $eq: '/a/b' } });
    expect(toWhere(queryFilterOf({ folder: '/', include_archived: true }))).toBeUndefined();
    expect(toWhere(queryFilterOf({ importance_min: 3, created_after: '2024-01-01T00:00:00Z', role: 'user' }))).toEqual({
      $and: [{ status: { $eq: 'active' } }, { role: { $eq: 'user' } }, { importance: { $gte: 3 } }, { timestamp: { $gte: 1704067200 } }],
    });
  });

  it('matches an exact folder on the folder itself', () => {
    expect(toWhere({ status: 'any', folder: '/a/b' })).toEqual({ folder: { $eq: '/a/b' } });
  });

  it('reads the whole-second bounds of /query exactly: at or after, at or before', () => {
    // Inside a second, the bounds take the whole second, as the vectors keep it.
    expect(toWhere(queryFilterOf({ include_archived: true, created_after: '2024-01-01T00:00:00.750Z', created_before: '2024-01-01T00:00:09.250+00:00' }))).toEqual({
      $and: [{ timestamp: { $gte: 1704067200 } }, { timestamp: { $lt: 1704067210 } }],
    });
  });

  it('widens a bound that splits a second to the seconds it touches (vectors keep whole seconds)', () => {
    expect(toWhere({ status: 'any', from: { at: '2024-01-01T00:00:00.500Z', inclusive: false }, to: { at: '2024-01-01T00:00:09.500Z', inclusive: false } })).toEqual({
      $and: [{ timestamp: { $gte: 1704067200 } }, { timestamp: { $lte: 1704067209 } }],
    });
    expect(toWhere({ status: 'any', to: { at: '2024-01-01T00:00:09Z', inclusive: true } })).toEqual({ timestamp: { $lte: 1704067209 } });
  });
});
