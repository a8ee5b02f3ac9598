import type { MessageContent, MessageRecord } from './events.js';

/** The searchable text of a message: the string, or its text parts joined by blank lines. */
export function textOf(content: MessageContent): string {
  if (typeof content === 'string') return content;
  return content
    .filter((p): p is Extract<typeof p, { type: 'text' }> => p.type === 'text')
    .map((p) => p.text)
    .join('\n\n');
}

/** Whitespace-separated words of a text. */
export function wordCount(text: string): number {
  const trimmed = text.trim();
  return trimmed === '' ? 0 : trimmed.split(/\s+/u).length;
}

/** Words the messages hold; a purged message's are gone, and its marker is not the client's words. */
export const wordsOf = (messages: readonly MessageRecord[]): number => messages.reduce((n, m) => n + (m.redacted ? 0 : wordCount(textOf(m.content))), 0);

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** The day a timestamp falls on, in words and in UTC ("8 May 2023"); empty for an unreadable one. */
export function dayInWords(timestamp: string): string {
  const d = new Date(timestamp);
  return Number.isNaN(d.getTime()) ? '' : `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

/** The PostgreSQL text search configuration every lexical document is parsed with, and every query. */
export const TEXT_SEARCH_CONFIG = 'english';

/**
 * What full-text search finds a message by: who said it, what was said, and the day it was said.
 * Questions name people ("what did Caroline…") and days ("…in May 2023"); on LoCoMo conversations the
 * name adds ~6 and the day ~2 points of BM25 recall@5 (`npm run eval:retrieval`).
 */
export function lexicalDocument(m: { name?: string | null | undefined; text: string; timestamp: string }): string {
  return [m.name ?? '', m.text, dayInWords(m.timestamp)].filter((s) => s !== '').join('\n');
}

/** What is embedded for a message: the text, said by its participant when named ("Caroline: …"). */
export function embeddedText(name: string | null | undefined, text: string): string {
  return name ? `${name}: ${text}` : text;
}
