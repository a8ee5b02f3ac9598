import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load.js';
import { createKeyRegistry } from '../../src/http/auth/keys.js';

const run = promisify(execFile);
const bin = join(import.meta.dirname, '..', '..', 'bin', 'sekha.mjs');

describe('sekha bin', () => {
  it('create-api-key prints a key whose config lines (TOML digest and env entry) authenticate it', async () => {
    const { stdout } = await run(process.execPath, [bin, 'create-api-key', 'ci-bot', '--scopes', 'read,admin']);
    const key = /^ {2}(sk_\S+)$/m.exec(stdout)![1]!;
    expect(key.length).toBeGreaterThanOrEqual(32);
    const toml = stdout.slice(stdout.indexOf('[[api.keys]]'), stdout.indexOf('\n\nor in the environment'));
    expect(toml).not.toContain(key);
    const fromToml = resolveConfig(toml, {})._unsafeUnwrap();
    expect(createKeyRegistry(fromToml.api.keys).lookup(key)).toMatchObject({ name: 'ci-bot', scopes: ['read', 'admin'] });
    const envEntry = /SEKHA_API_KEYS=(\S+)/.exec(stdout)![1]!;
    const fromEnv = resolveConfig(undefined, { SEKHA_API_KEYS: envEntry })._unsafeUnwrap();
    expect(createKeyRegistry(fromEnv.api.keys).lookup(key)?.name).toBe('ci-bot');
  });

  it('create-api-key refuses an unknown scope with exit code 2', async () => {
    const failed = await run(process.execPath, [bin, 'create-api-key', 'x', '--scopes', 'read,root']).catch((e: { code: number; stderr: string }) => e);
    expect(failed).toMatchObject({ code: 2 });
    expect((failed as { stderr: string }).stderr).toMatch(/^create-api-key: scopes\.1: /);
  });

  it('a bad configuration stops serve with one line and exit code 2', async () => {
    const failed = await run(process.execPath, [bin, 'serve', '--role', 'worker'], { env: { ...process.env, SEKHA_CONFIG: '' } }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(failed).toMatchObject({ code: 2 });
    expect((failed as { stderr: string }).stderr.trim()).toBe('config: server.role = "worker" is invalid: allowed: one of "all", "api", "projector"');
  });
});
