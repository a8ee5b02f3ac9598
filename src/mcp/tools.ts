import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { err, ok, type Result } from 'neverthrow';
import { commandContext, conversationView } from '../commands/http.js';
import { createConversation, createConversationBody } from '../commands/createConversation.js';
import { executeCommand, requestHash, type CommandContext } from '../commands/execute.js';
import type { ConversationCommand } from '../domain/conversation/index.js';
import { LEXICAL_STATS } from '../projections/lexicalStats.js';
import { READ_MODEL } from '../projections/readModel/schema.js';
import { awaitOwnWrites, rememberWrite } from '../queries/readYourWrites.js';
import { searchBody, searchMessages, vectorsReadyFor } from '../queries/searchMessages.js';
import { conversationAnswer, importanceSchema, folderSchema, labelSchema } from '../http/schemas.js';
import type { AppDeps } from '../deps.js';
import { apiError, toApiError, validationError, type ApiError, type ServiceError } from '../http/errors.js';
import { nullAsAbsent } from '../http/lenientBody.js';
import { errorResponses, register, unstorableError, unstorableField, type App } from '../http/openapi.js';
import { searchFiltersSchema } from '../queries/searchFilters.js';
import { assembleBody, assembleContext } from '../queries/assembleContext.js';
import { exportMany, exportQuery } from '../queries/exportConversation.js';
import { loadConversation } from '../queries/loadConversation.js';
import { conversationExportJson, conversationMarkdown } from '../queries/exportFormats.js';
import { dryRunBody, pruneDryRun, pruneExecute } from '../commands/prune.js';
import { memoryStats, statsQuery } from '../queries/stats.js';
import type { ConversationRow } from '../queries/views.js';

export type Answer = Result<unknown, ServiceError>;
export interface Tool {
  description: string;
  input: z.ZodType;
  /** The scope a call needs: read for tools that only read, write for the others (checked per call). */
  scope: 'read' | 'write';
  /** Projections this tool reads: it waits for the caller's position or own last write (read-your-writes) as the REST route does. */
  readsFrom?: string[];
  /** Called with input its schema accepted (runTool parses it first). */
  run(deps: AppDeps, c: Context, input: unknown): Promise<Answer>;
}

/** A tool whose `run` takes what its input schema outputs: the table holds it as a Tool. */
export function defineTool<S extends z.ZodType>(tool: Omit<Tool, 'input' | 'run'> & { input: S; run(deps: AppDeps, c: Context, input: z.output<S>): Promise<Answer> }): Tool {
  return tool;
}

/** The command context of a tool call; each step of a multi-step tool gets its own Idempotency-Key. */
function toolContext(c: Context, input: unknown, step = ''): Result<CommandContext, ApiError> {
  return commandContext(c, input).map((context) =>
    context.idempotency && step ? { ...context, idempotency: { key: `${context.idempotency.key}#${step}`, requestHash: requestHash('POST', `${c.req.path}#${step}`, input) } } : context,
  );
}

const uuid = z.guid({ message: 'must be a UUID' }).transform((s) => s.toLowerCase());

/** Upstream Sekha has no sessions; it stores every conversation with one, and so answers this. */
const SESSION_COUNT = 1;

/** The status upstream's memory_update sets and its tools answer: `pinned` is a status there. */
const upstreamStatus = (row: ConversationRow) => (row.status === 'active' && row.pinned ? 'pinned' : row.status);

/** A conversation as upstream's memory_get_context and memory_export describe it. */
const upstreamConversation = (row: ConversationRow) => {
  const view = conversationAnswer(row);
  return {
    label: view.label,
    status: upstreamStatus(row),
    folder: view.folder,
    importance_score: view.importance_score,
    word_count: view.word_count,
    session_count: SESSION_COUNT,
    created_at: view.created_at,
    updated_at: view.updated_at,
  };
};

/** Prune suggestions (changes nothing), upstream's defaults: untouched 30 days, importance below 5. */
export const pruneSuggestionsInput = dryRunBody.extend({ threshold_days: dryRunBody.shape.threshold_days.default(30) });

/** Prune suggestions in upstream's memory_prune shape (the REST tool and the MCP server's memory_prune_suggestions). */
export async function pruneSuggestions(d: AppDeps, input: z.infer<typeof pruneSuggestionsInput>): Promise<Answer> {
  const dry = await pruneDryRun(d, input);
  return dry.map((r) => ({
    threshold_days: input.threshold_days,
    importance_threshold: input.importance_threshold,
    total_suggestions: r.total,
    // As POST /api/v1/prune/dry-run counts it: what archiving every suggestion would save.
    estimated_token_savings: r.estimated_token_savings,
    suggestions: r.suggestions,
  }));
}

/** The tool table: the REST tool routes below and the MCP server (src/mcp/server.ts) both run these. */
export const tools = (deps: AppDeps): Record<string, Tool> => {
  const limits = deps.config.api;
  return {
    memory_store: defineTool({
      scope: 'write',
      description: 'Store a conversation (label, folder, messages, importance_score) in memory.',
      input: createConversationBody(limits),
      async run(d, c, input) {
        const context = toolContext(c, input);
        if (context.isErr()) return err(context.error);
        return (await createConversation(d, input, context.value)).map(conversationView);
      },
    }),
    memory_search: defineTool({
      scope: 'read',
      description: 'Search past messages by meaning and words (hybrid); filters by label, folder, importance, time.',
      input: z.object({
        query: z.string(),
        limit: z.number().optional(),
        offset: z.number().optional(),
        filters: searchFiltersSchema(limits).optional(),
        mode: z.enum(['semantic', 'fts', 'hybrid']).optional(),
      }),
      readsFrom: [READ_MODEL, LEXICAL_STATS],
      async run(d, c, input) {
        // The REST route's body, with its defaults and limits.
        const body = searchBody(d).safeParse(input);
        if (!body.success) return err(validationError(body.error, 'json'));
        const found = await searchMessages(d, body.data, vectorsReadyFor(d, c, body.data.mode));
        // Upstream's shape: {query, total_results, limit, results[]} with these fields per hit.
        return found.map(({ results }) => ({
          query: body.data.query,
          total_results: results.length,
          limit: body.data.limit,
          results: results.map((r) => ({
            conversation_id: r.conversation_id,
            message_id: r.message_id,
            score: r.score,
            content: r.content,
            label: r.label,
            folder: r.folder,
            timestamp: r.timestamp,
            metadata: r.metadata,
          })),
        }));
      },
    }),
    memory_update: defineTool({
      scope: 'write',
      description: 'Change a conversation: label, folder, status (active, pinned, archived), importance_score (also pinned, archived as booleans).',
      input: z.object({
        conversation_id: uuid,
        label: labelSchema(limits).optional(),
        folder: folderSchema(limits).optional(),
        status: z.enum(['active', 'pinned', 'archived'], { message: 'must be active, pinned or archived' }).optional(),
        importance_score: importanceSchema.optional(),
        pinned: z.boolean().optional(),
        archived: z.boolean().optional(),
      }),
      async run(d, c, input) {
        const at = d.clock().toISOString();
        // [step, command, the name upstream reports in updated_fields]
        const steps: [string, ConversationCommand, string][] = [];
        if (input.label !== undefined) steps.push(['label', { type: 'Relabel', at, data: { label: input.label, ...(input.folder !== undefined ? { folder: input.folder } : {}) } }, 'label/folder']);
        else if (input.folder !== undefined) steps.push(['folder', { type: 'MoveToFolder', at, data: { folder: input.folder } }, 'label/folder']);
        // Upstream's status is one of three; here a conversation is archived or not, and pinned or not.
        if (input.status === 'active' || input.status === 'pinned') steps.push(['unarchive', { type: 'Unarchive', at, data: {} }, 'status']);
        if (input.status === 'active') steps.push(['unpin', { type: 'Unpin', at, data: {} }, 'status']);
        if (input.status === 'pinned') steps.push(['pin', { type: 'Pin', at, data: {} }, 'status']);
        if (input.status === 'archived') steps.push(['archive', { type: 'Archive', at, data: {} }, 'status']);
        if (input.importance_score !== undefined) steps.push(['importance', { type: 'SetImportance', at, data: { importance_score: input.importance_score } }, 'importance_score']);
        if (input.pinned !== undefined) steps.push(input.pinned ? ['pin', { type: 'Pin', at, data: {} }, 'pinned'] : ['unpin', { type: 'Unpin', at, data: {} }, 'pinned']);
        if (input.archived !== undefined) steps.push(input.archived ? ['archive', { type: 'Archive', at, data: {} }, 'archived'] : ['unarchive', { type: 'Unarchive', at, data: {} }, 'archived']);
        if (steps.length === 0) return err(apiError('invalid_input', 'body: name at least one of label, folder, status, importance_score, pinned, archived', { field: 'body' }));
        let conversation: ReturnType<typeof conversationView> | undefined;
        for (const [name, command] of steps) {
          // One Idempotency-Key per step: each step is its own write.
          const context = toolContext(c, input, name);
          if (context.isErr()) return err(context.error);
          const done = await executeCommand(d.store, input.conversation_id, command, context.value);
          if (done.isErr()) return err(done.error);
          conversation = conversationView(done.value);
        }
        return ok({
          conversation_id: input.conversation_id,
          updated_fields: [...new Set(steps.map(([, , field]) => field))],
          message: 'Conversation updated successfully',
          // Beyond upstream: the conversation after the change and its position (read-your-writes).
          conversation,
          position: conversation?.position,
        });
      },
    }),
    memory_get_context: defineTool({
      scope: 'read',
      description: "One conversation's details: label, status, folder, importance, word count, times (upstream's memory_get_context).",
      input: z.object({ conversation_id: uuid }),
      readsFrom: [READ_MODEL],
      async run(d, _c, input) {
        const loaded = await loadConversation(d.pools.read, input.conversation_id);
        return loaded.map(({ conversation }) => ({ conversation_id: conversation.id, ...upstreamConversation(conversation) }));
      },
    }),
    memory_assemble_context: defineTool({
      scope: 'read',
      description: 'Assemble the most relevant past messages for a query within a token budget, with citations.',
      input: assembleBody(deps),
      readsFrom: [READ_MODEL, LEXICAL_STATS],
      run: (d, _c, input) => assembleContext(d, input),
    }),
    memory_prune: defineTool({
      scope: 'write',
      description: 'Suggest conversations to archive (dry run, default: untouched 30 days, importance below 5), or archive the given conversation_ids with execute=true.',
      input: z.union([
        pruneSuggestionsInput.extend({ execute: z.literal(false).optional() }),
        z.object({ execute: z.literal(true), conversation_ids: z.array(uuid).min(1, 'must have at least one id').max(1000) }),
      ]),
      readsFrom: [READ_MODEL],
      async run(d, c, input) {
        if (!input.execute) return pruneSuggestions(d, input);
        const context = commandContext(c, input);
        if (context.isErr()) return err(context.error);
        return pruneExecute(d, input.conversation_ids, context.value);
      },
    }),
    memory_export: defineTool({
      scope: 'read',
      description: 'Export one conversation (conversation_id) with its messages, or those with a label and/or under a folder, as json or markdown.',
      input: exportQuery(deps).extend({ conversation_id: uuid.optional(), include_metadata: z.boolean().default(true) }),
      readsFrom: [READ_MODEL],
      async run(d, _c, input) {
        if (!input.conversation_id) return exportMany(d, input);
        const loaded = await loadConversation(d.pools.read, input.conversation_id);
        return loaded.map((l) => {
          const document = conversationExportJson(l);
          return {
            conversation: { id: l.conversation.id, ...upstreamConversation(l.conversation) },
            messages: document.messages.map(({ metadata, ...m }) => (input.include_metadata ? { ...m, metadata } : m)),
            format: input.format,
            include_metadata: input.include_metadata,
            // Beyond upstream: the rendered export (Markdown text, or the JSON document).
            content: input.format === 'markdown' ? conversationMarkdown(l) : document,
          };
        });
      },
    }),
    memory_stats: defineTool({
      scope: 'read',
      description: 'Totals, average importance, folders and labels, optionally for a folder and/or label.',
      input: statsQuery(deps),
      readsFrom: [READ_MODEL],
      run: (d, _c, input) => memoryStats(d, input),
    }),
  };
};

/**
 * Runs a tool as its REST route would run: a value PostgreSQL cannot store and bad input are refused
 * naming the field (null is absent), a reading tool first waits for the caller's own writes, and a
 * write is remembered for the caller's next reads. The REST tool routes and the MCP server use this.
 */
export async function runTool(deps: AppDeps, c: Context, tool: Tool, args: unknown): Promise<Answer> {
  const unstorable = unstorableField(args);
  if (unstorable) return err(unstorableError(unstorable));
  const parsed = tool.input.safeParse(nullAsAbsent(tool.input)(args));
  if (!parsed.success) return err(validationError(parsed.error, 'json'));
  if (tool.readsFrom) {
    const readable = await awaitOwnWrites(deps, c, tool.readsFrom);
    if (readable.isErr()) return err(readable.error);
  }
  const answer = await tool.run(deps, c, parsed.data);
  if (answer.isOk()) {
    const position = writePosition(answer.value);
    if (position) await rememberWrite(deps, c, position);
  }
  return answer;
}

/** The position a writing tool's answer carries (`position`), if any. */
function writePosition(data: unknown): string | undefined {
  const raw = typeof data === 'object' && data !== null ? (data as { position?: unknown }).position : undefined;
  return typeof raw === 'string' ? raw : undefined;
}

/** A tool's input as JSON Schema (what GET /mcp/tools and the MCP server's tools/list show). */
export const inputJsonSchema = (t: Tool) => z.toJSONSchema(t.input, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;

/** Sekha's MCP tool routes: GET /mcp/tools lists them with JSON schemas; POST /mcp/tools/{name} runs one. */
export const mcpRoutes = (deps: AppDeps) => (app: App) => {
  const all = tools(deps);
  const list = Object.entries(all).map(([name, t]) => ({ name, description: t.description, input_schema: inputJsonSchema(t) }));
  register(
    app,
    createRoute({ method: 'get', path: '/mcp/tools', tags: ['mcp'], summary: 'The MCP tools with their input JSON schemas', responses: { 200: { description: 'A JSON array of `{name, description, input_schema}`' }, ...errorResponses } }),
    // A bare array, as clients type it.
    (c) => c.json(list),
  );
  const fail = (c: Context, e: ServiceError) => {
    const a: ApiError = toApiError(e);
    // A read that waited for the caller's write in vain says when to retry, as the REST routes do.
    if (a.retryAfterSeconds !== undefined) c.header('Retry-After', String(a.retryAfterSeconds));
    return c.json({ success: false, data: null, error: a.message, code: a.code, ...(a.details ? { details: a.details } : {}) }, a.status);
  };
  // One route per tool, so that auth sees which tool is called (read tools need only the read scope).
  for (const [name, tool] of Object.entries(all)) {
    register(
      app,
      createRoute({
        method: 'post',
        path: `/mcp/tools/${name}`,
        tags: ['mcp'],
        summary: `MCP tool ${name}: ${tool.description}`,
        description: 'Body: the arguments, bare or as `{arguments}`. Answers `{success, data, error}`; a failure keeps its HTTP status.',
        responses: { 200: { description: '`{success: true, data, error: null}`' }, ...errorResponses },
      }),
      async (c) => {
        let raw: unknown = {};
        const text = await c.req.text();
        if (text.trim() !== '') {
          try {
            raw = JSON.parse(text);
          } catch (e) {
            return fail(c, apiError('invalid_json', `body is not valid JSON: ${(e as Error).message}`));
          }
        }
        // Clients wrap arguments as {arguments: {...}} (MCP) or send them bare.
        const args = typeof raw === 'object' && raw !== null && 'arguments' in raw ? (raw as { arguments: unknown }).arguments : raw;
        const answer = await runTool(deps, c, tool, args);
        return answer.match((data) => c.json({ success: true, data, error: null }), (e) => fail(c, e));
      },
      tool.scope,
    );
  }
  // No catch-all route: auth decides the scope from the matched route, and a `{name}` route would match every tool.
};
