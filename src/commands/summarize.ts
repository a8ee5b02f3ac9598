import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { err, ok, type Result } from 'neverthrow';
import { Ollama } from 'ollama';
import { executeCommand, type CommandContext } from './execute.js';
import { commandContext } from './http.js';
import { SUMMARY_LEVELS, type SummaryLevel } from '../domain/conversation/index.js';
import type { Embedder } from '../embeddings/index.js';
import { formatPosition } from '../eventstore/index.js';
import type { AppDeps } from '../deps.js';
import { apiError, errorResponse, unavailable, type ServiceError } from '../http/errors.js';
import { consistencyParams, readYourWrites } from '../queries/readYourWrites.js';
import { SUMMARIES } from '../projections/summaries.js';
import { READ_MODEL } from '../projections/readModel/schema.js';
import { errorResponses, register, type App } from '../http/openapi.js';
import { readQuery } from '../queries/sql.js';
import { centralSentences, splitSentences } from '../memory/extractive.js';
import { loadConversation } from '../queries/loadConversation.js';
import { periodOf, ROLLS_UP } from '../memory/summaryPeriod.js';

export const summarizeBody = z.object({
  conversation_id: z.guid({ message: 'must be a UUID' }).transform((s) => s.toLowerCase()),
  level: z.enum(SUMMARY_LEVELS, { message: 'must be daily, weekly or monthly' }).default('daily'),
});
export type SummarizeInput = z.infer<typeof summarizeBody>;

export const EXTRACTIVE = 'extractive';

/** The configured embedder of this process's vector service (the one that embeds messages). */
const sentenceEmbedder = (deps: AppDeps): Embedder | undefined => deps.vectors?.embedders.embedderFor(deps.vectors.embedders.configuredModel);

/** Texts to summarize for a level: messages of the period, or the summaries of the level below (rolled up). */
async function sources(deps: AppDeps, id: string, level: SummaryLevel, period: { start: Date; end: Date }, messages: { role: string; content: string; timestamp: Date }[]) {
  for (const below of ROLLS_UP[level]) {
    const rows = await readQuery<{ summary: string }>(
      deps.pools.read,
      `select distinct on (period_start) summary from conversation_summaries
        where conversation_id = $1 and level = $2 and period_start >= $3 and period_start < $4 order by period_start, generated_at desc`,
      [id, below, period.start, period.end],
    );
    if (rows.isErr()) return err(rows.error);
    if (rows.value.length > 0) return ok({ texts: rows.value.map((r) => r.summary), from: below });
  }
  const inPeriod = messages.filter((m) => m.timestamp >= period.start && m.timestamp < period.end);
  return ok({ texts: inPeriod.map((m) => `${m.content}`), from: 'messages' as const });
}

async function generate(deps: AppDeps, level: SummaryLevel, texts: string[]): Promise<Result<{ summary: string; model: string }, ServiceError>> {
  const url = deps.config.embedding.ollama_url;
  if (url && deps.config.summaries.enabled) {
    const model = deps.config.summaries.model;
    const prompt = `Summarize the following ${level === 'daily' ? 'conversation' : `${level === 'weekly' ? 'daily' : 'weekly'} summaries`} in a few sentences. Keep facts, decisions and open questions.\n\n${texts.join('\n\n')}`;
    try {
      const answer = await new Ollama({ host: url }).generate({ model, prompt, stream: false });
      return ok({ summary: String(answer.response ?? '').trim(), model });
    } catch (e) {
      deps.logger.warn({ err: { message: (e as Error).message } }, 'summary generation failed');
      return err(unavailable('the summarization model'));
    }
  }
  const sentences = texts.flatMap(splitSentences);
  if (sentences.length <= 1) return ok({ summary: sentences.join(' '), model: EXTRACTIVE });
  const embedder = sentenceEmbedder(deps);
  if (!embedder) return err(unavailable('the embedder'));
  try {
    const vectors = await embedder.embed(sentences);
    return ok({ summary: centralSentences(sentences, vectors).join(' '), model: EXTRACTIVE });
  } catch (e) {
    deps.logger.warn({ err: { message: (e as Error).message } }, 'embedding for an extractive summary failed');
    return err(unavailable('the embedder'));
  }
}

/** Summarizes the conversation's latest day, week or month and records it as a SummaryGenerated event. */
export async function summarize(deps: AppDeps, input: SummarizeInput, context: CommandContext) {
  const loaded = await loadConversation(deps.pools.read, input.conversation_id);
  if (loaded.isErr()) return err(loaded.error);
  const { conversation, messages } = loaded.value;
  const last = messages.at(-1)?.timestamp ?? conversation.updated_at;
  const period = periodOf(input.level, new Date(last));
  const from = await sources(deps, conversation.id, input.level, period, messages);
  if (from.isErr()) return err(from.error);
  if (from.value.texts.length === 0) return err(apiError('nothing_to_summarize', 'the conversation has no messages to summarize'));
  const made = await generate(deps, input.level, from.value.texts);
  if (made.isErr()) return err(made.error);
  const data = {
    summary_id: randomUUID(),
    level: input.level,
    summary: made.value.summary,
    model: made.value.model,
    period_start: period.start.toISOString(),
    period_end: period.end.toISOString(),
    source_count: from.value.texts.length,
  };
  const at = deps.clock().toISOString();
  const recorded = await executeCommand(deps.store, conversation.id, { type: 'RecordSummary', at, data }, context);
  if (recorded.isErr()) return err(recorded.error);
  return ok({ conversation_id: conversation.id, ...data, rolled_up_from: from.value.from, generated_at: at, position: formatPosition(recorded.value.position) });
}

export const summarizeRoutes = (deps: AppDeps) => (app: App) => {
  register(
    app,
    createRoute({
      method: 'post',
      path: '/api/v1/summarize',
      tags: ['memory'],
      summary: "Summarize a conversation's latest day, week (rolls up daily summaries) or month (rolls up weekly ones)",
      description: 'With Ollama configured: its generate API with `summaries.model`; otherwise an extractive summary (the most central sentences by embedding), `model: "extractive"`.',
      // Reads the conversation and, to roll up, the summaries below: both must have caught up.
      middleware: [readYourWrites(deps, [READ_MODEL, SUMMARIES])] as const,
      request: {
        query: z.object(consistencyParams(deps)), body: { required: true, content: { 'application/json': { schema: summarizeBody } } } },
      responses: { 200: { description: '`{conversation_id, level, summary, model, generated_at, …}`' }, ...errorResponses, 404: { description: 'Unknown conversation' } },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const context = commandContext(c, body);
      if (context.isErr()) return errorResponse(c, context.error);
      return (await summarize(deps, body, context.value)).match(
        (answer) => {
          c.header('X-Sekha-Position', answer.position);
          return c.json(answer);
        },
        (e) => errorResponse(c, e),
      );
    },
  );
};
