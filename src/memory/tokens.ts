import { countTokens } from 'gpt-tokenizer';

// Chat formats spend a few tokens per message on the role and separators (OpenAI documents ~4).
export const MESSAGE_OVERHEAD_TOKENS = 4;

/**
 * Counts of texts seen lately, by text, oldest first, up to CACHED_CHARACTERS of text in all. Counting
 * is the largest step of context assembly's own CPU (byte-pair encoding of every candidate, ~500 a
 * request: 1.4 of the service's ~12 CPU seconds over 288 requests, --cpu-prof), and the same messages
 * come back turn after turn: a pinned conversation's latest, the topic being discussed.
 */
const counted = new Map<string, number>();
let cachedCharacters = 0;
const CACHED_CHARACTERS = 4_000_000;

/** Tokens of a text (gpt-tokenizer), remembered for the texts seen lately. */
export function textTokens(text: string): number {
  const known = counted.get(text);
  if (known !== undefined) return known;
  const tokens = countTokens(text);
  // A text longer than the whole cache is counted each time rather than emptying it.
  if (text.length > CACHED_CHARACTERS) return tokens;
  counted.set(text, tokens);
  cachedCharacters += text.length;
  for (const oldest of counted.keys()) {
    if (cachedCharacters <= CACHED_CHARACTERS) break;
    counted.delete(oldest);
    cachedCharacters -= oldest.length;
  }
  return tokens;
}

/** Tokens a message costs in a context window: its text plus the per-message overhead. */
export const messageTokens = (content: string): number => textTokens(content) + MESSAGE_OVERHEAD_TOKENS;
