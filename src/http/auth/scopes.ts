import type { Context, Handler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { Scope } from '../../config/schema.js';

/** What a route needs: nothing (public), or one scope. */
export type Requirement = 'public' | Scope;

/**
 * A route's requirement as its route declares it: one requirement, or one that a query parameter
 * raises (`DELETE …?purge=true` needs admin). Routes that declare nothing need read for GET and HEAD
 * and write for the other methods.
 */
export type ScopeRule = Requirement | { needs: Requirement; raisedBy: { param: string; values: readonly string[]; needs: Requirement } };

const RULE = Symbol('scope rule');

/** The default of a route that declares no scope, and of a request that matches no route. */
const byMethod = (method: string): Requirement => {
  const m = method.toUpperCase();
  if (m === 'OPTIONS') return 'public';
  return m === 'GET' || m === 'HEAD' ? 'read' : 'write';
};

/** Marks a route's handler with the scope rule its route declares; routing then finds it for auth. */
export function withScope<H extends Handler>(rule: ScopeRule, handler: H): H {
  Object.defineProperty(handler, RULE, { value: rule });
  return handler;
}

/** How a rule reads in the OpenAPI document and on /docs. */
export const describeRule = (rule: ScopeRule): string =>
  typeof rule === 'string' ? rule : `${rule.needs} (${rule.raisedBy.needs} with ${rule.raisedBy.param}=${rule.raisedBy.values[0]})`;

/** The rule a route declares, or its method's default. */
export const ruleOr = (rule: ScopeRule | undefined, method: string): ScopeRule => rule ?? byMethod(method);

/** The scope this request needs: the rule of the route that answers it (a 404 needs its method's default). */
export function requiredScope(c: Context): Requirement {
  let rule: ScopeRule | undefined;
  for (const route of matchedRoutes(c)) {
    const declared = (route.handler as { [RULE]?: ScopeRule })[RULE];
    if (declared !== undefined && route.method !== 'ALL') rule = declared;
  }
  const resolved = ruleOr(rule, c.req.method);
  if (typeof resolved === 'string') return resolved;
  const value = new URL(c.req.url).searchParams.get(resolved.raisedBy.param);
  return value !== null && resolved.raisedBy.values.includes(value) ? resolved.raisedBy.needs : resolved.needs;
}

/** Whether scopes grant a requirement; admin grants everything. */
export const grants = (scopes: readonly Scope[], needed: Requirement): boolean =>
  needed === 'public' || scopes.includes(needed) || scopes.includes('admin');
