import type { MiddlewareHandler } from 'hono';
import { isLoopbackHost } from '../auth/network.js';
import { apiError, errorResponse } from '../errors.js';

export interface HostGuardOptions {
  /** No API keys: only loopback Host names (and `allowedHosts`) are served, and cross-site Origins refused. */
  loopbackOnly: boolean;
  /** `server.allowed_hosts`: more host names to serve (with keys, when set, the only ones besides loopback). */
  allowedHosts: readonly string[];
  /** `api.cors_origins`: web origins allowed to call (a loopback UI on another port needs none). */
  corsOrigins: readonly string[];
}

// Probes may address the pod by its IP; these answer nothing about anyone's memory.
const PROBES = new Set(['/health', '/ready']);

/** The host name of a Host header or an origin's authority: lower-cased, no port, no trailing dot. */
export function hostName(authority: string): string {
  const trimmed = authority.trim().toLowerCase();
  const name = trimmed.startsWith('[') ? trimmed.slice(0, trimmed.indexOf(']') + 1) : trimmed.replace(/:\d*$/, '');
  return name.replace(/\.$/, '');
}

const HOW_TO_ALLOW = 'add the host name to server.allowed_hosts in config.toml (or SEKHA_SERVER__ALLOWED_HOSTS), or configure API keys';

/**
 * Keeps web pages out (DNS rebinding): without API keys a page whose DNS name is re-pointed at
 * 127.0.0.1 would otherwise reach the API as a loopback client. Refuses (403) a Host that is not a
 * loopback name or allowed, and, without keys, an Origin that is not loopback, allowed or a CORS origin.
 */
export function hostGuard(options: HostGuardOptions): MiddlewareHandler {
  const allowed = new Set(options.allowedHosts.map(hostName));
  const origins = new Set(options.corsOrigins.map((o) => o.toLowerCase().replace(/\/$/, '')));
  const hostAllowed = (name: string) => isLoopbackHost(name) || allowed.has(name);
  const checkHost = options.loopbackOnly || allowed.size > 0;
  return async function hostGuardMiddleware(c, next) {
    if (PROBES.has(c.req.path)) return next();
    if (checkHost) {
      const host = hostName(c.req.header('host') ?? new URL(c.req.url).host);
      if (!hostAllowed(host)) {
        return errorResponse(c, apiError('host_not_allowed', `Host "${host}" is not served: ${HOW_TO_ALLOW}`, { host, allowed_hosts: [...allowed] }));
      }
    }
    const origin = c.req.header('origin');
    if (options.loopbackOnly && origin !== undefined && !origins.has('*') && !origins.has(origin.toLowerCase())) {
      let name: string | undefined;
      try {
        name = hostName(new URL(origin).host);
      } catch {
        // "null" (sandboxed pages, file://) and garbage: not loopback.
      }
      if (name === undefined || !hostAllowed(name)) {
        return errorResponse(
          c,
          apiError('origin_not_allowed', `requests from the web page at ${origin} are refused without API keys: ${HOW_TO_ALLOW}, or list the origin in api.cors_origins`, { origin }),
        );
      }
    }
    return next();
  };
}
