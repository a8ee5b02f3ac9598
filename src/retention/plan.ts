import { err, ok, type Result } from 'neverthrow';
import type { AppDeps } from '../deps.js';
import type { ApiError } from '../http/errors.js';
import { Conditions, readQuery } from '../queries/sql.js';
import { lastActivity, ruleFor, type RetainedConversation, type RetentionAction, type RetentionPolicy } from './rules.js';

/** One conversation the next run would act on, and why. */
export interface RetentionItem {
  conversation_id: string;
  label: string;
  folder: string;
  rule: string;
  action: RetentionAction;
  last_activity: string;
}

export interface RetentionPlan {
  /** The time the rules were evaluated at (the clock). */
  at: string;
  items: RetentionItem[];
  /** More conversations are due than one run acts on (retention.max_per_run); the next run takes them. */
  truncated: boolean;
}

type Row = Omit<RetainedConversation, 'updated_at' | 'last_message_at'> & { updated_at: Date; last_message_at: Date | null };

export const policyOf = (deps: AppDeps): RetentionPolicy => deps.config.retention;

/**
 * What a run would do now: per rule, the read model's candidates (a pre-filter on indexes), then the
 * one pure decision (`ruleFor`) for each conversation, so a conversation several rules match gets one
 * action. The run re-checks each item against its event stream before acting.
 */
export async function planRetention(deps: AppDeps): Promise<Result<RetentionPlan, ApiError>> {
  const policy = policyOf(deps);
  const now = deps.clock();
  const limit = deps.config.retention.max_per_run;
  const found = new Map<string, RetainedConversation>();
  for (const rule of policy.rules) {
    const where = new Conditions()
      .add(rule.action === 'archive' ? "c.status = 'active'" : "c.status in ('active', 'archived')")
      .add('greatest(c.updated_at, coalesce(c.last_message_at, c.updated_at)) <= ?::timestamptz', new Date(now.getTime() - rule.after_days * 86_400_000).toISOString());
    if (rule.folder !== undefined && rule.folder.replace(/\/+$/, '') !== '') {
      const base = rule.folder.replace(/\/+$/, '');
      where.add('(c.folder = ? or starts_with(c.folder, ?))', base, `${base}/`);
    }
    if (rule.label !== undefined) where.add('c.label = ?', rule.label);
    if (!rule.include_pinned) where.add('not c.pinned');
    if (!rule.include_important) where.add('c.importance_score < ?', policy.keep_importance_at_least);
    const rows = await readQuery<Row>(
      deps.pools.read,
      `select c.id::text as id, c.label, c.folder, c.status, c.pinned, c.importance_score, c.updated_at, c.last_message_at
         from conversations c ${where.where}
        order by greatest(c.updated_at, coalesce(c.last_message_at, c.updated_at)), c.id limit ${where.param(limit + 1)}`,
      where.values,
    );
    if (rows.isErr()) return err(rows.error);
    for (const r of rows.value) {
      found.set(r.id, { ...r, updated_at: r.updated_at.toISOString(), last_message_at: r.last_message_at ? r.last_message_at.toISOString() : null });
    }
  }
  const items: RetentionItem[] = [];
  for (const c of found.values()) {
    const rule = ruleFor(policy, c, now);
    if (!rule) continue;
    items.push({ conversation_id: c.id, label: c.label, folder: c.folder, rule: rule.name, action: rule.action, last_activity: new Date(lastActivity(c)).toISOString() });
  }
  items.sort((a, b) => a.last_activity.localeCompare(b.last_activity) || a.conversation_id.localeCompare(b.conversation_id));
  return ok({ at: now.toISOString(), items: items.slice(0, limit), truncated: items.length > limit });
}
