import { describe, expect, it } from 'vitest';
import { bindPolicy } from '../../../src/http/auth/bindPolicy.js';
import { createKeyRegistry, sha256 } from '../../../src/http/auth/keys.js';
import { isLoopbackAddress, isLoopbackHost, trustedProxies } from '../../../src/http/auth/network.js';
import { grants } from '../../../src/http/auth/scopes.js';
import { chooseEncoding } from '../../../src/http/middleware/compress.js';
import { resolveConfig } from '../../../src/config/load.js';

describe('grants', () => {
  it('admin grants everything; other scopes only themselves', () => {
    expect(grants(['admin'], 'write')).toBe(true);
    expect(grants(['admin'], 'read')).toBe(true);
    expect(grants(['read'], 'write')).toBe(false);
    expect(grants(['write'], 'admin')).toBe(false);
    expect(grants(['read', 'write'], 'read')).toBe(true);
    expect(grants([], 'public')).toBe(true);
  });
});

describe('key registry', () => {
  it('finds keys by digest, whether configured as key or key_sha256', () => {
    const a = 'a'.repeat(40);
    const b = 'b'.repeat(40);
    const registry = createKeyRegistry([
      { name: 'a', key: a, scopes: ['read'] },
      { name: 'b', key_sha256: sha256(b).toString('hex'), scopes: ['admin'] },
    ]);
    expect(registry.size).toBe(2);
    expect(registry.lookup(a)?.name).toBe('a');
    expect(registry.lookup(b)?.scopes).toEqual(['admin']);
    expect(registry.lookup(`${a}x`)).toBeUndefined();
    // Only digests are held.
    expect(JSON.stringify(registry.lookup(a))).not.toContain(a);
  });
});

describe('network', () => {
  it('recognises loopback addresses and hosts', () => {
    for (const a of ['127.0.0.1', '127.255.0.9', '::1', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1']) expect(isLoopbackAddress(a), a).toBe(true);
    for (const a of ['10.0.0.1', '::ffff:10.0.0.1', 'fd00::1', '::', '0.0.0.0', undefined]) expect(isLoopbackAddress(a), String(a)).toBe(false);
    for (const h of ['127.0.0.1', 'localhost', '::1', '[::1]']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', 'example.com', '192.0.2.2']) expect(isLoopbackHost(h), h).toBe(false);
  });

  it('matches trusted proxies by address and CIDR range, IPv4-mapped included', () => {
    const trusted = trustedProxies(['10.0.0.0/8', '192.168.1.5', 'fd00::/64']);
    expect(trusted('10.20.30.40')).toBe(true);
    expect(trusted('::ffff:10.1.1.1')).toBe(true);
    expect(trusted('192.168.1.5')).toBe(true);
    expect(trusted('192.168.1.6')).toBe(false);
    expect(trusted('fd00::7')).toBe(true);
    expect(trusted('fd01::7')).toBe(false);
    expect(trusted('not-an-ip')).toBe(false);
  });
});

describe('bind policy', () => {
  const config = (env: Record<string, string>) => resolveConfig(undefined, env)._unsafeUnwrap();
  it('loopback without keys: loopback-only mode; non-loopback without keys: refused; with keys: allowed', () => {
    expect(bindPolicy(config({}))._unsafeUnwrap()).toEqual({ loopbackOnly: true });
    expect(bindPolicy(config({ HOST: '::1' }))._unsafeUnwrap()).toEqual({ loopbackOnly: true });
    expect(bindPolicy(config({ HOST: '0.0.0.0' }))._unsafeUnwrapErr()).toMatch(/^refusing to start: server\.host = "0\.0\.0\.0"/);
    expect(bindPolicy(config({ HOST: '0.0.0.0', SEKHA_SERVER__ROLE: 'projector' }))._unsafeUnwrap()).toEqual({ loopbackOnly: false });
    expect(bindPolicy(config({ HOST: '0.0.0.0', SEKHA_API_KEYS: `a:${'k'.repeat(32)}:read` }))._unsafeUnwrap()).toEqual({ loopbackOnly: false });
  });
});

describe('chooseEncoding', () => {
  it.each([
    [undefined, undefined],
    ['identity', undefined],
    ['gzip', 'gzip'],
    ['br', 'br'],
    ['gzip, deflate, br', 'br'],
    ['br;q=0.5, gzip', 'gzip'],
    ['br;q=0, gzip;q=0.1', 'gzip'],
    ['*', 'br'],
    ['*, br;q=0', 'gzip'],
    ['gzip;q=0, br;q=0', undefined],
  ])('%s → %s', (header, expected) => {
    expect(chooseEncoding(header)).toBe(expected);
  });
});
