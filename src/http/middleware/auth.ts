import type { MiddlewareHandler } from 'hono';
import { createKeyRegistry, MIN_KEY_LENGTH, type KeyRegistry } from '../auth/keys.js';
import { isLoopbackAddress, socketAddress } from '../auth/network.js';
import { grants, requiredScope } from '../auth/scopes.js';
import type { ApiKeyConfig } from '../../config/schema.js';
import { apiError, errorResponse, type ApiError, type ErrorCode } from '../errors.js';

type Credential = { ok: true; key: string | undefined } | { ok: false; error: ApiError };

const unauthorized = (code: ErrorCode, message: string): Credential => ({ ok: false, error: apiError(code, message) });

/** The key a request presents in `Authorization: Bearer` or `X-API-Key` (both: they must agree). */
function presentedKey(authorization: string | undefined, xApiKey: string | undefined): Credential {
  let bearer: string | undefined;
  if (authorization !== undefined) {
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    if (!match) return unauthorized('malformed_credentials', 'Authorization must be "Bearer <api key>"');
    bearer = match[1];
  }
  const header = xApiKey?.trim();
  if (xApiKey !== undefined && !header) return unauthorized('malformed_credentials', 'X-API-Key is empty');
  if (bearer !== undefined && header !== undefined && bearer !== header) {
    return unauthorized('conflicting_credentials', 'Authorization and X-API-Key carry different keys; send one');
  }
  return { ok: true, key: bearer ?? header };
}

export interface AuthOptions {
  keys: readonly ApiKeyConfig[];
  /** Built from `keys` when not given. */
  registry?: KeyRegistry;
}

/**
 * Authenticates by API key and enforces the route's scope (401 / 403). The key's name becomes the
 * actor. With no keys configured only loopback clients are served (403 for anyone else).
 */
export function auth(options: AuthOptions): MiddlewareHandler {
  const registry = options.registry ?? createKeyRegistry(options.keys);
  return async function authMiddleware(c, next) {
    // The rule of the route that routing matched (so encodings and trailing slashes are as routing saw them).
    const needed = requiredScope(c);
    if (needed === 'public') return next();
    if (registry.size === 0) {
      if (!isLoopbackAddress(socketAddress(c))) {
        return errorResponse(c, apiError('loopback_only', 'no API keys are configured, so only clients on this machine are served'));
      }
      return next();
    }
    const credential = presentedKey(c.req.header('authorization'), c.req.header('x-api-key'));
    const fail = (e: ApiError) => {
      c.header('WWW-Authenticate', 'Bearer realm="sekha"');
      return errorResponse(c, e);
    };
    if (!credential.ok) return fail(credential.error);
    if (credential.key === undefined) {
      return fail(apiError('missing_api_key', 'an API key is required: Authorization: Bearer <key> or X-API-Key: <key>'));
    }
    if (credential.key.length < MIN_KEY_LENGTH) {
      return fail(apiError('invalid_api_key', `API keys are at least ${MIN_KEY_LENGTH} characters`));
    }
    const known = registry.lookup(credential.key);
    if (!known) return fail(apiError('unknown_api_key', 'this API key is not known'));
    c.set('actor', known.name);
    c.set('scopes', known.scopes);
    if (!grants(known.scopes, needed)) {
      return errorResponse(
        c,
        apiError('insufficient_scope', `this route needs the ${needed} scope; the key "${known.name}" has ${known.scopes.join(', ')}`, {
          required: needed,
          scopes: [...known.scopes],
        }),
      );
    }
    return next();
  };
}
