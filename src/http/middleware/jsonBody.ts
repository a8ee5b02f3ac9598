import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { apiError, errorResponse } from '../errors.js';

const JSON_TYPE = /^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i;

function hasBody(headers: Headers): boolean {
  const length = headers.get('content-length');
  if (length !== null) return Number(length) > 0;
  return headers.has('transfer-encoding');
}

/** 415 for a write whose body is not JSON (routes that take other formats are listed in `except`). */
export function requireJsonBody(options: { except?: (path: string) => boolean } = {}): MiddlewareHandler {
  return async function requireJsonBodyMiddleware(c, next) {
    const method = c.req.method;
    if ((method === 'POST' || method === 'PUT' || method === 'PATCH' || method === 'DELETE') && hasBody(c.req.raw.headers)) {
      const type = c.req.header('content-type') ?? '';
      if (!JSON_TYPE.test(type) && !options.except?.(c.req.path)) {
        return errorResponse(c, apiError('unsupported_media_type', `expected Content-Type application/json, got ${type || 'none'}`));
      }
    }
    await next();
  };
}

/** 413 for a body larger than `maxBytes`, counted as it streams in. */
export function limitBody(maxBytes: number): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: (c) => errorResponse(c, apiError('payload_too_large', `request body exceeds ${maxBytes} bytes`, { max_bytes: maxBytes })),
  });
}
