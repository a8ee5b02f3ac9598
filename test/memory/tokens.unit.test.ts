import fc from 'fast-check';
import { countTokens } from 'gpt-tokenizer';
import { describe, expect, it } from 'vitest';
import { MESSAGE_OVERHEAD_TOKENS, messageTokens, textTokens } from '../../src/memory/tokens.js';

describe('token counts', () => {
  it('are gpt-tokenizer’s, asked once or again, and a message adds its overhead', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 200 }), { minLength: 1, maxLength: 20 }), (texts) => {
        for (const t of [...texts, ...texts.reverse()]) {
          expect(textTokens(t)).toBe(countTokens(t));
          expect(messageTokens(t)).toBe(countTokens(t) + MESSAGE_OVERHEAD_TOKENS);
        }
      }),
    );
  });

  it('stay right once the texts seen outgrow what is remembered, and for a text larger than all of it', () => {
    const texts = Array.from({ length: 120 }, (_, i) => `${i} `.repeat(20_000 + i));
    for (const t of texts) expect(textTokens(t)).toBe(countTokens(t));
    for (const t of texts.slice(0, 10)) expect(textTokens(t)).toBe(countTokens(t));
    const huge = 'a b '.repeat(1_100_000);
    expect(textTokens(huge)).toBe(countTokens(huge));
    expect(textTokens('short')).toBe(countTokens('short'));
  });
});
