import { countTokens } from 'gpt-tokenizer';

// Chat formats spend a few tokens per message on the role and separators (OpenAI documents ~4).
export const MESSAGE_OVERHEAD_TOKENS = 4;

/** Tokens a message costs in a context window: its text plus the per-message overhead. */
export const messageTokens = (content: string): number => countTokens(content) + MESSAGE_OVERHEAD_TOKENS;
