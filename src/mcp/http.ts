import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { AppDeps } from '../deps.js';
import type { App } from '../http/openapi.js';
import { withScope } from '../http/auth/scopes.js';
import { createMcpServer } from './server.js';

export const MCP_PATH = '/mcp';

/**
 * The MCP Streamable HTTP endpoint, stateless: each POST gets a server of its own bound to the
 * request's API key (auth runs before, as for every route), answering with JSON. GET (a server→client
 * stream) and DELETE (session end) have nothing to do without sessions: 405, as the protocol allows.
 */
export const mcpHttpRoute = (deps: AppDeps) => (app: App) => {
  // Every call needs read at least; each tool call is checked for its own scope in the server.
  app.post(MCP_PATH, withScope('read', async (c) => {
    const server = createMcpServer(deps, c);
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await server.connect(transport);
    try {
      let parsedBody: unknown;
      try {
        parsedBody = await c.req.json();
      } catch {
        parsedBody = undefined; // the transport answers the JSON-RPC parse error
      }
      return await transport.handleRequest(c.req.raw, parsedBody === undefined ? {} : { parsedBody });
    } finally {
      await server.close();
    }
  }));
  const notAllowed = () =>
    new Response(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'method not allowed: this MCP endpoint is stateless; POST JSON-RPC requests' }, id: null }), {
      status: 405,
      headers: { 'content-type': 'application/json', allow: 'POST' },
    });
  app.get(MCP_PATH, withScope('read', notAllowed));
  app.delete(MCP_PATH, withScope('read', notAllowed));
};
