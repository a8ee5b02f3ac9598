import { z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { err, ok, type Result } from 'neverthrow';
import { comparePositions, formatPosition, parsePosition, type Position } from '../eventstore/index.js';
import type { AppDeps, LastWrites } from '../deps.js';
import { apiError, errorResponse, unavailable, type ApiError } from '../http/errors.js';
import { liveCheckpoint } from '../projections/checkpoints.js';
import { READ_MODEL } from '../projections/readModel/schema.js';
import { requester, trustedProxies } from '../http/auth/network.js';
import { inProcessLastWrites } from './lastWrites.js';

/** The query parameters of read-your-writes; spread them into a query route's `request.query` schema. */
export const consistencyParams = (deps: AppDeps) => ({
  min_position: z
    .string()
    .optional()
    .openapi({ description: 'Wait until the projections this query reads have passed this position ("<txid>:<pos>", as a write answered). The X-Sekha-Position header works too.' }),
  wait_ms: z.coerce
    .number()
    .int('must be a whole number')
    .min(0, 'must not be negative')
    .max(deps.config.api.read_wait_max_ms, `must be at most ${deps.config.api.read_wait_max_ms}`)
    .optional()
    .openapi({ description: `How long to wait for min_position (default ${deps.config.api.read_wait_default_ms} ms)` }),
});

/** The position a request asks to read after: `min_position` query parameter, else the X-Sekha-Position header. */
export function requestedPosition(c: Context): Result<Position | undefined, ApiError> {
  const fromQuery = c.req.query('min_position');
  const raw = fromQuery ?? c.req.header('x-sekha-position');
  if (raw === undefined || raw.trim() === '') return ok(undefined);
  const position = parsePosition(raw);
  if (!position) {
    const field = fromQuery !== undefined ? 'query.min_position' : 'X-Sekha-Position';
    return err(apiError('invalid_input', `${field}: must be a position "<txid>:<pos>" as a write answered`, { field, reason: 'not a position' }));
  }
  return ok(position);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/**
 * Waits until every projection in `names` has passed `target`, as the READ pool sees it (so it also
 * holds when reads go to a replica). In the projecting process the progress bus wakes the wait; the
 * read pool is polled too, because a replica lags behind the bus. Times out with a 503 + Retry-After.
 */
export async function waitForPosition(
  deps: AppDeps,
  names: readonly string[],
  target: Position,
  waitMs: number,
  options: { skipMissing?: boolean } = {},
): Promise<Result<void, ApiError>> {
  const deadline = Date.now() + waitMs;
  const pending = new Set(names);
  // Listening before the checkpoints are read: a projection that moves between our read and our
  // sleep would otherwise be missed, and the wait would last the whole poll (seen as ~300 ms outliers).
  let moved = false;
  let wake: (() => void) | undefined;
  const onProgress = (p: { name: string }) => {
    if (!pending.has(p.name)) return;
    moved = true;
    wake?.();
  };
  deps.progress?.on('progress', onProgress);
  try {
    for (let round = 0; ; round++) {
      moved = false;
      for (const name of [...pending]) {
        try {
          const cp = await liveCheckpoint(deps.pools.read, name);
          // An implicit wait does not wait for a projection that does not run here at all.
          if ((cp && comparePositions(cp.position, target) >= 0) || (!cp && options.skipMissing)) pending.delete(name);
          if (cp) noteReached(deps, name, cp.position);
        } catch {
          return err(unavailable('the read database'));
        }
      }
      if (pending.size === 0) return ok(undefined);
      const left = deadline - Date.now();
      if (left <= 0) {
        return err({
          ...apiError('not_caught_up', `the read model has not reached position ${formatPosition(target)} yet; retry shortly`, { min_position: formatPosition(target), waiting_for: [...pending] }),
          retryAfterSeconds: 1,
        });
      }
      if (moved) continue;
      // Same-process progress wakes at once; otherwise poll, briefly at first.
      const pollMs = Math.min(left, deps.progress && !deps.pools.separateRead ? 250 : Math.min(10 * 2 ** round, 200));
      await new Promise<void>((resolve) => {
        wake = resolve;
        void sleep(pollMs).then(resolve);
      });
      wake = undefined;
    }
  } finally {
    deps.progress?.off('progress', onProgress);
  }
}

/** How long this request may wait: `wait_ms` (at most `api.read_wait_max_ms`), else the default. */
export function waitFor(c: Context, deps: AppDeps): Result<number, ApiError> {
  const raw = c.req.query('wait_ms');
  const { read_wait_default_ms: fallback, read_wait_max_ms: max } = deps.config.api;
  if (raw === undefined) return ok(fallback);
  if (!/^\d{1,9}$/.test(raw) || Number(raw) > max) {
    const reason = `must be a whole number of milliseconds from 0 to ${max}`;
    return err(apiError('invalid_input', `query.wait_ms: ${reason}`, { field: 'query.wait_ms', reason }));
  }
  return ok(Number(raw));
}

/** The store of actors' last writes of this app: `deps.lastWrites`, created in process when absent. */
export function lastWritesOf(deps: AppDeps): LastWrites {
  return (deps.lastWrites ??= inProcessLastWrites(deps.config.api.read_your_writes_ttl_ms));
}

/** Records that projection `name` has reached `position` as the read pool sees it. */
function noteReached(deps: AppDeps, name: string, position: Position): void {
  const reached = lastWritesOf(deps).reached;
  const known = reached.get(name);
  if (!known || comparePositions(position, known) > 0) reached.set(name, position);
}

// In the projecting process (and without a replica) the progress bus says what the read pool sees.
const listening = new WeakSet<object>();
function followProgress(deps: AppDeps): void {
  const bus = deps.progress;
  if (!bus || deps.pools.separateRead || listening.has(bus)) return;
  listening.add(bus);
  bus.on('progress', (p) => noteReached(deps, p.name, p.position));
}

/** True when every projection in `names` is known (without asking the database) to have reached `target`. */
function knownReached(deps: AppDeps, names: readonly string[], target: Position): boolean {
  const reached = lastWritesOf(deps).reached;
  return names.every((name) => {
    const at = reached.get(name);
    return at !== undefined && comparePositions(at, target) >= 0;
  });
}

// Built once per app: the hot path of every read names its requester.
const trustedByDeps = new WeakMap<AppDeps, (address: string) => boolean>();
function trustedOf(deps: AppDeps): (address: string) => boolean {
  let isTrusted = trustedByDeps.get(deps);
  if (!isTrusted) trustedByDeps.set(deps, (isTrusted = trustedProxies(deps.config.server.trusted_proxies)));
  return isTrusted;
}

/** Remembers `position` ("<txid>:<pos>", as a write answers it) as the requester's last acknowledged write (what its next reads wait for). */
export async function rememberWrite(deps: AppDeps, c: Context, position: string): Promise<void> {
  const parsed = parsePosition(position);
  if (!parsed || !deps.config.api.read_your_writes) return;
  await lastWritesOf(deps).remember(requester(c, trustedOf(deps)), parsed);
}

/**
 * Remembers the position of each acknowledged write (any 2xx write answering X-Sekha-Position) for
 * its actor, before the answer leaves, so that the actor's next read waits for it.
 */
export function rememberWrites(deps: AppDeps): MiddlewareHandler {
  return async function rememberWritesMiddleware(c, next) {
    await next();
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS' || !deps.config.api.read_your_writes) return;
    if (c.res.status < 200 || c.res.status >= 300) return;
    const header = c.res.headers.get('x-sekha-position');
    if (header) await rememberWrite(deps, c, header);
  };
}

/**
 * Read-your-writes for a query route: it waits (bounded by `wait_ms`, default `api.read_wait_default_ms`)
 * until the projections it reads have passed the request's `min_position` (or X-Sekha-Position), or,
 * without one, the position of this actor's last acknowledged write (unless `X-Sekha-Consistency:
 * eventual`). Nothing pending, or known reached: no database round trip. Use on every query route:
 * `middleware: [readYourWrites(deps)]` in createRoute.
 *
 * @param projections the projections the route reads; default the read model.
 */
export function readYourWrites(deps: AppDeps, projections: readonly string[] = [READ_MODEL]): MiddlewareHandler {
  return async function readYourWritesMiddleware(c, next) {
    const readable = await awaitOwnWrites(deps, c, projections);
    if (readable.isErr()) return errorResponse(c, readable.error);
    await next();
    return undefined;
  };
}

/**
 * What readYourWrites does before a read, for callers that are not a route of their own (the MCP
 * server's tools): waits for the request's position, else the actor's last write; an error to answer.
 */
export async function awaitOwnWrites(deps: AppDeps, c: Context, projections: readonly string[]): Promise<Result<void, ApiError>> {
  const position = requestedPosition(c);
  if (position.isErr()) return err(position.error);
  let target = position.value;
  let implicit = false;
  if (!target && deps.config.api.read_your_writes && c.req.header('x-sekha-consistency')?.trim().toLowerCase() !== 'eventual') {
    followProgress(deps);
    target = await lastWritesOf(deps).pending(requester(c, trustedOf(deps)));
    implicit = true;
  }
  if (!target || knownReached(deps, projections, target)) return ok(undefined);
  const waitMs = waitFor(c, deps);
  if (waitMs.isErr()) return err(waitMs.error);
  return waitForPosition(deps, projections, target, waitMs.value, { skipMissing: implicit });
}
