import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { err, ok, type Result } from 'neverthrow';
import { commandContext, conversationView } from '../commands/http.js';
import { createConversation, createConversationBody } from '../commands/createConversation.js';
import { executeCommand, requestHash, type CommandContext } from '../commands/execute.js';
import type { ConversationCommand } from '../domain/conversation/index.js';
import { LEXICAL_STATS } from '../projections/lexicalStats.js';
import { READ_MODEL } from '../projections/readModel/schema.js';
import { readYourWrites } from '../queries/readYourWrites.js';
import { searchBody, searchMessages, vectorsReadyFor } from '../queries/searchMessages.js';
import { importanceSchema, folderSchema, labelSchema } from '../http/schemas.js';
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

export type Answer = Result<unknown, ServiceError>;
export interface Tool {
  description: string;
  input: z.ZodType;
  /** Projections this tool reads: it waits for the caller's position (read-your-writes) as the REST route does. */
  readsFrom?: string[];
  run(deps: AppDeps, c: Context, input: any): Promise<Answer>;
}

/** The command context of a tool call; each step of a multi-step tool gets its own Idempotency-Key. */
function toolContext(c: Context, input: unknown, step = ''): Result<CommandContext, ApiError> {
  return commandContext(c, input).map((context) =>
    context.idempotency && step ? { ...context, idempotency: { key: `${context.idempotency.key}#${step}`, requestHash: requestHash('POST', `${c.req.path}#${step}`, input) } } : context,
  );
}

const uuid = z.guid({ message: 'must be a UUID' }).transform((s) => s.toLowerCase());

/** The tool table: the REST tool routes below and the MCP server (src/mcp/server.ts) both run these. */
export const tools = (deps: AppDeps): Record<string, Tool> => {
  const limits = deps.config.api;
  return {
    memory_store: {
      description: 'Store a conversation (label, folder, messages, importance_score) in memory.',
      input: createConversationBody(limits),
      async run(d, c, input) {
        const context = toolContext(c, input);
        if (context.isErr()) return err(context.error);
        return (await createConversation(d, input, context.value)).map(conversationView);
      },
    },
    memory_search: {
      description: 'Search past messages by meaning and words (hybrid); filters by label, folder, importance, time.',
      input: z.object({ query: z.string(), limit: z.number().optional(), filters: searchFiltersSchema(limits).optional(), mode: z.enum(['semantic', 'fts', 'hybrid']).optional() }),
      readsFrom: [READ_MODEL, LEXICAL_STATS],
      async run(d, c, input) {
        // The REST route's body, with its defaults and limits.
        const body = searchBody(d).safeParse(input);
        if (!body.success) return err(validationError(body.error, 'json'));
        return searchMessages(d, body.data, vectorsReadyFor(d, c, body.data.mode));
      },
    },
    memory_update: {
      description: 'Change a conversation: label, folder, importance_score, pinned, archived.',
      input: z.object({
        conversation_id: uuid,
        label: labelSchema(limits).optional(),
        folder: folderSchema(limits).optional(),
        importance_score: importanceSchema.optional(),
        pinned: z.boolean().optional(),
        archived: z.boolean().optional(),
      }),
      async run(d, c, input) {
        const at = d.clock().toISOString();
        const steps: [string, ConversationCommand][] = [];
        if (input.label !== undefined) steps.push(['label', { type: 'Relabel', at, data: { label: input.label, ...(input.folder !== undefined ? { folder: input.folder } : {}) } }]);
        else if (input.folder !== undefined) steps.push(['folder', { type: 'MoveToFolder', at, data: { folder: input.folder } }]);
        if (input.importance_score !== undefined) steps.push(['importance', { type: 'SetImportance', at, data: { importance_score: input.importance_score } }]);
        if (input.pinned !== undefined) steps.push(input.pinned ? ['pin', { type: 'Pin', at, data: {} }] : ['unpin', { type: 'Unpin', at, data: {} }]);
        if (input.archived !== undefined) steps.push(input.archived ? ['archive', { type: 'Archive', at, data: {} }] : ['unarchive', { type: 'Unarchive', at, data: {} }]);
        if (steps.length === 0) return err(apiError(400, 'invalid_input', 'body: name at least one of label, folder, importance_score, pinned, archived', { field: 'body' }));
        let last: Answer = ok(undefined);
        for (const [step, command] of steps) {
          // One Idempotency-Key per step: each step is its own write.
          const context = toolContext(c, input, step);
          if (context.isErr()) return err(context.error);
          last = (await executeCommand(d.store, input.conversation_id, command, context.value)).map(conversationView);
          if (last.isErr()) return last;
        }
        return last;
      },
    },
    memory_get_context: {
      description: 'Assemble the most relevant past messages for a query within a token budget, with citations.',
      input: assembleBody(deps),
      run: (d, _c, input) => assembleContext(d, input),
    },
    memory_prune: {
      description: 'Suggest conversations to archive (dry run, default), or archive the given conversation_ids with execute=true.',
      input: z.union([dryRunBody.extend({ execute: z.literal(false).optional() }), z.object({ execute: z.literal(true), conversation_ids: z.array(uuid).min(1, 'must have at least one id').max(1000) })]),
      async run(d, c, input) {
        if (!input.execute) return pruneDryRun(d, input);
        const context = commandContext(c, input);
        if (context.isErr()) return err(context.error);
        return pruneExecute(d, input.conversation_ids, context.value);
      },
    },
    memory_export: {
      description: 'Export one conversation (conversation_id) or those with a label and/or under a folder, as json or markdown.',
      input: exportQuery(deps).extend({ conversation_id: uuid.optional() }),
      async run(d, _c, input) {
        if (!input.conversation_id) return exportMany(d, input);
        const loaded = await loadConversation(d.pools.read, input.conversation_id);
        return loaded.map((l) => ({ format: input.format, count: 1, content: input.format === 'markdown' ? conversationMarkdown(l) : conversationExportJson(l) }));
      },
    },
    memory_stats: {
      description: 'Totals, average importance, folders and labels, optionally for a folder and/or label.',
      input: statsQuery(deps),
      run: (d, _c, input) => memoryStats(d, input),
    },
  };
};

/** A tool's input as JSON Schema (what GET /mcp/tools and the MCP server's tools/list show). */
export const inputJsonSchema = (t: Tool) => z.toJSONSchema(t.input, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;

/** Sekha's MCP tool routes: GET /mcp/tools lists them with JSON schemas; POST /mcp/tools/{name} runs one. */
export const mcpRoutes = (deps: AppDeps) => (app: App) => {
  const all = tools(deps);
  const list = Object.entries(all).map(([name, t]) => ({ name, description: t.description, input_schema: inputJsonSchema(t) }));
  register(
    app,
    createRoute({ method: 'get', path: '/mcp/tools', tags: ['mcp'], summary: 'The MCP tools with their input JSON schemas', responses: { 200: { description: '`{tools[]}`' }, ...errorResponses } }),
    (c) => c.json({ tools: list }),
  );
  const fail = (c: Context, e: ServiceError) => {
    const a: ApiError = toApiError(e);
    return c.json({ success: false, data: null, error: a.message, code: a.code, ...(a.details ? { details: a.details } : {}) }, a.status);
  };
  // One route per tool, so that auth sees which tool is called (read tools need only the read scope).
  for (const [name, tool] of Object.entries(all)) {
    const normalize = nullAsAbsent(tool.input);
    register(
      app,
      createRoute({
        method: 'post',
        path: `/mcp/tools/${name}`,
        tags: ['mcp'],
        summary: `MCP tool ${name}: ${tool.description}`,
        description: 'Body: the arguments, bare or as `{arguments}`. Answers `{success, data, error}`; a failure keeps its HTTP status.',
        ...(tool.readsFrom ? { middleware: [readYourWrites(deps, tool.readsFrom)] as const } : {}),
        responses: { 200: { description: '`{success: true, data, error: null}`' }, ...errorResponses },
      }),
      async (c) => {
        let raw: unknown = {};
        const text = await c.req.text();
        if (text.trim() !== '') {
          try {
            raw = JSON.parse(text);
          } catch (e) {
            return fail(c, apiError(400, 'invalid_json', `body is not valid JSON: ${(e as Error).message}`));
          }
        }
        // Clients wrap arguments as {arguments: {...}} (MCP) or send them bare.
        const args = typeof raw === 'object' && raw !== null && 'arguments' in raw ? (raw as { arguments: unknown }).arguments : raw;
        const unstorable = unstorableField(args);
        if (unstorable) return fail(c, unstorableError(unstorable));
        const parsed = tool.input.safeParse(normalize(args));
        if (!parsed.success) return fail(c, validationError(parsed.error, 'json'));
        const answer = await tool.run(deps, c, parsed.data);
        return answer.match((data) => c.json({ success: true, data, error: null }), (e) => fail(c, e));
      },
    );
  }
  // No catch-all route: auth decides the scope from the matched route, and a `{name}` route would match every tool.
};
