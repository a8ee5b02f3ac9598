import { conversationAnswer } from '../http/schemas.js';
import { messageJson } from './views.js';
import type { LoadedConversation } from './loadConversation.js';

const ROLE_HEADERS = { user: 'User', assistant: 'Assistant', system: 'System', tool: 'Tool' } as const;

/** A conversation as JSON: the conversation with its messages, as GET ?include=messages answers. */
export const conversationExportJson = ({ conversation, messages }: LoadedConversation) => ({ ...conversationAnswer(conversation), messages: messages.map(messageJson) });

/**
 * A conversation as Markdown: `# label`, a details list, then `## User` / `## Assistant`… sections (with
 * the participant's name in brackets when the message has one: `## User (Caroline)`) and their timestamp
 * in italics; the import reads this shape back.
 */
export function conversationMarkdown({ conversation: c, messages }: LoadedConversation): string {
  const lines = [
    `# ${c.label}`,
    '',
    `- conversation_id: ${c.id}`,
    `- folder: ${c.folder}`,
    `- importance_score: ${c.importance_score}`,
    `- created_at: ${new Date(c.created_at).toISOString()}`,
    '',
  ];
  for (const m of messages) {
    const header = `${ROLE_HEADERS[m.role as keyof typeof ROLE_HEADERS] ?? m.role}${m.name ? ` (${m.name})` : ''}`;
    lines.push(`## ${header}`, `_${new Date(m.timestamp).toISOString()}_`, '', m.content, '');
  }
  return lines.join('\n');
}
