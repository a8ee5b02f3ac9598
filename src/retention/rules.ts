import type { RetentionRule } from '../config/schema.js';
import type { ConversationDetails } from '../domain/conversation/index.js';

/** What a rule looks at: a conversation that is not deleted. */
export type RetainedConversation = Pick<ConversationDetails, 'id' | 'label' | 'folder' | 'pinned' | 'importance_score' | 'updated_at' | 'last_message_at'> & {
  status: 'active' | 'archived';
};

export interface RetentionPolicy {
  keep_importance_at_least: number;
  rules: readonly RetentionRule[];
}

export type RetentionAction = RetentionRule['action'];

const DAY_MS = 86_400_000;
const SEVERITY: Record<RetentionAction, number> = { archive: 1, delete: 2, purge: 3 };

/** When the conversation last changed or got a message (the same activity prune looks at). */
export const lastActivity = (c: Pick<RetainedConversation, 'updated_at' | 'last_message_at'>): number =>
  Math.max(Date.parse(c.updated_at), c.last_message_at ? Date.parse(c.last_message_at) : 0);

/** "/work" matches "/work" and "/work/…", not "/workshop"; "/" matches every folder. */
export const inFolder = (folder: string, prefix: string): boolean => {
  const base = prefix.length > 1 ? prefix.replace(/\/+$/, '') : prefix;
  return base === '/' || folder === base || folder.startsWith(`${base}/`);
};

/** Whether a rule acts on a conversation now. Archiving an archived conversation does nothing. */
export function ruleApplies(rule: RetentionRule, policy: RetentionPolicy, c: RetainedConversation, now: Date): boolean {
  if (rule.folder !== undefined && !inFolder(c.folder, rule.folder)) return false;
  if (rule.label !== undefined && c.label !== rule.label) return false;
  if (rule.action === 'archive' && c.status !== 'active') return false;
  if (c.pinned && !rule.include_pinned) return false;
  if (c.importance_score >= policy.keep_importance_at_least && !rule.include_important) return false;
  return now.getTime() - lastActivity(c) >= rule.after_days * DAY_MS;
}

/** The rule that acts on a conversation: of those that apply, the most severe action, then the first listed. */
export function ruleFor(policy: RetentionPolicy, c: RetainedConversation, now: Date): RetentionRule | undefined {
  let chosen: RetentionRule | undefined;
  for (const rule of policy.rules) {
    if (!ruleApplies(rule, policy, c, now)) continue;
    if (!chosen || SEVERITY[rule.action] > SEVERITY[chosen.action]) chosen = rule;
  }
  return chosen;
}

/** The actor recorded on a rule's events. */
export const retentionActor = (rule: Pick<RetentionRule, 'name'>) => `retention:${rule.name}`;
