import type { Context } from 'hono';
import { err, ok, type Result } from 'neverthrow';
import { formatPosition } from '../eventstore/index.js';
import { apiError, errorResponse, type ApiError } from '../http/errors.js';
import { conversationAnswer } from '../http/schemas.js';
import type { ConversationState } from '../domain/conversation/index.js';
import { requestHash, type CommandContext, type CommandError, type CommandOutcome } from './execute.js';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** The command context of a request: actor, request id, correlation, and Idempotency-Key. */
export function commandContext(c: Context, body: unknown): Result<CommandContext, ApiError> {
  const key = c.req.header('idempotency-key');
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
    return err(apiError('invalid_input', 'Idempotency-Key: must be 1 to 255 visible ASCII characters', { field: 'Idempotency-Key' }));
  }
  const correlation = c.req.header('x-correlation-id');
  const causation = c.req.header('x-causation-id');
  return ok({
    actor: c.get('actor'),
    requestId: c.get('requestId'),
    ...(correlation ? { correlationId: correlation.slice(0, 128) } : {}),
    ...(causation ? { causationId: causation.slice(0, 128) } : {}),
    ...(key ? { idempotency: { key, requestHash: requestHash(c.req.method, c.req.path, body) } } : {}),
  });
}

/** The version an `If-Match` header demands (`"3"`, `W/"3"` or `3`); undefined when absent. */
export function ifMatchVersion(c: Context): Result<number | undefined, ApiError> {
  const header = c.req.header('if-match');
  if (header === undefined) return ok(undefined);
  const match = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(header);
  if (!match) return err(apiError('invalid_input', 'If-Match: must be a version ETag such as "3"', { field: 'If-Match' }));
  return ok(Number(match[1]));
}

/** The conversation as every write returns it: the shape reads answer, plus the write's position. */
export function conversationView(outcome: Pick<CommandOutcome, 'state' | 'version' | 'position'>) {
  const state = outcome.state as Exclude<ConversationState, { status: 'empty' }>;
  return { ...conversationAnswer({ ...state, version: outcome.version }), position: formatPosition(outcome.position) };
}

/** Sets the headers every write answers with: X-Sekha-Position, ETag, and Idempotent-Replayed on a retry. */
export function writeHeaders(c: Context, outcome: CommandOutcome): void {
  c.header('X-Sekha-Position', formatPosition(outcome.position));
  c.header('ETag', `"${outcome.version}"`);
  if (outcome.replayed) c.header('Idempotent-Replayed', 'true');
}

type Run = (context: CommandContext, ifMatch: number | undefined) => Promise<Result<CommandOutcome, CommandError>>;

/**
 * The one shape of every command route: read headers, run the command, answer `respond(outcome)`
 * with write headers, or the uniform error.
 */
export async function answerCommand(
  c: Context,
  body: unknown,
  run: Run,
  respond: (outcome: CommandOutcome) => { body: unknown; status?: 200 | 201 },
): Promise<Response> {
  const context = commandContext(c, body);
  if (context.isErr()) return errorResponse(c, context.error);
  const ifMatch = ifMatchVersion(c);
  if (ifMatch.isErr()) return errorResponse(c, ifMatch.error);
  const outcome = await run(context.value, ifMatch.value);
  return outcome.match(
    (o) => {
      writeHeaders(c, o);
      const answer = respond(o);
      return c.json(answer.body as object, answer.status ?? 200);
    },
    (e) => errorResponse(c, e),
  );
}
