import { ok, type Result } from 'neverthrow';
import { isoTime, issue, type ImportedConversation, type ImportIssue } from './importTypes.js';

const ROLE_NAMES: Record<string, string> = { user: 'user', human: 'user', you: 'user', assistant: 'assistant', ai: 'assistant', claude: 'assistant', chatgpt: 'assistant', system: 'system', tool: 'tool' };
const NAMES = Object.keys(ROLE_NAMES).join('|');
// `## User`, `### Assistant:`, `## User (Caroline)` (our export with a participant's name); or a bold speaker line `**User:** text`.
const HEADER = new RegExp(`^#{1,6}\\s*(${NAMES})\\s*(?:\\(([^()]{1,100})\\))?\\s*:?\\s*$`, 'i');
const BOLD = new RegExp(`^\\*\\*(${NAMES})\\s*:?\\s*\\*\\*\\s*:?\\s*(.*)$`, 'i');
const TITLE = /^#\s+(.+?)\s*$/;
const TIME = /^_(\d{4}-\d\d-\d\dT[^_]+)_\s*$/;

/** Markdown with role headers (as our export writes it, and as chat tools copy conversations). */
export function parseMarkdown(text: string): Result<ImportedConversation, ImportIssue> {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  let title: string | undefined;
  const messages: ImportedConversation['messages'] = [];
  let current: { role: string; name?: string | undefined; lines: string[]; timestamp?: string | undefined; line: number } | undefined;
  const flush = () => {
    if (current) {
      const content = current.lines.join('\n').trim();
      if (content !== '') messages.push({ role: current.role, ...(current.name ? { name: current.name } : {}), content, timestamp: current.timestamp, metadata: { source_line: current.line } });
    }
  };
  for (const [i, line] of lines.entries()) {
    const header = HEADER.exec(line);
    const bold = header ? null : BOLD.exec(line);
    if (header || bold) {
      flush();
      current = { role: ROLE_NAMES[(header ?? bold)![1]!.toLowerCase()]!, name: header?.[2]?.trim(), lines: bold?.[2] ? [bold[2]] : [], line: i + 1 };
      continue;
    }
    if (!current) {
      const t = TITLE.exec(line);
      if (t && title === undefined) title = t[1];
      continue;
    }
    const time = TIME.exec(line);
    if (time && current.lines.length === 0 && current.timestamp === undefined) {
      current.timestamp = isoTime(time[1]);
      continue;
    }
    current.lines.push(line);
  }
  flush();
  if (messages.length === 0) return issue('body', 'Markdown has no role sections: expected headers such as "## User" and "## Assistant", or lines such as "**User:** …"');
  return ok({ source: 'markdown', title, messages });
}
