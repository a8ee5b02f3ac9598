import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformExtras } from '../../src/app/platform.js';
import { createTestApp, type TestApp } from '../support/testApp.js';

/** Routes that serve the document itself. */
// Not REST operations: the document itself, its page, and the MCP endpoint (described by the Model Context Protocol).
const META = new Set(['/openapi.json', '/docs', '/mcp']);

describe('OpenAPI document', () => {
  let t: TestApp;
  let doc: any;
  beforeAll(async () => {
    t = await createTestApp({ extras: (deps) => platformExtras(deps) });
    const res = await t.app.request('/openapi.json');
    expect(res.status).toBe(200);
    doc = await res.json();
  });
  afterAll(() => t.close());

  it('validates as OpenAPI 3', async () => {
    expect(doc.openapi).toMatch(/^3\./);
    // validate() dereferences in place: give it a copy.
    await expect(SwaggerParser.validate(structuredClone(doc))).resolves.toBeTruthy();
  });

  it('lists every route the app serves', () => {
    const served = t.app.routes
      .filter((r) => r.method !== 'ALL' && !META.has(r.path))
      .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, '{$1}')}`);
    expect(served.length).toBeGreaterThan(10);
    const documented = new Set(Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item as object).map((m) => `${m} ${path}`)));
    const missing = [...new Set(served)].filter((r) => !documented.has(r));
    expect(missing).toEqual([]);
    for (const route of ['get /health', 'get /ready', 'get /metrics', 'post /api/v1/conversations', 'delete /api/v1/conversations/{id}']) {
      expect(documented.has(route), route).toBe(true);
    }
  });

  it('declares the security schemes, and marks public routes and scopes', () => {
    expect(doc.components.securitySchemes).toMatchObject({
      bearerAuth: { type: 'http', scheme: 'bearer' },
      apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
    });
    expect(doc.security).toEqual([{ bearerAuth: [] }, { apiKeyHeader: [] }]);
    expect(doc.paths['/health'].get.security).toEqual([]);
    expect(doc.paths['/api/v1/conversations'].post['x-required-scope']).toBe('write');
    expect(doc.paths['/api/v1/conversations'].get['x-required-scope']).toBe('read');
  });

  it('/docs is a self-contained page listing every operation', async () => {
    const res = await t.app.request('/docs');
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).not.toMatch(/<script|https?:\/\/(?!app\.)[a-z]/i);
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of Object.keys(item as object)) {
        expect(html).toContain(`<td class="m ${method}">${method.toUpperCase()}</td><td><code>${path.replace(/&/g, '&#38;')}</code>`);
      }
    }
  });
});
