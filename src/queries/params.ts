import { z } from '@hono/zod-openapi';
import { folderSchema, labelSchema, type Limits } from '../http/schemas.js';

/** A query-string boolean: true/false/1/0/yes/no. */
export const queryBool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** An ISO-8601 date-time (or a date) in a query. */
export const queryDate = z
  .string()
  .refine((s) => /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(s) && !Number.isNaN(Date.parse(s)), 'must be an ISO-8601 date-time')
  .transform((s) => new Date(s).toISOString());

export const importanceParam = z.coerce.number().int('must be a whole number').min(1, 'must be between 1 and 10').max(10, 'must be between 1 and 10');

/** A page size / limit: 1 to `api.max_page_size`. */
export const sizeParam = (limits: Limits) =>
  z.coerce.number().int('must be a whole number').min(1, 'must be at least 1').max(limits.max_page_size, `must be at most ${limits.max_page_size}`);

export const offsetParam = z.coerce.number().int('must be a whole number').min(0, 'must not be negative').max(1_000_000, 'must be at most 1000000');

/** Label and folder filters, checked like the writes check them. */
export const labelParam = (limits: Limits) => labelSchema(limits);
export const folderParam = (limits: Limits) => folderSchema(limits);
