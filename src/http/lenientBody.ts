import type { z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { apiError, errorResponse } from './errors.js';

/**
 * Which keys of a body may be dropped when they are `null` (optional keys that do not accept null),
 * and the plans of the values nested under keys and in arrays. Compiled once per route.
 */
interface NullPlan {
  droppable: Set<string>;
  keys: Map<string, NullPlan>;
  items?: NullPlan;
}

type AnySchema = z.ZodType & { _zod: { def: Record<string, any>; optin?: string } };

const WRAPPERS = new Set(['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional', 'success']);

/** The schema under optional/default/pipe/lazy wrappers. */
function unwrap(schema: AnySchema, depth = 0): AnySchema {
  const def = schema._zod.def;
  if (depth > 20) return schema;
  if (WRAPPERS.has(def.type)) return unwrap(def.innerType, depth + 1);
  // z.preprocess(fn, schema) is a pipe from a transform into the schema; schema.transform(fn) the reverse.
  if (def.type === 'pipe') return unwrap(def.in._zod.def.type === 'transform' ? def.out : def.in, depth + 1);
  if (def.type === 'lazy') return unwrap(def.getter(), depth + 1);
  return schema;
}

function merge(a: NullPlan | undefined, b: NullPlan | undefined): NullPlan | undefined {
  if (!a || !b) return a ?? b;
  const keys = new Map(a.keys);
  for (const [k, p] of b.keys) keys.set(k, merge(keys.get(k), p)!);
  const items = merge(a.items, b.items);
  return { droppable: new Set([...a.droppable, ...b.droppable]), keys, ...(items ? { items } : {}) };
}

/** The plan of a schema; undefined where nothing below can be dropped. Records (user metadata) are left alone. */
function planOf(schema: AnySchema, depth = 0): NullPlan | undefined {
  if (depth > 12) return undefined;
  const inner = unwrap(schema);
  const def = inner._zod.def;
  if (def.type === 'object') {
    const plan: NullPlan = { droppable: new Set(), keys: new Map() };
    for (const [key, field] of Object.entries<AnySchema>(def.shape)) {
      if (field._zod.optin && !field.safeParse(null).success) plan.droppable.add(key);
      const nested = planOf(field, depth + 1);
      if (nested) plan.keys.set(key, nested);
    }
    return plan.droppable.size > 0 || plan.keys.size > 0 ? plan : undefined;
  }
  if (def.type === 'array') {
    const items = planOf(def.element, depth + 1);
    return items ? { droppable: new Set(), keys: new Map(), items } : undefined;
  }
  if (def.type === 'union') return (def.options as AnySchema[]).map((o) => planOf(o, depth + 1)).reduce(merge, undefined);
  if (def.type === 'intersection') return merge(planOf(def.left, depth + 1), planOf(def.right, depth + 1));
  return undefined;
}

/** Drops the `null`s the plan allows (in place: the value is freshly parsed). */
function dropNulls(value: unknown, plan: NullPlan): void {
  if (Array.isArray(value)) {
    if (plan.items) for (const item of value) dropNulls(item, plan.items);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const record = value as Record<string, unknown>;
  for (const key of plan.droppable) if (record[key] === null) delete record[key];
  for (const [key, nested] of plan.keys) if (record[key] !== undefined) dropNulls(record[key], nested);
}

/** Compiles a function that makes `null` mean "absent" for every optional field of a body schema. */
export function nullAsAbsent(schema: z.ZodType): (value: unknown) => unknown {
  const plan = planOf(schema as AnySchema);
  return (value) => {
    if (plan) dropNulls(value, plan);
    return value;
  };
}

const JSON_TYPE = /^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i;
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Route middleware (before validation) that makes a JSON body lenient as existing Sekha clients send it:
 * an empty body is no body whatever its Content-Type (an optional body is absent; a required one
 * answers 400 "body: is required"), and `null` is "absent" for every optional field.
 */
export function lenientJsonBody(schema: z.ZodType, required: boolean): MiddlewareHandler {
  const normalize = nullAsAbsent(schema);
  return async function lenientJsonBodyMiddleware(c, next) {
    if (!BODY_METHODS.has(c.req.method) || c.req.raw.body === null) return next();
    const text = await c.req.text();
    if (text.trim() === '') {
      if (required) {
        return errorResponse(c, apiError('invalid_input', 'body: is required', { field: 'body', reason: 'is required' }));
      } else {
        // No body: drop the Content-Type too, so no media-type check or JSON parse sees one.
        const headers = new Headers(c.req.raw.headers);
        headers.delete('content-type');
        headers.delete('content-length');
        c.req.raw = new Request(c.req.raw.url, { method: c.req.method, headers, signal: c.req.raw.signal });
      }
      return next();
    }
    if (JSON_TYPE.test(c.req.header('content-type') ?? '')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        // The validator answers the malformed JSON.
        return next();
      }
      // The validator reads the parsed body from here: parsed once, nulls dropped.
      const normalized = normalize(parsed);
      c.req.json = <T>() => Promise.resolve(normalized as T);
    }
    return next();
  };
}
