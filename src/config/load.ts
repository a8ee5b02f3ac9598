import { readFileSync, existsSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { err, ok, type Result } from 'neverthrow';
import type { z } from 'zod';
import { configSchema, type Config, type Scope } from './schema.js';

/** A configuration that cannot be used; `message` is one line naming key, value and what is allowed. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Resolved configuration: `embedding.provider` is always decided. */
export type ResolvedConfig = Config & {
  embedding: Config['embedding'] & { provider: 'local' | 'ollama' };
};

type Tree = Record<string, unknown>;

const TOP_LEVEL_KEYS = new Set(['data_dir', 'log_level']);

/** Short environment names of CONFIG.md and the config path each sets. */
const SHORT_ENV: Record<string, string> = {
  HOST: 'server.host',
  PORT: 'server.port',
  DATA_DIR: 'data_dir',
  DATABASE_URL: 'database.url',
  READ_DATABASE_URL: 'database.read_url',
  CHROMA_URL: 'chroma.url',
  EMBEDDING_PROVIDER: 'embedding.provider',
  OLLAMA_URL: 'embedding.ollama_url',
  EMBEDDING_MODEL: 'embedding.model',
  SUMMARIZATION_MODEL: 'summaries.model',
  REDIS_URL: 'redis.url',
  LOG_LEVEL: 'log_level',
};

function setPath(tree: Tree, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = tree;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as Tree;
  }
  node[parts[parts.length - 1]!] = value;
}

/** Parses `SEKHA_API_KEYS`: comma-separated `name:key:scopes`, scopes joined by `+`, `|` or `;`. */
export function parseApiKeysEnv(value: string): Result<Tree[], ConfigError> {
  const keys: Tree[] = [];
  for (const entry of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [name, key, scopes] = entry.split(':');
    if (!name || !key) {
      return err(new ConfigError(`config: SEKHA_API_KEYS entry "${name ?? ''}:…" is invalid: expected name:key:scopes`));
    }
    const scopeList = (scopes ?? 'read+write').split(/[+|; ]/).filter(Boolean) as Scope[];
    keys.push({ name, key, scopes: scopeList });
  }
  return ok(keys);
}

/** Overlays environment variables on a config tree (short names, then `SEKHA_<SECTION>__<KEY>`). */
function applyEnv(tree: Tree, env: NodeJS.ProcessEnv): Result<Tree, ConfigError> {
  for (const [name, path] of Object.entries(SHORT_ENV)) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(tree, path, value);
  }
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('SEKHA_') || value === undefined || name === 'SEKHA_API_KEYS' || name === 'SEKHA_CONFIG') continue;
    const path = name.slice('SEKHA_'.length).toLowerCase().split('__');
    // Without `__` only top-level keys count: clients' own SEKHA_* variables (SEKHA_API_KEY…) are not ours.
    if (path.length === 1 && !TOP_LEVEL_KEYS.has(path[0]!)) continue;
    setPath(tree, path.join('.'), value);
  }
  if (env.SEKHA_API_KEYS) {
    const keys = parseApiKeysEnv(env.SEKHA_API_KEYS);
    if (keys.isErr()) return err(keys.error);
    const api = (tree.api ?? {}) as Tree;
    api.keys = [...((api.keys as Tree[] | undefined) ?? []), ...keys.value];
    tree.api = api;
  }
  return ok(tree);
}

function valueAt(tree: unknown, path: PropertyKey[]): unknown {
  let node = tree;
  for (const p of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[p];
  }
  return node;
}

const SECRET_KEYS = new Set(['key', 'key_sha256', 'password']);

/** Shows a value in an error without secrets: key material is hidden, URL passwords are masked. */
function showValue(path: readonly PropertyKey[], raw: unknown): string {
  if (SECRET_KEYS.has(String(path[path.length - 1]))) return '<hidden>';
  if (raw === undefined) return '(missing)';
  const text = JSON.stringify(raw, (k, v: unknown) => (SECRET_KEYS.has(k) ? '<hidden>' : v));
  return text.replace(/\/\/([^/@:"]*):[^/@"]*@/g, '//$1:***@');
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const key = issue.path.map(String).join('.') || '(root)';
  if (issue.code === 'unrecognized_keys') {
    const where = issue.path.length ? `${key}.` : '';
    return `config: ${issue.keys.map((k) => where + k).join(', ')} is not a known key: see config.example.toml for every key`;
  }
  let raw = valueAt(input, issue.path);
  // A list given as one comma-separated string (env): show the item that is wrong.
  const parent = valueAt(input, issue.path.slice(0, -1));
  if (raw === undefined && typeof parent === 'string' && typeof issue.path.at(-1) === 'number') raw = parent.split(',')[issue.path.at(-1) as number]?.trim();
  const shown = showValue(issue.path, raw);
  let allowed = issue.message;
  if (issue.code === 'invalid_value' && 'values' in issue) allowed = `allowed: one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  return `config: ${key} = ${shown} is invalid: ${allowed}`;
}

/** Reads defaults → TOML text → environment, validates, and decides the embedding provider. */
export function resolveConfig(tomlText: string | undefined, env: NodeJS.ProcessEnv): Result<ResolvedConfig, ConfigError> {
  let tree: Tree = {};
  if (tomlText !== undefined) {
    try {
      tree = parseToml(tomlText) as Tree;
    } catch (e) {
      const { line, column } = e as { line?: number; column?: number };
      const at = line !== undefined ? ` (line ${line}, column ${column ?? 0})` : '';
      return err(new ConfigError(`config: config.toml cannot be parsed${at}: ${(e as Error).message.split('\n')[0]}`));
    }
  }
  // The tuning guide writes a flat `embedding_model`; it means [embedding] model.
  if (typeof tree.embedding_model === 'string') {
    setPath(tree, 'embedding.model', tree.embedding_model);
    delete tree.embedding_model;
  }
  const withEnv = applyEnv(tree, env);
  if (withEnv.isErr()) return err(withEnv.error);
  const parsed = configSchema.safeParse(withEnv.value);
  if (!parsed.success) {
    return err(new ConfigError(describeIssue(parsed.error.issues[0]!, withEnv.value)));
  }
  const config = parsed.data;
  const provider = config.embedding.provider ?? (config.embedding.ollama_url ? 'ollama' : 'local');
  if (provider === 'ollama' && !config.embedding.ollama_url) {
    return err(new ConfigError('config: embedding.provider = "ollama" is invalid: allowed only with embedding.ollama_url (OLLAMA_URL) set'));
  }
  return ok({ ...config, embedding: { ...config.embedding, provider } });
}

/** Loads the configuration of this process: `SEKHA_CONFIG` or ./config.toml, then the environment. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Result<ResolvedConfig, ConfigError> {
  const path = env.SEKHA_CONFIG ?? './config.toml';
  if (env.SEKHA_CONFIG && !existsSync(path)) {
    return err(new ConfigError(`config: SEKHA_CONFIG = ${JSON.stringify(path)} is invalid: no such file`));
  }
  const text = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  return resolveConfig(text, env);
}
