import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseToml } from 'smol-toml';
import { readFileSync } from 'node:fs';
import { loadConfig, resolveConfig } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema.js';

const LONG_KEY = 'k'.repeat(40);

/** The one-line error of a configuration that must not start. */
function failure(toml: string | undefined, env: Record<string, string> = {}): string {
  const result = resolveConfig(toml, env);
  if (result.isOk()) throw new Error('expected a configuration error');
  expect(result.error.message).not.toContain('\n');
  return result.error.message;
}

function config(toml: string | undefined, env: Record<string, string> = {}) {
  return resolveConfig(toml, env)._unsafeUnwrap();
}

describe('config defaults', () => {
  it('has every default of CONFIG.md with nothing configured', () => {
    const c = config(undefined);
    expect(c.server).toMatchObject({ host: '127.0.0.1', port: 8080, role: 'all' });
    expect(c.database).toMatchObject({ max_connections: 20, min_connections: 5, connect_timeout: 10, idle_timeout: 600, max_lifetime: 1800 });
    expect(c.api).toMatchObject({ rate_limit_requests: 100, rate_limit_burst: 10, compress_responses: true, compress_min_bytes: 1024, max_body_bytes: 10 * 1024 * 1024, cors_origins: [] });
    expect(c.embedding).toMatchObject({ provider: 'local', model: 'nomic-embed-text', batch_size: 100, cache: true });
    expect(c.chroma).toMatchObject({ collection_prefix: 'sekha_messages', space: 'cosine', construction_ef: 200, search_ef: 100, m: 16, batch_size: 500 });
    expect(c.projections).toMatchObject({ batch_size: 500, poll_interval_ms: 1000, notify_window_ms: 2, lease: true });
    expect(c.context).toMatchObject({ default_budget: 8000, recency_half_life_days: 7 });
    expect(c.search).toMatchObject({ bm25_k1: 0.9, bm25_b: 0.3 });
    expect(c.summaries).toMatchObject({ model: 'llama3.1:8b', enabled: true });
    expect(c.data_dir).toBe('./data');
    expect(c.log_level).toBe('info');
  });
});

describe('config sources: defaults → TOML → environment', () => {
  it('TOML overrides defaults and the environment overrides TOML', () => {
    const toml = '[server]\nport = 9000\nhost = "0.0.0.0"\n[api]\nrate_limit_requests = 50\n';
    expect(config(toml).server.port).toBe(9000);
    expect(config(toml, { PORT: '9100' }).server.port).toBe(9100);
    expect(config(toml, { SEKHA_API__RATE_LIMIT_REQUESTS: '100' }).api.rate_limit_requests).toBe(100);
  });

  it('SEKHA_<SECTION>__<KEY> sets any key, coerced to its type', () => {
    const c = config(undefined, { SEKHA_CHROMA__SEARCH_EF: '64', SEKHA_API__COMPRESS_RESPONSES: 'off', SEKHA_API__CORS_ORIGINS: 'https://a.example, https://b.example', SEKHA_LOG_LEVEL: 'debug' });
    expect(c.chroma.search_ef).toBe(64);
    expect(c.api.compress_responses).toBe(false);
    expect(c.api.cors_origins).toEqual(['https://a.example', 'https://b.example']);
    expect(c.log_level).toBe('debug');
  });

  it('reads every short environment name', () => {
    const c = config(undefined, {
      HOST: '::1',
      PORT: '7000',
      DATA_DIR: '/var/lib/sekha',
      DATABASE_URL: 'postgres://db:5432/sekha',
      READ_DATABASE_URL: 'postgres://replica:5432/sekha',
      CHROMA_URL: 'http://chroma:8000',
      OLLAMA_URL: 'http://ollama:11434',
      EMBEDDING_MODEL: 'mxbai-embed-large',
      SUMMARIZATION_MODEL: 'qwen2.5:7b',
      REDIS_URL: 'redis://redis:6379',
      LOG_LEVEL: 'warn',
      SEKHA_API_KEYS: `ci:${LONG_KEY}:read+write,ops:${'o'.repeat(32)}:admin`,
    });
    expect(c.server).toMatchObject({ host: '::1', port: 7000 });
    expect(c.data_dir).toBe('/var/lib/sekha');
    expect(c.database).toMatchObject({ url: 'postgres://db:5432/sekha', read_url: 'postgres://replica:5432/sekha' });
    expect(c.chroma.url).toBe('http://chroma:8000');
    // OLLAMA_URL set and no EMBEDDING_PROVIDER: the provider is ollama.
    expect(c.embedding).toMatchObject({ provider: 'ollama', ollama_url: 'http://ollama:11434', model: 'mxbai-embed-large' });
    expect(c.summaries.model).toBe('qwen2.5:7b');
    expect(c.redis.url).toBe('redis://redis:6379');
    expect(c.log_level).toBe('warn');
    expect(c.api.keys.map((k) => [k.name, k.scopes])).toEqual([
      ['ci', ['read', 'write']],
      ['ops', ['admin']],
    ]);
    expect(config(undefined, { OLLAMA_URL: 'http://o:1', EMBEDDING_PROVIDER: 'local' }).embedding.provider).toBe('local');
  });

  it('ignores SEKHA_* variables that are not config paths (client SDK settings)', () => {
    expect(config(undefined, { SEKHA_API_KEY: 'x', SEKHA_BASE_URL: 'http://x' }).server.port).toBe(8080);
  });

  it('accepts the flat embedding_model of the tuning guide', () => {
    expect(config('embedding_model = "all-minilm"\n').embedding.model).toBe('all-minilm');
  });

  it('loads SEKHA_CONFIG from disk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sekha-config-'));
    const file = join(dir, 'sekha.toml');
    try {
      writeFileSync(file, '[projections]\nbatch_size = 42\n');
      expect(loadConfig({ SEKHA_CONFIG: file })._unsafeUnwrap().projections.batch_size).toBe(42);
      expect(loadConfig({ SEKHA_CONFIG: join(dir, 'missing.toml') })._unsafeUnwrapErr().message).toBe(
        `config: SEKHA_CONFIG = ${JSON.stringify(join(dir, 'missing.toml'))} is invalid: no such file`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('config error messages name the key, the value and what is allowed', () => {
  it('bad port', () => {
    expect(failure('[server]\nport = 70000\n')).toBe('config: server.port = 70000 is invalid: allowed: an integer port from 0 to 65535');
    expect(failure(undefined, { PORT: 'eighty' })).toBe('config: server.port = "eighty" is invalid: allowed: an integer port from 0 to 65535');
  });

  it('bad enum', () => {
    expect(failure('[server]\nrole = "worker"\n')).toBe('config: server.role = "worker" is invalid: allowed: one of "all", "api", "projector"');
    expect(failure(undefined, { SEKHA_CHROMA__SPACE: 'manhattan' })).toBe('config: chroma.space = "manhattan" is invalid: allowed: one of "cosine", "l2", "ip"');
  });

  it('BM25 parameters out of range', () => {
    expect(failure('[search]\nbm25_b = 1.5\n')).toMatch(/^config: search\.bm25_b = 1\.5 is invalid/);
    expect(failure(undefined, { SEKHA_SEARCH__BM25_K1: '-1' })).toMatch(/^config: search\.bm25_k1 = "-1" is invalid/);
    expect(config(undefined, { SEKHA_SEARCH__BM25_K1: '1.2', SEKHA_SEARCH__BM25_B: '0.75' }).search).toMatchObject({ bm25_k1: 1.2, bm25_b: 0.75 });
  });

  it('bad URL, without showing its password', () => {
    expect(failure(undefined, { CHROMA_URL: 'chroma 8000' })).toBe('config: chroma.url = "chroma 8000" is invalid: allowed: a URL such as scheme://host:port/path');
    expect(failure(undefined, { DATABASE_URL: 'postgres://sekha:hunter2@db host/x' })).toBe(
      'config: database.url = "postgres://sekha:***@db host/x" is invalid: allowed: a URL such as scheme://host:port/path',
    );
  });

  it('bad bool', () => {
    expect(failure('[api]\ncompress_responses = "maybe"\n')).toBe('config: api.compress_responses = "maybe" is invalid: allowed: true or false');
    expect(failure(undefined, { SEKHA_PROJECTIONS__LEASE: 'sometimes' })).toBe('config: projections.lease = "sometimes" is invalid: allowed: true or false');
  });

  it('bad number', () => {
    expect(failure(undefined, { SEKHA_API__RATE_LIMIT_REQUESTS: '100x' })).toBe('config: api.rate_limit_requests = "100x" is invalid: allowed: a whole number greater than 0');
    expect(failure('[api]\nrate_limit_burst = -1\n')).toBe('config: api.rate_limit_burst = -1 is invalid: allowed: a whole number, 0 or more');
  });

  it('short key, hidden', () => {
    expect(failure('[[api.keys]]\nname = "ci"\nkey = "tooshort"\n')).toBe('config: api.keys.0.key = <hidden> is invalid: allowed: a key of at least 32 characters');
    const message = failure(undefined, { SEKHA_API_KEYS: 'ci:tooshort-secret:read' });
    expect(message).toBe('config: api.keys.0.key = <hidden> is invalid: allowed: a key of at least 32 characters');
    expect(message).not.toContain('tooshort-secret');
  });

  it('bad scope, malformed SEKHA_API_KEYS entry, duplicate key names', () => {
    expect(failure(undefined, { SEKHA_API_KEYS: `ci:${LONG_KEY}:read+root` })).toBe('config: api.keys.0.scopes.1 = "root" is invalid: allowed: one of "read", "write", "admin"');
    expect(failure(undefined, { SEKHA_API_KEYS: 'justaname' })).toBe('config: SEKHA_API_KEYS entry "justaname:…" is invalid: expected name:key:scopes');
    const dup = failure(undefined, { SEKHA_API_KEYS: `ci:${LONG_KEY}:read,ci:${'z'.repeat(32)}:read` });
    expect(dup).toMatch(/^config: api\.keys = .* is invalid: allowed: each key name once$/);
    expect(dup).not.toContain(LONG_KEY);
  });

  it('bad trusted proxy', () => {
    expect(failure(undefined, { SEKHA_SERVER__TRUSTED_PROXIES: '10.0.0.0/8, proxy.local' })).toBe(
      'config: server.trusted_proxies.1 = "proxy.local" is invalid: allowed: IP addresses or CIDR ranges such as 10.0.0.0/8',
    );
    expect(config(undefined, { SEKHA_SERVER__TRUSTED_PROXIES: '10.0.0.0/8, ::1' }).server.trusted_proxies).toEqual(['10.0.0.0/8', '::1']);
  });

  it('unparseable TOML', () => {
    expect(failure('[server\nport = 1\n')).toMatch(/^config: config\.toml cannot be parsed \(line 1, column \d+\): .+/);
  });

  it('unknown keys (typos) in TOML and in SEKHA_<SECTION>__<KEY>', () => {
    expect(failure('[api]\nrate_limit_request = 5\n')).toBe('config: api.rate_limit_request is not a known key: see config.example.toml for every key');
    expect(failure(undefined, { SEKHA_SERVER__PROT: '1' })).toBe('config: server.prot is not a known key: see config.example.toml for every key');
  });

  it('ollama without a URL', () => {
    expect(failure(undefined, { EMBEDDING_PROVIDER: 'ollama' })).toBe(
      'config: embedding.provider = "ollama" is invalid: allowed only with embedding.ollama_url (OLLAMA_URL) set',
    );
  });
});

describe('config.example.toml', () => {
  const example = readFileSync(new URL('../../config.example.toml', import.meta.url), 'utf8');

  it('is valid and documents every key of the schema', () => {
    const tree = parseToml(example) as Record<string, unknown>;
    expect(resolveConfig(example, {}).isOk()).toBe(true);
    const documented = new Set<string>();
    const walk = (node: unknown, prefix: string) => {
      if (typeof node !== 'object' || node === null || Array.isArray(node)) return;
      for (const [k, v] of Object.entries(node)) {
        documented.add(prefix + k);
        if (k !== 'rate_limit_routes') walk(v, `${prefix}${k}.`);
      }
    };
    walk(tree, '');
    // Keys whose example must stay commented out (URLs that would replace embedded services) are
    // documented as `# key = ...` lines.
    for (const m of example.matchAll(/^#\s*([a-z_]+)\s*=/gm)) documented.add(m[1]!);
    const section = (s: string) => new RegExp(`^#?\\s*\\[${s}\\]`, 'm');
    const shape = configSchema.shape;
    for (const [name, schema] of Object.entries(shape)) {
      const inner = (schema as { def: { innerType?: { def?: { shape?: Record<string, unknown> } } } }).def.innerType?.def?.shape;
      if (!inner) {
        expect(documented.has(name), `top-level key ${name}`).toBe(true);
        continue;
      }
      expect(example, `section [${name}]`).toMatch(section(name));
      for (const key of Object.keys(inner)) {
        expect(documented.has(`${name}.${key}`) || documented.has(key), `${name}.${key}`).toBe(true);
      }
    }
  });
});
