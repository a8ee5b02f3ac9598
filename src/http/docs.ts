import type { App } from './openapi.js';
import { describeRule, ruleOr, withScope } from './auth/scopes.js';

type Operation = { summary?: string; description?: string; tags?: string[]; security?: unknown[]; 'x-required-scope'?: string };
type Document = ReturnType<App['getOpenAPIDocument']>;

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

/** The OpenAPI 3 document of every route registered on `app`, with security schemes and each route's scope. */
export function openApiDocument(app: App, version: string): Document {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <API key>' });
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKeyHeader', { type: 'apiKey', in: 'header', name: 'X-API-Key' });
  const doc = app.getOpenAPIDocument({
    openapi: '3.0.3',
    info: {
      title: 'Sekha Controller',
      version,
      description: 'Event-sourced conversation memory for LLM applications. Scopes: read, write, admin (admin grants all).',
    },
    security: [{ bearerAuth: [] }, { apiKeyHeader: [] }],
  });
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = (item as Record<string, Operation | undefined>)[method];
      if (!op) continue;
      // Declared with the route (register puts it in the operation); a route without is its method's default.
      const scope = op['x-required-scope'] ?? describeRule(ruleOr(undefined, method));
      op['x-required-scope'] = scope;
      if (scope === 'public') op.security = [];
    }
  }
  return doc;
}

const escape = (s: string): string => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** A readable page of the document, rendered here: no scripts, no CDN, works offline. */
export function docsPage(doc: Document): string {
  const rows: string[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    for (const method of METHODS) {
      const op = (item as Record<string, Operation | undefined>)[method];
      if (!op) continue;
      rows.push(
        `<tr><td class="m ${method}">${method.toUpperCase()}</td><td><code>${escape(path)}</code></td><td>${escape(op['x-required-scope'] ?? '')}</td>` +
          `<td>${escape(op.summary ?? '')}${op.description ? `<br><small>${escape(op.description)}</small>` : ''}</td></tr>`,
      );
    }
  }
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(doc.info.title)} API</title>
<style>body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}.m{font-weight:600;font-family:monospace}
.get{color:#0a6}.post{color:#06c}.put{color:#a60}.delete{color:#c22}</style></head><body>
<h1>${escape(doc.info.title)} <small>${escape(doc.info.version)}</small></h1>
<p>${escape(doc.info.description ?? '')}</p>
<p>Send the API key as <code>Authorization: Bearer &lt;key&gt;</code> or <code>X-API-Key: &lt;key&gt;</code>.
The machine-readable document (OpenAPI ${escape(doc.openapi)}) is at <a href="/openapi.json">/openapi.json</a>.</p>
<table><thead><tr><th>method</th><th>path</th><th>scope</th><th>what</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table></body></html>`;
}

/** GET /openapi.json and GET /docs (the document is built once, on first request, when every route is in). */
export const docsRoutes = (version: string) => (app: App): void => {
  let doc: Document | undefined;
  const get = () => (doc ??= openApiDocument(app, version));
  app.get('/openapi.json', withScope('public', (c) => c.json(get())));
  app.get('/docs', withScope('public', (c) => c.html(docsPage(get()))));
};
