import { err, ok, type Result } from 'neverthrow';
import type { ResolvedConfig } from '../../config/load.js';
import { isLoopbackHost } from './network.js';

/**
 * Whether the server may start as configured: without API keys it serves loopback clients only, and it
 * refuses to listen on a non-loopback address, where anyone could reach an API with no key.
 */
export function bindPolicy(config: Pick<ResolvedConfig, 'server' | 'api'>): Result<{ loopbackOnly: boolean }, string> {
  // A projector process serves no API, only /health, /ready and /metrics.
  if (config.api.keys.length > 0 || config.server.role === 'projector') return ok({ loopbackOnly: false });
  if (!isLoopbackHost(config.server.host)) {
    return err(
      `refusing to start: server.host = ${JSON.stringify(config.server.host)} is reachable from other machines and no API key is configured; ` +
        'add one ([[api.keys]] or SEKHA_API_KEYS; `sekha create-api-key NAME` makes one) or listen on 127.0.0.1',
    );
  }
  return ok({ loopbackOnly: true });
}
