import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiKeyConfig, Scope } from '../../config/schema.js';

/** A configured key as held in memory: its name, scopes, and only the SHA-256 of the secret. */
export interface KnownKey {
  name: string;
  scopes: readonly Scope[];
  digest: Buffer;
}

/** The configured API keys; `lookup` compares digests in constant time. */
export interface KeyRegistry {
  readonly size: number;
  lookup(presented: string): KnownKey | undefined;
}

export const MIN_KEY_LENGTH = 32;

export const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** Builds the registry from `[[api.keys]]` (a `key` is hashed at once; `key_sha256` is taken as is). */
export function createKeyRegistry(keys: readonly ApiKeyConfig[]): KeyRegistry {
  const known: KnownKey[] = keys.map((k) => ({
    name: k.name,
    scopes: k.scopes,
    digest: k.key_sha256 ? Buffer.from(k.key_sha256, 'hex') : sha256(k.key!),
  }));
  return {
    size: known.length,
    lookup(presented) {
      const digest = sha256(presented);
      let found: KnownKey | undefined;
      // Every entry is compared, so the time taken does not tell which one matched.
      for (const k of known) if (timingSafeEqual(k.digest, digest) && !found) found = k;
      return found;
    },
  };
}
