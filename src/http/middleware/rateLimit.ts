import type { MiddlewareHandler } from 'hono';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { requester, trustedProxies } from '../auth/network.js';
import { errorResponse, STATUS_OF } from '../errors.js';
import { routeTemplate } from '../route.js';

/** A bucket: `requests` per minute on average, plus `burst` at once. */
export interface BucketConfig {
  requests: number;
  burst: number;
}

export interface RateLimitOptions extends BucketConfig {
  /** Per-route buckets, keyed `"METHOD /template"` or `"/template"`, replacing the default one there. */
  routes?: Record<string, BucketConfig>;
  /** Shared store for several instances; in-process when absent. */
  redis?: Redis;
  /** Prefix of the store keys (tests use a unique one). */
  keyPrefix?: string;
  trustedProxies?: readonly string[];
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * Token-bucket behaviour from rate-limiter-flexible: a steady limiter refills `requests`/minute in the
 * shortest whole-second window that keeps the rate exact (100/min → 5 per 3 s), and a burst limiter lends
 * `burst` more that come back over the time the steady rate would take to earn them.
 */
export function bucketLimiters(bucket: BucketConfig, name: string, options: Pick<RateLimitOptions, 'redis' | 'keyPrefix'>) {
  const g = gcd(bucket.requests, 60);
  const make = (kind: string, points: number, duration: number): RateLimiterAbstract => {
    const keyPrefix = `${options.keyPrefix ?? 'sekha_rl'}:${name}:${kind}`;
    const memory = new RateLimiterMemory({ keyPrefix, points, duration });
    // When Redis does not answer, each instance limits on its own rather than failing requests.
    return options.redis ? new RateLimiterRedis({ storeClient: options.redis, keyPrefix, points, duration, insuranceLimiter: memory }) : memory;
  };
  const steady = make('steady', bucket.requests / g, 60 / g);
  const burst = bucket.burst > 0 ? make('burst', bucket.burst, Math.max(1, Math.ceil((bucket.burst * 60) / bucket.requests))) : undefined;
  return { steady, burst };
}

type Limiters = ReturnType<typeof bucketLimiters> & { limit: number; burstPoints: number };

/**
 * Consumes one token: the steady limiter first, the burst limiter when it is empty. What remains is
 * both limiters' tokens, as RateLimit-Limit counts both (the burst's is read beside the steady take,
 * so a shared store costs no extra round trip in sequence).
 */
async function take(l: Limiters, key: string): Promise<{ allowed: boolean; remaining: number; resetMs: number }> {
  // Only for the header: a store that cannot answer it counts the burst as spent.
  const burstLeft = l.burst?.get(key).then((res) => (res ? Math.max(0, res.remainingPoints) : l.burstPoints), () => 0);
  try {
    const res = await l.steady.consume(key);
    return { allowed: true, remaining: res.remainingPoints + ((await burstLeft) ?? 0), resetMs: res.msBeforeNext };
  } catch (steadyRej) {
    if (!(steadyRej instanceof RateLimiterRes)) throw steadyRej;
    if (!l.burst) return { allowed: false, remaining: 0, resetMs: steadyRej.msBeforeNext };
    try {
      const res = await l.burst.consume(key);
      return { allowed: true, remaining: res.remainingPoints, resetMs: steadyRej.msBeforeNext };
    } catch (burstRej) {
      if (!(burstRej instanceof RateLimiterRes)) throw burstRej;
      // A token comes back when either limiter refills.
      return { allowed: false, remaining: 0, resetMs: Math.min(steadyRej.msBeforeNext, burstRej.msBeforeNext) };
    }
  }
}

/**
 * 429 with Retry-After beyond the bucket; RateLimit-Limit/Remaining/Reset on every limited answer.
 * Keyed by the API key's name, or by the client address for anonymous (loopback) callers.
 * Public operations routes (/health, /metrics…) are not limited. When Redis is down each
 * instance falls back to its own in-process buckets.
 */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler {
  const build = (bucket: BucketConfig, name: string): Limiters => ({
    ...bucketLimiters(bucket, name, options),
    limit: bucket.requests + bucket.burst,
    burstPoints: bucket.burst,
  });
  const main = build(options, 'default');
  const perRoute = new Map(Object.entries(options.routes ?? {}).map(([route, b], i) => [route, build(b, `route${i}`)]));
  const isTrusted = trustedProxies(options.trustedProxies ?? []);
  return async function rateLimitMiddleware(c, next) {
    const template = routeTemplate(c);
    if (template === undefined || ['/health', '/ready', '/metrics', '/openapi.json', '/docs'].includes(template)) return next();
    const limiters = perRoute.get(`${c.req.method} ${template}`) ?? perRoute.get(template) ?? main;
    const who = requester(c, isTrusted);
    let outcome;
    try {
      outcome = await take(limiters, who);
    } catch (e) {
      c.get('log')?.warn({ err: { message: (e as Error).message } }, 'rate limit store unavailable; request allowed');
      return next();
    }
    const resetSeconds = Math.max(1, Math.ceil(outcome.resetMs / 1000));
    c.header('RateLimit-Limit', String(limiters.limit));
    c.header('RateLimit-Remaining', String(outcome.remaining));
    c.header('RateLimit-Reset', String(resetSeconds));
    if (!outcome.allowed) {
      return errorResponse(c, {
        status: STATUS_OF.rate_limited,
        code: 'rate_limited',
        message: `too many requests; retry in ${resetSeconds} s`,
        details: { limit: limiters.limit, retry_after_seconds: resetSeconds },
        retryAfterSeconds: resetSeconds,
      });
    }
    return next();
  };
}
