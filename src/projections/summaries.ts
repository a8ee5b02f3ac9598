import { loggedChange } from '../domain/conversation/index.js';
import type { RecordedEvent } from '../eventstore/index.js';
import type { ProjectionDefinition, SqlProjector } from './types.js';

/** The projection that keeps `conversation_summaries` (migration 050) from SummaryGenerated events. */
export const SUMMARIES = 'summaries';

const summariesProjector = (version: number): SqlProjector => ({
  kind: 'sql',
  name: SUMMARIES,
  version,
  handles: ['SummaryGenerated', 'ConversationDeleted', 'ConversationPurged'],
  async apply(events: RecordedEvent[], client) {
    for (const e of events) {
      const logged = loggedChange(e);
      if (!logged) continue;
      const { conversationId, change: c } = logged;
      switch (c.kind) {
        case 'summarized': {
          const d = c.summary;
          await client.query(
            `insert into conversation_summaries (summary_id, conversation_id, level, summary, model, period_start, period_end, source_count, generated_at, position)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) on conflict (summary_id) do nothing`,
            [d.summary_id, conversationId, d.level, d.summary, d.model, d.period_start, d.period_end, d.source_count, d.at, e.position.globalPosition],
          );
          break;
        }
        case 'deleted':
        case 'purged':
          // A deleted conversation's summaries go with it (a purge must not leave its content here).
          await client.query('delete from conversation_summaries where conversation_id = $1', [conversationId]);
          break;
        case 'started':
        case 'messagesAppended':
        case 'attributesChanged':
          break;
        default: {
          const unknown: never = c;
          return unknown;
        }
      }
    }
  },
});

/** One table, no blue/green: inserts are idempotent by summary id, so a rebuild replays into it safely. */
export const summariesDefinition: ProjectionDefinition = { name: SUMMARIES, create: summariesProjector };
