import { ok, type Result } from 'neverthrow';
import { isObject, isoTime, issue, parseAll, type ImportedConversation, type ImportIssue } from './importTypes.js';

const SENDERS: Record<string, string> = { human: 'user', user: 'user', assistant: 'assistant' };

/** The text of a Claude message: `text`, else its text content blocks. */
function textOf(m: Record<string, unknown>): string {
  if (typeof m.text === 'string' && m.text.trim() !== '') return m.text.trim();
  if (!Array.isArray(m.content)) return '';
  return m.content
    .filter((b): b is { text: string } => isObject(b) && b.type === 'text' && typeof b.text === 'string')
    .map((b) => b.text)
    .join('\n')
    .trim();
}

/** One Claude conversation (`uuid`, `name`, `created_at`, `chat_messages[]`). */
export function parseClaudeConversation(item: unknown, where: string): Result<ImportedConversation, ImportIssue> {
  if (!isObject(item)) return issue(where, 'must be a conversation object');
  if (!Array.isArray(item.chat_messages)) return issue(`${where}.chat_messages`, 'must be an array of messages');
  const messages: ImportedConversation['messages'] = [];
  for (const [i, m] of item.chat_messages.entries()) {
    const at = `${where}.chat_messages[${i}]`;
    if (!isObject(m)) return issue(at, 'must be a message object');
    const role = typeof m.sender === 'string' ? SENDERS[m.sender] : undefined;
    if (!role) return issue(`${at}.sender`, `must be human or assistant, got ${JSON.stringify(m.sender)}`);
    const text = textOf(m);
    if (text === '') continue;
    messages.push({ role, content: text, timestamp: isoTime(m.created_at), metadata: typeof m.uuid === 'string' ? { source_id: m.uuid } : {} });
  }
  return ok({
    source: 'claude',
    source_id: typeof item.uuid === 'string' ? item.uuid : undefined,
    title: typeof item.name === 'string' && item.name.trim() !== '' ? item.name : undefined,
    created_at: isoTime(item.created_at),
    messages,
  });
}

export const parseClaude = (items: unknown[]) => parseAll(items, parseClaudeConversation);
