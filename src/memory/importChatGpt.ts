import { err, ok, type Result } from 'neverthrow';
import { isObject, isoTime, issue, parseAll, type ImportedConversation, type ImportIssue } from './importTypes.js';

const ROLES = new Set(['user', 'assistant', 'system', 'tool']);

/** The text of a ChatGPT message content: string parts (images and other objects are left out), or `text` (code). */
function textOf(content: unknown): string {
  if (!isObject(content)) return '';
  if (Array.isArray(content.parts)) return content.parts.filter((p): p is string => typeof p === 'string').join('\n').trim();
  return typeof content.text === 'string' ? content.text.trim() : '';
}

/**
 * The active branch of a mapping tree: from `current_node` up through parents to the root, reversed.
 * Without `current_node`, the newest leaf (last child at each step) from the root.
 */
function activeBranch(mapping: Record<string, unknown>, current: unknown, where: string): Result<Record<string, unknown>[], ImportIssue> {
  let nodeId: string | undefined = typeof current === 'string' ? current : undefined;
  if (nodeId !== undefined && !(nodeId in mapping)) return issue(`${where}.current_node`, `names node "${nodeId}", which is not in the mapping`);
  if (nodeId === undefined) {
    const roots = Object.entries(mapping).filter(([, n]) => isObject(n) && (n.parent === null || n.parent === undefined));
    if (roots.length !== 1) return issue(`${where}.mapping`, `must have exactly one root node (without a parent), found ${roots.length}`);
    nodeId = roots[0]![0];
    for (let steps = 0; ; steps++) {
      const node = mapping[nodeId] as Record<string, unknown>;
      const children = Array.isArray(node.children) ? node.children.filter((c): c is string => typeof c === 'string' && c in mapping) : [];
      if (children.length === 0 || steps > Object.keys(mapping).length) break;
      nodeId = children.at(-1)!;
    }
  }
  const path: Record<string, unknown>[] = [];
  const seen = new Set<string>();
  while (nodeId !== undefined) {
    if (seen.has(nodeId)) return issue(`${where}.mapping.${nodeId}`, 'its parents form a cycle');
    seen.add(nodeId);
    const node: unknown = mapping[nodeId];
    if (!isObject(node)) return issue(`${where}.mapping.${nodeId}`, 'must be a node object (or the parent of a node names a missing node)');
    path.push(node);
    const parent: unknown = node.parent;
    if (parent !== null && parent !== undefined && typeof parent !== 'string') return issue(`${where}.mapping.${nodeId}.parent`, 'must be a node id or null');
    nodeId = typeof parent === 'string' ? parent : undefined;
  }
  return ok(path.reverse());
}

/** One ChatGPT conversation (`title`, `create_time`, `mapping`, `current_node`) → its active branch's messages. */
export function parseChatGptConversation(item: unknown, where: string): Result<ImportedConversation, ImportIssue> {
  if (!isObject(item)) return issue(where, 'must be a conversation object');
  if (!isObject(item.mapping)) return issue(`${where}.mapping`, 'must be an object of nodes');
  const branch = activeBranch(item.mapping, item.current_node, where);
  if (branch.isErr()) return err(branch.error);
  const messages: ImportedConversation['messages'] = [];
  for (const node of branch.value) {
    const m = node.message;
    if (m === null || m === undefined) continue;
    const at = `${where}.mapping.${String(node.id)}.message`;
    if (!isObject(m)) return issue(at, 'must be a message object or null');
    const role = isObject(m.author) ? m.author.role : undefined;
    if (typeof role !== 'string' || !ROLES.has(role)) return issue(`${at}.author.role`, `must be user, assistant, system or tool, got ${JSON.stringify(role)}`);
    const metadata = isObject(m.metadata) ? m.metadata : {};
    // Hidden system prompts and empty nodes are scaffolding, not conversation.
    if (metadata.is_visually_hidden_from_conversation === true) continue;
    const text = textOf(m.content);
    if (text === '') continue;
    // The author's name when the export gives one (tools such as "browser"; named participants).
    const name = isObject(m.author) && typeof m.author.name === 'string' && m.author.name.trim() !== '' ? m.author.name : undefined;
    messages.push({ role, ...(name !== undefined ? { name } : {}), content: text, timestamp: isoTime(m.create_time), metadata: { source_id: String(m.id ?? node.id) } });
  }
  const id = item.conversation_id ?? item.id;
  return ok({
    source: 'chatgpt',
    source_id: typeof id === 'string' ? id : undefined,
    title: typeof item.title === 'string' ? item.title : undefined,
    created_at: isoTime(item.create_time),
    messages,
  });
}

/** A ChatGPT `conversations.json`: an array of conversations. */
export const parseChatGpt = (items: unknown[]) => parseAll(items, parseChatGptConversation);
