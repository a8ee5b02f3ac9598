import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ZodError } from 'zod';
import type { DomainError } from '../domain/conversation/index.js';
import type { AppendError, SearchError } from '../eventstore/index.js';

/** An answer that is not a success: status, machine code, a sentence, and optional details. */
export interface ApiError {
  status: ContentfulStatusCode;
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
  retryAfterSeconds?: number;
}

/** Every code the API answers with, and its HTTP status: the one place where a status is chosen. */
export const STATUS_OF = {
  invalid_input: 400,
  invalid_json: 400,
  invalid_import: 400,
  http_error: 400,
  missing_api_key: 401,
  invalid_api_key: 401,
  unknown_api_key: 401,
  malformed_credentials: 401,
  conflicting_credentials: 401,
  insufficient_scope: 403,
  forbidden: 403,
  loopback_only: 403,
  host_not_allowed: 403,
  origin_not_allowed: 403,
  not_found: 404,
  unknown_tool: 404,
  conflict: 409,
  version_conflict: 409,
  deleted: 404,
  payload_too_large: 413,
  unsupported_media_type: 415,
  idempotency_key_reused: 422,
  nothing_to_summarize: 422,
  model_unsupported: 422,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
  not_caught_up: 503,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof STATUS_OF;

export const apiError = (code: ErrorCode, message: string, details?: Record<string, unknown>): ApiError => ({
  status: STATUS_OF[code],
  code,
  message,
  ...(details ? { details } : {}),
});

export const unavailable = (what: string, retryAfterSeconds = 1): ApiError => ({
  status: STATUS_OF.unavailable,
  code: 'unavailable',
  message: `${what} is unavailable; retry shortly`,
  retryAfterSeconds,
});

/** A conversation that was deleted, and when (a read or a write of it answers 404 `deleted`). */
export interface ConversationDeleted {
  type: 'conversation_deleted';
  deleted_at: string | undefined;
}

export const conversationDeleted = (deletedAt: string | Date | undefined): ConversationDeleted => ({
  type: 'conversation_deleted',
  deleted_at: deletedAt === undefined ? undefined : new Date(deletedAt).toISOString(),
});

/** Errors every layer may return; the one place that turns them into HTTP status codes. */
export type ServiceError = DomainError | AppendError | SearchError | { type: 'idempotency_key_reused' } | ConversationDeleted | ApiError;

export function toApiError(error: ServiceError): ApiError {
  if (typeof error === 'string') {
    switch (error) {
      case 'CONVERSATION_NOT_FOUND':
        return apiError('not_found', 'conversation not found');
      case 'CONVERSATION_EXISTS':
        return apiError('conflict', 'conversation already exists');
      case 'CONVERSATION_DELETED':
        return toApiError(conversationDeleted(undefined));
      default: {
        const unhandled: never = error;
        return unhandled;
      }
    }
  }
  if ('status' in error) return error;
  switch (error.type) {
    case 'version_conflict':
      return apiError('version_conflict', `conversation is at version ${error.actual}, not the expected ${String(error.expected)}`, {
        expected: error.expected,
        actual: error.actual,
      });
    case 'idempotency_mismatch':
    case 'idempotency_key_reused':
      return apiError('idempotency_key_reused', 'this Idempotency-Key was already used for a different request');
    case 'conversation_deleted':
      // 404, not 410: clients map only 404 to "not found" (and some retry a 410).
      return apiError('deleted', error.deleted_at ? `conversation was deleted at ${error.deleted_at}` : 'conversation was deleted', error.deleted_at ? { deleted_at: error.deleted_at } : undefined);
    case 'store_unavailable':
      return unavailable('the event store');
    case 'invalid_value':
      return apiError('invalid_input', 'a value in this request cannot be used in a query', { reason: error.reason });
    default: {
      const unhandled: never = error;
      return unhandled;
    }
  }
}

/** Writes an error as the JSON body every error has: `{error, code, details?, request_id}`. */
export function errorResponse(c: Context, error: ServiceError): Response {
  const e = toApiError(error);
  if (e.retryAfterSeconds !== undefined) c.header('Retry-After', String(e.retryAfterSeconds));
  return c.json(
    { error: e.message, code: e.code, ...(e.details ? { details: e.details } : {}), request_id: c.get('requestId') },
    e.status,
  );
}

function issueField(path: readonly PropertyKey[], prefix: string): string {
  const field = path.map(String).join('.');
  return field === '' ? prefix : prefix === 'body' ? field : `${prefix}.${field}`;
}

type Issue = ZodError['issues'][number];

/** Unions report every branch; the branch that got furthest says best what is wrong. */
function mostSpecific(issue: Issue): Issue {
  if (issue.code !== 'invalid_union' || !('errors' in issue) || issue.errors.length === 0) return issue;
  const candidates = issue.errors.flat().map((i) => ({ ...i, path: [...issue.path, ...i.path] }) as Issue);
  const best = candidates.reduce((a, b) => (b.path.length > a.path.length ? b : a));
  return mostSpecific(best);
}

/** A 400 that names the field and the reason, from a zod validation failure. */
export function validationError(error: ZodError, target: string): ApiError {
  const issue = mostSpecific(error.issues[0]!);
  const prefix = target === 'json' ? 'body' : target === 'param' ? 'path' : target;
  const field = issueField(issue.path, prefix);
  const reason = issue.code === 'invalid_type' && /received undefined/.test(issue.message) ? 'is required' : issue.message;
  return apiError('invalid_input', `${field}: ${reason}`, {
    field,
    reason,
    issues: error.issues.slice(0, 10).map((i) => ({ field: issueField(mostSpecific(i).path, prefix), reason: mostSpecific(i).message })),
  });
}
