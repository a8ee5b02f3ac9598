import { randomBytes } from 'node:crypto';
import { err, ok, type Result } from 'neverthrow';
import { apiKeySchema, type Scope } from '../../config/schema.js';
import { sha256 } from './keys.js';

/** A new API key and the lines that configure it. */
export interface NewApiKey {
  key: string;
  sha256: string;
  /** A `[[api.keys]]` entry holding only the digest. */
  toml: string;
  /** The `SEKHA_API_KEYS` entry (holds the key itself). */
  env: string;
}

/** Makes a random key (32 bytes, base64url: 43 characters) for `name` with `scopes` (e.g. "read,write"). */
export function newApiKey(name: string, scopes: string): Result<NewApiKey, string> {
  const key = `sk_${randomBytes(32).toString('base64url')}`;
  const digest = sha256(key).toString('hex');
  const parsed = apiKeySchema.safeParse({ name, key_sha256: digest, scopes: scopes.split(/[,+ ]/).filter(Boolean) });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return err(`${issue.path.join('.') || 'key'}: ${issue.message}`);
  }
  const list = parsed.data.scopes as Scope[];
  return ok({
    key,
    sha256: digest,
    toml: `[[api.keys]]\nname = ${JSON.stringify(name)}\nkey_sha256 = "${digest}"\nscopes = [${list.map((s) => JSON.stringify(s)).join(', ')}]`,
    env: `${name}:${key}:${list.join('+')}`,
  });
}
