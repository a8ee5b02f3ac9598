import { randomUUID } from 'node:crypto';
import { createRoute } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { err, ok, type Result } from 'neverthrow';
import { executeCommand, type CommandContext } from './execute.js';
import { commandContext } from './http.js';
import { toNewMessages } from './newMessages.js';
import { folderSchema, labelSchema, messageSchema } from '../http/schemas.js';
import { formatPosition, type Position } from '../eventstore/index.js';
import type { AppDeps } from '../deps.js';
import { apiError, errorResponse, type ApiError, type ServiceError } from '../http/errors.js';
import { errorResponses, register, unstorableError, unstorableField, type App } from '../http/openapi.js';
import { parseChatGpt, parseChatGptConversation } from '../memory/importChatGpt.js';
import { parseClaude, parseClaudeConversation } from '../memory/importClaude.js';
import { parseMarkdown } from '../memory/importMarkdown.js';
import { IMPORT_FORMATS, isObject, type ImportedConversation, type ImportFormat, type ImportIssue } from '../memory/importTypes.js';

export const IMPORT_PATH = '/api/v1/import';
const MAX_CONVERSATIONS = 1000;

/** What a request asks to import: the file's content and optional format, label and folder. */
export interface ImportRequest {
  content: unknown;
  format?: unknown;
  folder?: unknown;
  label?: unknown;
}

const bad = (where: string, reason: string): ApiError => apiError('invalid_import', `${where}: ${reason}`, { field: where, reason });
const fromIssue = (i: ImportIssue) => bad(i.where, i.reason);

/** The format of an export by its shape: ChatGPT has `mapping`, Claude `chat_messages`, a string is Markdown. */
function detect(content: unknown): ImportFormat | undefined {
  if (typeof content === 'string') return 'markdown';
  const first = Array.isArray(content) ? content[0] : content;
  if (!isObject(first)) return undefined;
  if ('mapping' in first) return 'chatgpt';
  if ('chat_messages' in first) return 'claude';
  return undefined;
}

/** Parses the export in its (given or detected) format into conversations. */
export function parseExport(request: ImportRequest): Result<ImportedConversation[], ApiError> {
  const { content } = request;
  if (request.format !== undefined && !IMPORT_FORMATS.includes(request.format as ImportFormat)) return err(bad('format', 'must be chatgpt, claude or markdown'));
  const format = (request.format as ImportFormat | undefined) ?? detect(content);
  if (!format) return err(bad('content', 'is not a ChatGPT export (conversations with `mapping`), a Claude export (conversations with `chat_messages`), nor Markdown text'));
  if (format === 'markdown') return typeof content === 'string' ? parseMarkdown(content).map((c) => [c]).mapErr(fromIssue) : err(bad('content', 'must be Markdown text for format markdown'));
  const items = Array.isArray(content) ? content : [content];
  if (items.length === 0) return err(bad('content', 'has no conversations'));
  if (items.length > MAX_CONVERSATIONS) return err(bad('content', `must have at most ${MAX_CONVERSATIONS} conversations per import`));
  const parsed = format === 'chatgpt' ? (Array.isArray(content) ? parseChatGpt(items) : parseChatGptConversation(content, 'content').map((c) => [c])) : Array.isArray(content) ? parseClaude(items) : parseClaudeConversation(content, 'content').map((c) => [c]);
  return parsed.mapErr(fromIssue);
}

/** A start command's data, checked against the same limits as POST /conversations. */
interface Planned {
  label: string;
  folder: string;
  metadata: Record<string, unknown>;
  messages: ReturnType<ReturnType<typeof messageSchema>['parse']>[];
}

/** Validates every conversation before anything is written: the first problem names where it is. */
export function planImport(deps: AppDeps, conversations: ImportedConversation[], request: ImportRequest, importedAt: string): Result<Planned[], ApiError> {
  const limits = deps.config.api;
  const folder = folderSchema(limits).safeParse(request.folder ?? `/imported/${conversations[0]?.source ?? 'import'}`);
  if (!folder.success) return err(bad('folder', folder.error.issues[0]!.message));
  const label = request.label === undefined ? undefined : labelSchema(limits).safeParse(request.label);
  if (label && !label.success) return err(bad('label', label.error.issues[0]!.message));
  const plans: Planned[] = [];
  const message = messageSchema(limits);
  for (const [i, c] of conversations.entries()) {
    const where = conversations.length === 1 ? 'content' : `conversations[${i}]`;
    if (c.messages.length === 0) return err(bad(where, 'has no messages with text'));
    const messages: Planned['messages'] = [];
    for (const [j, m] of c.messages.entries()) {
      const checked = message.safeParse(m);
      if (!checked.success) {
        const first = checked.error.issues[0]!;
        return err(bad(`${where}.messages[${j}]${first.path.length ? `.${first.path.join('.')}` : ''}`, first.message));
      }
      messages.push(checked.data);
    }
    const title = (label?.data ?? c.title ?? '').trim().slice(0, limits.max_label_chars) || `Imported ${c.source} conversation`;
    plans.push({
      label: title,
      folder: folder.data,
      metadata: { import: { source: c.source, ...(c.source_id ? { source_id: c.source_id } : {}), ...(c.created_at ? { created_at: c.created_at } : {}), imported_at: importedAt } },
      messages,
    });
  }
  return ok(plans);
}

/** Imports: parse, validate all, then one StartConversation (with its messages) per conversation. */
export async function importExport(deps: AppDeps, request: ImportRequest, context: CommandContext): Promise<Result<{ imported: number; conversation_ids: string[]; position: string }, ServiceError>> {
  const at = deps.clock().toISOString();
  const plans = parseExport(request).andThen((conversations) => planImport(deps, conversations, request, at));
  if (plans.isErr()) return err(plans.error);
  const ids: string[] = [];
  let position: Position | undefined;
  for (const [i, plan] of plans.value.entries()) {
    const id = randomUUID();
    const { messages, ...rest } = plan;
    // Each conversation is its own command: an Idempotency-Key is made distinct per conversation.
    const ctx = context.idempotency ? { ...context, idempotency: { key: `${context.idempotency.key}#${i}`, requestHash: context.idempotency.requestHash } } : context;
    const outcome = await executeCommand(deps.store, id, { type: 'StartConversation', at, data: { conversation_id: id, importance_score: 5, ...rest, messages: toNewMessages(messages, at) } }, ctx);
    if (outcome.isErr()) return err(outcome.error);
    ids.push(outcome.value.conversationId);
    position = outcome.value.position;
  }
  return ok({ imported: ids.length, conversation_ids: ids, position: formatPosition(position!) });
}

/** The request of a body: JSON (the export itself, or `{format?, content, folder?, label?}`), or raw Markdown text. */
async function readImportRequest(c: Context): Promise<Result<ImportRequest, ApiError>> {
  const text = await c.req.text();
  if (text.trim() === '') return err(bad('body', 'is empty: send a ChatGPT or Claude export (JSON) or Markdown'));
  const type = c.req.header('content-type') ?? '';
  if (!/json/i.test(type)) return ok({ content: text, format: 'markdown' });
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    return err(apiError('invalid_json', `body is not valid JSON: ${(e as Error).message}`));
  }
  if (isObject(body) && 'content' in body && !('mapping' in body) && !('chat_messages' in body)) {
    return ok({ content: body.content, format: body.format, folder: body.folder, label: body.label });
  }
  return ok({ content: body });
}

export const importRoute = (deps: AppDeps) => (app: App) => {
  register(
    app,
    createRoute({
      method: 'post',
      path: IMPORT_PATH,
      tags: ['memory'],
      summary: 'Import a ChatGPT conversations.json, a Claude export, or Markdown with role headers',
      description:
        'Body: the export as JSON, or `{format?: chatgpt|claude|markdown, content, folder?, label?}`, or Markdown text (text/markdown). ' +
        'Everything is validated first; a bad file imports nothing. ChatGPT: the active branch (current_node back to the root).',
      responses: { 201: { description: '`{imported, conversation_ids[], position}`' }, ...errorResponses },
    }),
    async (c) => {
      const request = await readImportRequest(c);
      if (request.isErr()) return errorResponse(c, request.error);
      const unstorable = unstorableField(request.value);
      if (unstorable) return errorResponse(c, unstorableError(unstorable));
      const context = commandContext(c, request.value);
      if (context.isErr()) return errorResponse(c, context.error);
      const imported = await importExport(deps, request.value, context.value);
      return imported.match(
        (body) => {
          c.header('X-Sekha-Position', body.position);
          return c.json(body, 201);
        },
        (e) => errorResponse(c, e),
      );
    },
  );
};
