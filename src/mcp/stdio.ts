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
import { startService, type RunningService } from '../app/server.js';
import { VERSION } from '../version.js';
import { MCP_PATH } from './http.js';

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

  const stopped = new Promise<void>((resolve) => (server.onclose = () => resolve()));
  await server.connect(new StdioServerTransport());
  await stopped;
  await client.close().catch(() => {});
  await service?.stop();
}
