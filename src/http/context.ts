import type { Logger } from 'pino';
import type { Scope } from '../config/schema.js';

declare module 'hono' {
  interface ContextVariableMap {
    /** The id of this request: the client's X-Request-Id when it is sane, else a new one. */
    requestId: string;
    /** Who is asking: the API key's name, or `anonymous`. */
    actor: string;
    /** What the caller may do. */
    scopes: readonly Scope[];
    /** A child logger carrying the request id. */
    log: Logger;
    /** Set once the request is in the metrics (by whichever metrics middleware saw it answered). */
    metricsRecorded: boolean;
  }
}

export {};
