import { stringify } from 'smol-toml';
import { resolveConfig, type ResolvedConfig } from '../../src/config/load.js';
import { createPools } from '../../src/db/pools.js';
import { configuredEventStore } from '../../src/app/eventStore.js';
import { createApp, type AppExtras } from '../../src/app/createApp.js';
import type { AppDeps } from '../../src/deps.js';
import type { App } from '../../src/http/openapi.js';
import { createLogger } from '../../src/logger.js';
import { VERSION } from '../../src/version.js';
import { createTestDatabase, type TestDatabase } from './database.js';

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

export interface TestAppOptions {
  /** config.toml keys to set, e.g. `{ api: { max_body_bytes: 2048 } }`; they go through the real loader. */
  config?: DeepPartial<ResolvedConfig>;
  /** The clock commands read; defaults to the real one. */
  clock?: () => Date;
  /** Extra middleware, routes and health checks, built from the deps (as src/app/server.ts would). */
  extras?: (deps: AppDeps) => AppExtras;
  /** Use this database instead of a fresh one (it is then not dropped by `close`). */
  db?: TestDatabase;
}

export interface TestApp {
  /** The real app; call `app.request(path, init)`. */
  app: App;
  /** The deps the app was built from (its own pools, store, config). */
  deps: AppDeps;
  /** The test file's own migrated database; `db.pool` is a separate pool for assertions. */
  db: TestDatabase;
  /** Closes the app's pools and drops the database (when this helper created it). */
  close(): Promise<void>;
}

/**
 * Builds the HTTP app as src/app/server.ts does, on a fresh migrated database of its own.
 * @example const t = await createTestApp({ config: { api: { max_messages_per_request: 3 } } });
 *          const res = await t.app.request('/health'); … afterAll(() => t.close());
 */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const db = options.db ?? (await createTestDatabase());
  // Reads after a write wait for the projections up to 10 s (not the 2 s default): a test's assertion is
  // about what is read, and a loaded CI machine may take longer than 2 s to project one write.
  const api = { read_wait_default_ms: 10_000, ...options.config?.api };
  const toml = stringify({ ...options.config, api, log_level: 'silent', database: { ...options.config?.database, url: db.url, min_connections: 0 } });
  const config = resolveConfig(toml, {});
  if (config.isErr()) throw config.error;
  const pools = createPools(db.url, undefined, config.value.database);
  const deps: AppDeps = {
    config: config.value,
    pools,
    store: configuredEventStore(pools.write, config.value),
    logger: createLogger('silent'),
    clock: options.clock ?? (() => new Date()),
    startedAt: new Date(),
    version: VERSION,
  };
  const app = createApp(deps, options.extras?.(deps));
  return {
    app,
    deps,
    db,
    async close() {
      await pools.close();
      if (!options.db) await db.drop();
    },
  };
}

/** Sends a JSON request (with Content-Type and Content-Length, as real clients do) and parses the answer. */
export async function sendJson(
  app: App,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: any }> {
  const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const res = await app.request(path, {
    method,
    headers: {
      ...(text !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) } : {}),
      ...headers,
    },
    ...(text !== undefined ? { body: text } : {}),
  });
  const raw = await res.text();
  let parsed: unknown = raw;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** How many events the database holds (to prove that a rejected request wrote nothing). */
export async function countEvents(db: TestDatabase): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>('select count(*)::int as n from events');
  return rows[0]!.n;
}
