import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import {
  CallToolRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../config/load.js';
import { startService, type RunningService } from './server.js';
import { VERSION } from '../version.js';
import { MCP_PATH } from '../mcp/http.js';

export interface StdioOptions {
  /** A running Sekha service; without it the embedded defaults are started in this process. */
  url?: string;
  /** Its API key (SEKHA_API_KEY). */
  key?: string;
}

/**
 * `sekha mcp`: an MCP server on stdin/stdout for desktop agents that start a command. It forwards
 * every request to the Streamable HTTP endpoint of a service (given, or started here on loopback with
 * the configured defaults), so both transports serve the same tools under the same key and scopes.
 * Logs go to stderr: stdout carries the protocol.
 */
export async function runStdioServer(config: ResolvedConfig, logger: Logger, options: StdioOptions): Promise<void> {
  let service: RunningService | undefined;
  let base = options.url;
  if (!base) {
    service = await startService({ ...config, server: { ...config.server, host: '127.0.0.1', port: 0 } }, logger);
    base = service.url;
    logger.info({ url: base }, 'started the embedded service for MCP over stdio');
  }
  const client = new Client({ name: 'sekha-stdio', version: VERSION });
  const headers: Record<string, string> = options.key ? { authorization: `Bearer ${options.key}` } : {};
  await client.connect(new StreamableHTTPClientTransport(new URL(MCP_PATH, base), { requestInit: { headers } }));

  const server = new Server({ name: 'sekha', version: VERSION }, { capabilities: { tools: {}, resources: {} } });
  server.setRequestHandler(ListToolsRequestSchema, (request) => client.listTools(request.params));
  server.setRequestHandler(CallToolRequestSchema, (request) => client.callTool(request.params));
  server.setRequestHandler(ListResourcesRequestSchema, (request) => client.listResources(request.params));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, (request) => client.listResourceTemplates(request.params));
  server.setRequestHandler(ReadResourceRequestSchema, (request) => client.readResource(request.params));

  // The agent ends the session by closing our stdin (then SIGTERM, then SIGKILL a few seconds later,
  // as the SDK's client does): each of these stops the bridge and the service started here, so no
  // PostgreSQL or Chroma outlives it.
  const stopped = new Promise<string>((resolve) => {
    server.onclose = () => resolve('closed');
    process.stdin.once('end', () => resolve('stdin ended'));
    process.stdin.once('close', () => resolve('stdin closed'));
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(signal, () => resolve(signal));
  });
  await server.connect(new StdioServerTransport());
  const reason = await stopped;
  logger.info({ reason }, 'MCP over stdio: stopping');
  await client.close().catch(() => {});
  await service?.stop();
}
