import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { err } from 'neverthrow';
import { commandContext } from '../commands/http.js';
import { summarize, summarizeBody } from '../commands/summarize.js';
import type { AppDeps } from '../deps.js';
import { grants } from '../http/auth/scopes.js';
import { apiError, toApiError, type ServiceError } from '../http/errors.js';
import { READ_MODEL } from '../projections/readModel/schema.js';
import { SUMMARIES } from '../projections/summaries.js';
import { conversationExportJson, conversationMarkdown } from '../queries/exportFormats.js';
import { loadConversation, loadConversations } from '../queries/loadConversation.js';
import { memoryStats } from '../queries/stats.js';
import { VERSION } from '../version.js';
import { defineTool, inputJsonSchema, pruneSuggestions, pruneSuggestionsInput, runTool, tools, type Tool } from './tools.js';

const uuid = z.guid({ message: 'must be a UUID' }).transform((s) => s.toLowerCase());

/**
 * The tools of the MCP server: the tool table the REST tool routes run, plus what only the protocol
 * offers (one conversation, summaries, prune suggestions as a read-only tool).
 */
export function mcpTools(deps: AppDeps): Record<string, Tool> {
  const { memory_prune: _restOnly, ...shared } = tools(deps);
  return {
    ...shared,
    memory_get_conversation: defineTool({
      scope: 'read',
      description: 'One conversation with its messages (as JSON; the text is Markdown).',
      input: z.object({ conversation_id: uuid }),
      readsFrom: [READ_MODEL],
      run: async (d, _c, input) => (await loadConversation(d.pools.read, input.conversation_id)).map((l) => ({ ...conversationExportJson(l), markdown: conversationMarkdown(l) })),
    }),
    memory_summarize: defineTool({
      scope: 'write',
      description: "Summarize a conversation's latest day, week or month and record the summary.",
      input: summarizeBody,
      readsFrom: [READ_MODEL, SUMMARIES],
      async run(d, c, input) {
        const context = commandContext(c, input);
        if (context.isErr()) return err(context.error);
        return summarize(d, input, context.value);
      },
    }),
    memory_prune_suggestions: defineTool({
      scope: 'read',
      description: 'Conversations worth archiving: untouched for threshold_days (default 30), unpinned, below importance_threshold (default 5); with token estimates. Changes nothing.',
      input: pruneSuggestionsInput,
      readsFrom: [READ_MODEL],
      // The shape of memory_prune's dry run (upstream's).
      run: (d, _c, input) => pruneSuggestions(d, input),
    }),
  };
}

/** A tool's input as JSON Schema (an object schema, as MCP requires). */
function toolInputSchema(tool: Tool): { type: 'object'; [key: string]: unknown } {
  const { $schema: _, ...schema } = inputJsonSchema(tool);
  return { ...schema, type: 'object' };
}

/** A successful call: the data as JSON text, and as structured content (an object, as MCP wants). */
function toolResult(data: unknown): CallToolResult {
  const structured = typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>) : { result: data };
  const text = typeof structured.markdown === 'string' ? structured.markdown : JSON.stringify(data, null, 2);
  return { content: [{ type: 'text', text }], structuredContent: structured };
}

/** A failure as a tool error carrying the API's message and code. */
function toolError(e: ServiceError): CallToolResult {
  const a = toApiError(e);
  return {
    isError: true,
    content: [{ type: 'text', text: a.message }],
    structuredContent: { error: a.message, code: a.code, status: a.status, ...(a.details ? { details: a.details } : {}) },
  };
}

/**
 * An MCP server for one request of the Streamable HTTP endpoint: its tools run as the request's key
 * (a writing tool needs the write scope) through the same functions as the REST routes.
 */
export function createMcpServer(deps: AppDeps, c: Context): McpServer {
  const server = new McpServer({ name: 'sekha', version: VERSION }, { capabilities: { tools: {}, resources: {} } });
  const scopes = c.get('scopes') ?? [];
  const all = mcpTools(deps);
  // Tools on the protocol server directly: listed with the JSON Schema of the route's own zod schema
  // (as GET /mcp/tools lists them), and validated by it, so bad input gets the API's message.
  server.server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: Object.entries(all).map(([name, tool]) => ({
      name,
      description: tool.description,
      inputSchema: toolInputSchema(tool),
      annotations: { readOnlyHint: tool.scope === 'read' },
    })),
  }));
  server.server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const name = request.params.name;
    const tool = all[name];
    if (!tool) return toolError(apiError('unknown_tool', `no tool named ${name}; tools/list names them`));
    const scope = tool.scope;
    if (!grants(scopes, scope)) {
      return toolError(apiError('insufficient_scope', `the tool ${name} needs the ${scope} scope; the key "${c.get('actor')}" has ${scopes.join(', ')}`));
    }
    try {
      // As the REST tool route runs it: input checks, read-your-writes, the write remembered.
      return (await runTool(deps, c, tool, request.params.arguments ?? {})).match(toolResult, toolError);
    } catch (e) {
      deps.logger.error({ err: { message: (e as Error).message, stack: (e as Error).stack }, tool: name }, 'MCP tool failed');
      return toolError(apiError('internal', 'internal error; the request id identifies it in the logs'));
    }
  });

  server.registerResource(
    'conversation',
    new ResourceTemplate('sekha://conversations/{id}', { list: undefined }),
    { description: 'A conversation with its messages, as Markdown', mimeType: 'text/markdown' },
    async (uri, variables) => {
      const id = String(variables.id ?? '').toLowerCase();
      const loaded = uuid.safeParse(id).success ? await loadConversation(deps.pools.read, id) : err(apiError('invalid_input', 'id: must be a UUID'));
      if (loaded.isErr()) throw new Error(toApiError(loaded.error).message);
      return { contents: [{ uri: uri.href, mimeType: 'text/markdown', text: conversationMarkdown(loaded.value) }] };
    },
  );
  server.registerResource(
    'folder',
    new ResourceTemplate('sekha://folders/{folder}', {
      // Every folder in use, as a resource to read.
      list: async () => {
        const stats = await memoryStats(deps, {});
        if (stats.isErr()) throw new Error(stats.error.message);
        return {
          resources: stats.value.folders.map((folder: string) => ({ uri: `sekha://folders/${encodeURIComponent(folder)}`, name: folder, mimeType: 'text/markdown' })),
        };
      },
    }),
    { description: 'The conversations in a folder and its subfolders (URL-encoded folder path), as a Markdown list of sekha://conversations/{id} links', mimeType: 'text/markdown' },
    async (uri, variables) => {
      const folder = decodeURIComponent(String(variables.folder ?? '/'));
      const listed = await loadConversations(deps.pools.read, { folder }, 500);
      if (listed.isErr()) throw new Error(listed.error.message);
      const lines = [`# ${folder}`, '', ...listed.value.map(({ conversation: c }) => `- [${c.label}](sekha://conversations/${c.id}) — ${c.folder}, importance ${c.importance_score}`)];
      return { contents: [{ uri: uri.href, mimeType: 'text/markdown', text: `${lines.join('\n')}\n` }] };
    },
  );
  return server;
}
