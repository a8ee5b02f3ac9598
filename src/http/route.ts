import type { Context } from 'hono';
import { matchedRoutes } from 'hono/route';

/**
 * The template of the route that answers this request, OpenAPI style (`/api/v1/conversations/{id}`),
 * known before the handler runs; undefined when no route matches (404).
 */
export function routeTemplate(c: Context): string | undefined {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    const r = routes[i]!;
    if (r.method !== 'ALL') return r.path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, '{$1}');
  }
  return undefined;
}
