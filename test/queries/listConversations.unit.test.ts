import { describe, expect, it } from 'vitest';
import { encodeCursor } from '../../src/queries/cursor.js';
import { paging, parseSort } from '../../src/queries/listConversations.js';
import { Conditions } from '../../src/queries/sql.js';
import { conversationConditions } from '../../src/queries/conversationFilters.js';

describe('parseSort', () => {
  it.each([
    ['label', { field: 'label', dir: 'asc' }],
    ['-updated_at', { field: 'updated_at', dir: 'desc' }],
    ['importance_score:desc', { field: 'importance_score', dir: 'desc' }],
    ['created_at:asc', { field: 'created_at', dir: 'asc' }],
  ])('%s', (raw, sort) => expect(parseSort(raw)).toEqual(sort));
  it.each(['', 'id', '-label:desc', 'label:up', 'label; drop table x', '--label'])('refuses %j', (raw) => expect(parseSort(raw)).toBeUndefined());
});

describe('paging', () => {
  const sort = parseSort('label')!;
  it('turns page/page_size and limit/offset into the same offset', () => {
    expect(paging({ page: 3, page_size: 10 }, sort)._unsafeUnwrap()).toEqual({ mode: 'offset', size: 10, offset: 20 });
    expect(paging({ limit: 10, offset: 20 }, sort)._unsafeUnwrap()).toEqual({ mode: 'offset', size: 10, offset: 20 });
    expect(paging({}, sort)._unsafeUnwrap()).toEqual({ mode: 'offset', size: 20, offset: 0 });
  });
  it('reads a cursor of the same sort, and refuses mixed paging', () => {
    const cursor = encodeCursor({ s: 'label:asc', v: 'b', id: '00000000-0000-4000-8000-000000000001' });
    expect(paging({ cursor, limit: 5 }, sort)._unsafeUnwrap()).toEqual({ mode: 'cursor', size: 5, after: { v: 'b', id: '00000000-0000-4000-8000-000000000001' } });
    expect(paging({ cursor, limit: 5 }, parseSort('-label')!).isErr()).toBe(true);
    expect(paging({ cursor, page: 2 }, sort).isErr()).toBe(true);
    expect(paging({ page: 2, offset: 1 }, sort).isErr()).toBe(true);
    expect(paging({ page_size: 2, limit: 1 }, sort).isErr()).toBe(true);
  });
});

describe('conversationConditions', () => {
  it('parameterises every value and escapes LIKE wildcards', () => {
    const c = conversationConditions({ label_contains: '50%_off\\', folder_prefix: '/a_b', pinned: true }, new Conditions());
    expect(c.where).toBe(
      `where c.status <> 'deleted' and c.label ilike $1 escape '\\' and (c.folder = $2 or c.folder like $3 escape '\\') and c.pinned = $4`,
    );
    expect(c.values).toEqual(['%50\\%\\_off\\\\%', '/a_b', '/a\\_b/%', true]);
  });
});
