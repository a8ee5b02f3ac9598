import type { SummaryLevel } from '../domain/conversation/index.js';

const DAY = 86_400_000;

/** The UTC period a summary of `level` covers around `at`: its day, its ISO week (Monday first), or its month. */
export function periodOf(level: SummaryLevel, at: Date): { start: Date; end: Date } {
  const day = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
  if (level === 'daily') return { start: new Date(day), end: new Date(day + DAY) };
  if (level === 'weekly') {
    const monday = day - ((at.getUTCDay() + 6) % 7) * DAY;
    return { start: new Date(monday), end: new Date(monday + 7 * DAY) };
  }
  return { start: new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1)), end: new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1)) };
}

/** What a level rolls up, most preferred first: weekly from daily summaries, monthly from weekly (else daily). */
export const ROLLS_UP: Record<SummaryLevel, SummaryLevel[]> = { daily: [], weekly: ['daily'], monthly: ['weekly', 'daily'] };
