import type { Redis } from 'ioredis';
import type { LastWrites } from '../deps.js';
import { comparePositions, formatPosition, parsePosition, type Position } from '../eventstore/index.js';

const later = (a: Position | undefined, b: Position | undefined) => (a === undefined ? b : b === undefined || comparePositions(a, b) >= 0 ? a : b);

/** In this process only: a Map with expiry (bounded by the number of actors seen within `ttlMs`). */
export function inProcessLastWrites(ttlMs: number, now: () => number = Date.now): LastWrites {
  const entries = new Map<string, { position: Position; expires: number }>();
  let sweptAt = now();
  const sweep = (t: number) => {
    if (t - sweptAt < ttlMs) return;
    sweptAt = t;
    for (const [actor, e] of entries) if (e.expires <= t) entries.delete(actor);
  };
  return {
    reached: new Map(),
    async remember(actor, position) {
      const t = now();
      sweep(t);
      const current = entries.get(actor);
      const keep = current && current.expires > t ? later(current.position, position)! : position;
      entries.set(actor, { position: keep, expires: t + ttlMs });
    },
    pending(actor) {
      const e = entries.get(actor);
      if (!e) return undefined;
      if (e.expires <= now()) {
        entries.delete(actor);
        return undefined;
      }
      return e.position;
    },
  };
}

// Keeps the later of the stored and the given position ("<tx>:<pos>", both compared as whole numbers of
// any length), and refreshes the expiry.
const REMEMBER_LATER = `
local function cmp(a, b)
  if #a ~= #b then return #a < #b and -1 or 1 end
  if a == b then return 0 end
  return a < b and -1 or 1
end
local cur = redis.call('GET', KEYS[1])
if cur then
  local ct, cp = string.match(cur, '^(%d+):(%d+)$')
  local nt, np = string.match(ARGV[1], '^(%d+):(%d+)$')
  if ct and nt then
    local c = cmp(ct, nt)
    if c > 0 or (c == 0 and cmp(cp, np) >= 0) then
      redis.call('PEXPIRE', KEYS[1], ARGV[2])
      return 0
    end
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

/**
 * Shared by every instance through Redis (as the rate limits are). This process's own copy answers
 * too, so a Redis outage leaves read-your-writes working for clients that stay on one instance.
 */
export function redisLastWrites(redis: Redis, options: { ttlMs: number; keyPrefix?: string; onError?: (e: Error) => void }): LastWrites {
  const local = inProcessLastWrites(options.ttlMs);
  const prefix = options.keyPrefix ?? 'sekha_ryw';
  const key = (actor: string) => `${prefix}:${actor}`;
  return {
    reached: local.reached,
    async remember(actor, position) {
      await local.remember(actor, position);
      try {
        await redis.eval(REMEMBER_LATER, 1, key(actor), formatPosition(position), String(options.ttlMs));
      } catch (e) {
        options.onError?.(e as Error);
      }
    },
    async pending(actor) {
      const own = local.pending(actor) as Position | undefined;
      try {
        const shared = await redis.get(key(actor));
        return later(own, shared ? parsePosition(shared) : undefined);
      } catch (e) {
        options.onError?.(e as Error);
        return own;
      }
    },
  };
}
