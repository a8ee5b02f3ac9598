/**
 * `npx tsx bench/compare.ts <baseline.json> <candidate.json>`: two bench results side by side (for
 * an A/B of two builds under one harness, `npm run bench -- --service-dir <checkout>`): per corpus
 * size and row, one client's p50 and p95 and the 10-client throughput, with candidate ÷ baseline.
 * Each run's bare-Hono ceiling is printed too: a ratio far from 1 there is the machine, not the build.
 */
import { readFile } from 'node:fs/promises';
import type { BenchReport, SizeReport } from './report.js';

export interface Comparison {
  size: number;
  row: string;
  measure: string;
  baseline: number | undefined;
  candidate: number | undefined;
  /** candidate ÷ baseline: above 1 is slower for latencies, faster for rates. */
  ratio: number | undefined;
  lowerIsBetter: boolean;
}

type Measure = { row: string; measure: string; lowerIsBetter: boolean; read: (s: SizeReport) => number | undefined };

function rowMeasures(names: string[]): Measure[] {
  return names.flatMap((row): Measure[] => {
    const load = (s: SizeReport) => {
      const r = s.rows[row];
      return r && !('unavailable' in r) ? r : undefined;
    };
    return [
      { row, measure: '1 client p50 ms', lowerIsBetter: true, read: (s) => load(s)?.single?.p50 },
      { row, measure: '1 client p95 ms', lowerIsBetter: true, read: (s) => load(s)?.single?.p95 },
      { row, measure: '10 clients req/s', lowerIsBetter: false, read: (s) => load(s)?.rps },
    ];
  });
}

const SIZE_MEASURES: Measure[] = [
  { row: 'first search after ready', measure: 'ms', lowerIsBetter: true, read: (s) => s.first_search_after_start_ms },
  { row: 'ready after start', measure: 'ms', lowerIsBetter: true, read: (s) => s.ready_after_start_ms },
  ...(['fts', 'semantic'] as const).flatMap((mode): Measure[] =>
    (['p50', 'p95'] as const).map((p) => ({
      row: `write → searchable, ${mode}`,
      measure: `${p} ms`,
      lowerIsBetter: true,
      read: (s) => {
        const r = s.write_to_searchable?.[mode];
        return r && !('unavailable' in r) ? r[p] : undefined;
      },
    })),
  ),
  { row: 'read-model rebuild', measure: 'events/s', lowerIsBetter: false, read: (s) => s.rebuild?.events_per_second },
  { row: 'lexical rebuild', measure: 'messages/s', lowerIsBetter: false, read: (s) => s.lexical_rebuild?.messages_per_second },
  { row: 'vector rebuild', measure: 'texts/s', lowerIsBetter: false, read: (s) => s.vector_rebuild?.texts_per_second },
];

/** Every measure both results have for a corpus size both measured. */
export function compare(baseline: BenchReport, candidate: BenchReport): Comparison[] {
  return candidate.sizes.flatMap((c) => {
    const b = baseline.sizes.find((s) => s.size === c.size);
    if (!b) return [];
    const rows = Object.keys(c.rows).filter((name) => name in b.rows);
    return [...rowMeasures(rows), ...SIZE_MEASURES].map(({ row, measure, lowerIsBetter, read }) => {
      const x = read(b);
      const y = read(c);
      const ratio = x !== undefined && y !== undefined && x > 0 ? Math.round((y / x) * 100) / 100 : undefined;
      return { size: c.size, row, measure, baseline: x, candidate: y, ratio, lowerIsBetter };
    });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [a, b] = process.argv.slice(2);
  if (!a || !b) throw new Error('usage: bench/compare.ts <baseline.json> <candidate.json>');
  const [baseline, candidate] = await Promise.all([a, b].map(async (f) => JSON.parse(await readFile(f, 'utf8')) as BenchReport));
  const out = [
    `baseline ${baseline!.git_sha} (${baseline!.date}), candidate ${candidate!.git_sha} (${candidate!.date})`,
    `bare Hono ceiling req/s: ${baseline!.http_ceiling.rps} → ${candidate!.http_ceiling.rps}`,
    '',
    '| corpus | row | measure | baseline | candidate | candidate ÷ baseline |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of compare(baseline!, candidate!)) {
    if (r.baseline === undefined && r.candidate === undefined) continue;
    const worse = r.ratio !== undefined && (r.lowerIsBetter ? r.ratio > 1 : r.ratio < 1);
    out.push(`| ${r.size} | ${r.row} | ${r.measure} | ${r.baseline ?? '—'} | ${r.candidate ?? '—'} | ${r.ratio === undefined ? '—' : worse ? `**${r.ratio}**` : r.ratio} |`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}
