import { err, ok, type Result } from 'neverthrow';

/** A conversation read from an export file, before validation against the API's limits. */
export interface ImportedConversation {
  source: ImportFormat;
  source_id?: string | undefined;
  title?: string | undefined;
  created_at?: string | undefined;
  /** `name`: the participant, when the export names one. */
  messages: { role: string; name?: string | undefined; content: string; timestamp?: string | undefined; metadata: Record<string, unknown> }[];
}

export const IMPORT_FORMATS = ['chatgpt', 'claude', 'markdown'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/** What is wrong with an export and where (a JSON-path-like location). */
export interface ImportIssue {
  where: string;
  reason: string;
}

export const issue = (where: string, reason: string): Result<never, ImportIssue> => err({ where, reason });

/** Seconds since the epoch (as ChatGPT writes them) or an ISO string, as ISO; undefined when absent or invalid. */
export function isoTime(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return new Date(value * 1000).toISOString();
  if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return new Date(value).toISOString();
  return undefined;
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses each element with `parse`, stopping at the first issue. */
export function parseAll<T>(items: unknown[], parse: (item: unknown, where: string) => Result<T, ImportIssue>, prefix = 'conversations'): Result<T[], ImportIssue> {
  const out: T[] = [];
  for (const [i, item] of items.entries()) {
    const parsed = parse(item, `${prefix}[${i}]`);
    if (parsed.isErr()) return err(parsed.error);
    out.push(parsed.value);
  }
  return ok(out);
}
