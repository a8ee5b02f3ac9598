import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { Context } from 'hono';

/** `::ffff:1.2.3.4` is the IPv4 client 1.2.3.4 on a dual-stack socket. */
export const normalizeAddress = (address: string): string => address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = normalizeAddress(address);
  return (isIPv4(a) && a.startsWith('127.')) || (isIPv6(a) && /^(0{0,4}:){7}0{0,3}1$|^::1$/.test(a));
}

/** True when a bind host only accepts connections from this machine. */
export const isLoopbackHost = (host: string): boolean => host === 'localhost' || isLoopbackAddress(host.replace(/^\[|\]$/g, ''));

/** The socket's peer address as @hono/node-server provides it; undefined without a socket (app.request). */
export function socketAddress(c: Context): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } }; server?: { incoming?: { socket?: { remoteAddress?: string } } } } | undefined;
  const address = (env?.server ?? env)?.incoming?.socket?.remoteAddress;
  return address ? normalizeAddress(address) : undefined;
}

/** Matches addresses against `server.trusted_proxies` (addresses or CIDR ranges). */
export function trustedProxies(entries: readonly string[]): (address: string) => boolean {
  const list = new BlockList();
  for (const entry of entries) {
    const [net, bits] = entry.split('/');
    const type = isIPv6(net!) ? 'ipv6' : 'ipv4';
    if (bits !== undefined) list.addSubnet(net!, Number(bits), type);
    else list.addAddress(net!, type);
  }
  return (address) => {
    const a = normalizeAddress(address);
    if (isIPv4(a)) return list.check(a, 'ipv4');
    if (isIPv6(a)) return list.check(a, 'ipv6');
    return false;
  };
}

/** Who is asking, for per-client state (rate limits, read-your-writes): the API key's name, else the client address. */
export function requester(c: Context, isTrusted: (address: string) => boolean): string {
  const actor = c.get('actor');
  return actor && actor !== 'anonymous' ? `key:${actor}` : `ip:${clientAddress(c, isTrusted) ?? 'unknown'}`;
}

/**
 * The client's address: the socket peer, or, when that peer is a trusted proxy, the right-most
 * X-Forwarded-For entry that is not itself a trusted proxy (entries further left are client-controlled).
 */
export function clientAddress(c: Context, isTrusted: (address: string) => boolean): string | undefined {
  const peer = socketAddress(c);
  if (!peer || !isTrusted(peer)) return peer;
  const forwarded = (c.req.header('x-forwarded-for') ?? '').split(',').map((s) => normalizeAddress(s.trim())).filter(Boolean);
  for (let i = forwarded.length - 1; i >= 0; i--) {
    const hop = forwarded[i]!;
    if (!isTrusted(hop) || i === 0) return hop;
  }
  return peer;
}
