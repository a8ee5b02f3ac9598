import { randomUUID } from 'node:crypto';
import { err, ok, type Result } from 'neverthrow';
import { executeCommand } from '../commands/execute.js';
import { redactEarlierEvents } from '../commands/purgeConversation.js';
import { loadStream } from '../commands/streamStates.js';
import type { AppDeps } from '../deps.js';
import { conversationStream, type ConversationCommand } from '../domain/conversation/index.js';
import { formatPosition } from '../eventstore/index.js';
import type { ServiceError } from '../http/errors.js';
import { planRetention, policyOf, type RetentionItem, type RetentionPlan } from './plan.js';
import { retentionActor, ruleFor } from './rules.js';

export interface RetentionReport extends RetentionPlan {
  run_id: string;
  /** Items acted on, with the position of the event written. */
  acted: (RetentionItem & { position: string })[];
  /** Items the stream no longer qualified for when the run came to them (a write in between). */
  skipped: (RetentionItem & { reason: string })[];
}

const commandOf = (action: RetentionItem['action'], at: string): ConversationCommand =>
  action === 'archive' ? { type: 'Archive', at, data: {} } : action === 'delete' ? { type: 'Delete', at, data: {} } : { type: 'Purge', at, data: {} };

/**
 * Runs the retention rules once: plans from the read model, then for each item re-checks the rule on
 * the conversation's own stream and appends the action only at the version it checked (a write in
 * between skips it), as actor `retention:<rule>`, through the same command path as the API.
 */
export async function runRetention(deps: AppDeps): Promise<Result<RetentionReport, ServiceError>> {
  const planned = await planRetention(deps);
  if (planned.isErr()) return err(planned.error);
  const plan = planned.value;
  const policy = policyOf(deps);
  const now = new Date(plan.at);
  const runId = `retention-${randomUUID()}`;
  const report: RetentionReport = { ...plan, run_id: runId, acted: [], skipped: [] };
  for (const item of plan.items) {
    const loaded = await loadStream(deps.store, conversationStream(item.conversation_id));
    if (loaded.isErr()) return err(loaded.error);
    const { state, version } = loaded.value;
    const rule = state.status === 'active' || state.status === 'archived' ? ruleFor(policy, { ...state, status: state.status }, now) : undefined;
    if (!rule || rule.name !== item.rule) {
      report.skipped.push({ ...item, reason: 'the conversation changed since the plan' });
      continue;
    }
    const outcome = await executeCommand(
      deps.store,
      item.conversation_id,
      commandOf(rule.action, plan.at),
      { actor: retentionActor(rule), requestId: runId, correlationId: runId },
      version,
      rule.action === 'purge' ? redactEarlierEvents : undefined,
    );
    if (outcome.isErr()) {
      if (typeof outcome.error === 'object' && outcome.error.type === 'version_conflict') {
        report.skipped.push({ ...item, reason: 'the conversation changed since the plan' });
        continue;
      }
      return err(outcome.error);
    }
    report.acted.push({ ...item, position: formatPosition(outcome.value.position) });
  }
  deps.logger.info(
    { run_id: runId, acted: report.acted.length, skipped: report.skipped.length, truncated: report.truncated },
    'retention run finished',
  );
  return ok(report);
}
