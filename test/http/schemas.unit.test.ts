import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load.js';
import { depthOf, folderSchema, labelSchema, messageSchema, metadataSchema, normaliseFolder } from '../../src/http/schemas.js';

const limits = { ...resolveConfig(undefined, {})._unsafeUnwrap().api, max_metadata_depth: 3, max_content_chars: 10, max_label_chars: 5, max_folder_chars: 8 };
const nested = (levels: number): Record<string, unknown> => (levels <= 1 ? { leaf: 1 } : { a: nested(levels - 1) });

describe('metadata depth', () => {
  it('counts levels of objects and arrays', () => {
    expect(depthOf({}, 10)).toBe(1);
    expect(depthOf({ a: 1 }, 10)).toBe(1);
    expect(depthOf({ a: [1, { b: 2 }] }, 10)).toBe(3);
    expect(depthOf(nested(5), 10)).toBe(5);
  });
  it('accepts exactly max_metadata_depth levels and refuses one more', () => {
    expect(metadataSchema(limits).safeParse(nested(3)).success).toBe(true);
    expect(metadataSchema(limits).safeParse(nested(4)).success).toBe(false);
  });
  it('stops counting past the limit (a hostile deep value costs little)', () => {
    let deep: unknown = {};
    for (let i = 0; i < 10_000; i++) deep = { d: deep };
    expect(depthOf(deep, 3)).toBeLessThanOrEqual(5);
  });
});

describe('folders and labels', () => {
  it('normalises folders to a leading slash without empty segments', () => {
    expect(normaliseFolder('')).toBe('/');
    expect(normaliseFolder('a//b/')).toBe('/a/b');
    expect(folderSchema(limits).parse('x/y')).toBe('/x/y');
  });
  it('limits length at the boundary', () => {
    expect(labelSchema(limits).safeParse('abcde').success).toBe(true);
    expect(labelSchema(limits).safeParse('abcdef').success).toBe(false);
    expect(folderSchema(limits).safeParse('/1234567').success).toBe(true);
    expect(folderSchema(limits).safeParse('/12345678').success).toBe(false);
  });
});

describe('message content', () => {
  it('accepts content of exactly max_content_chars and refuses one more', () => {
    expect(messageSchema(limits).safeParse({ role: 'user', content: 'x'.repeat(10) }).success).toBe(true);
    expect(messageSchema(limits).safeParse({ role: 'user', content: 'x'.repeat(11) }).success).toBe(false);
  });
  it('accepts an image-only message', () => {
    expect(messageSchema(limits).safeParse({ role: 'user', content: [{ type: 'image_url', image_url: { url: 'u' } }] }).success).toBe(true);
  });
});
