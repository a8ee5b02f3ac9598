import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

// The README's layout table says which folder of src/ may import which; this holds the code to it.
const root = resolve(import.meta.dirname, '..');
const src = join(root, 'src');

/** A unit of the layout: a folder right under src/ (`queries`) or a file there (`deps.ts`). */
const unitOf = (file: string): string => relative(src, file).split(sep)[0]!;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : /\.(ts|mts|cts|mjs|cjs)$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

/** Relative module specifiers of a file: static imports and re-exports, import(), require(). */
const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'"]*?\sfrom\s*['"](\.[^'"]+)['"]|(?:^|[\s;])import\s*['"](\.[^'"]+)['"]|\b(?:import|require)\(\s*['"](\.[^'"]+)['"]\s*\)/g;
const specifiers = (text: string): string[] => [...text.matchAll(IMPORT)].map((m) => m[1] ?? m[2] ?? m[3]!);

/** unit → units it imports (with one file that does, for the message). */
function importGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of sourceFiles(src)) {
    const from = unitOf(file);
    const edges = graph.get(from) ?? new Map<string, string>();
    graph.set(from, edges);
    for (const spec of specifiers(readFileSync(file, 'utf8'))) {
      const target = resolve(dirname(file), spec);
      if (!target.startsWith(src + sep)) continue;
      const to = unitOf(target).replace(/\.js$/, '.ts');
      if (to !== from && !edges.has(to)) edges.set(to, `${relative(root, file)} imports ${spec}`);
    }
  }
  return graph;
}

/** The README's rows: each `src/…` unit of the first column → what the last column allows. */
function allowedByReadme(): Map<string, Set<string> | 'everything'> {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('| folder | holds | may import |'));
  const rows = table.split('\n').filter((line, i) => line.startsWith('|') || i === 0);
  const allowed = new Map<string, Set<string> | 'everything'>();
  for (const row of rows.slice(2)) {
    const cells = row.split('|').slice(1, -1).map((c) => c.trim());
    const units = [...cells[0]!.matchAll(/`src\/([^`/]+)\/?`/g)].map((m) => m[1]!);
    const may = cells.at(-1)!;
    const names = may === 'everything' ? 'everything' : new Set([...may.matchAll(/`([^`]+)`/g)].map((m) => m[1]!.replace(/\/$/, '')));
    for (const unit of units) allowed.set(unit, names);
  }
  return allowed;
}

describe('folder imports', () => {
  const graph = importGraph();
  const allowed = allowedByReadme();

  it('reads the table and the imports (the check below can fail)', () => {
    expect(allowed.get('domain')).toEqual(new Set());
    expect(allowed.get('app')).toBe('everything');
    expect(graph.get('queries')?.has('http')).toBe(true);
  });

  it('every folder and file of src/ has a row in the README layout table', () => {
    expect([...graph.keys()].filter((unit) => !allowed.has(unit)).sort()).toEqual([]);
  });

  it('no folder imports one its row does not allow', () => {
    const forbidden: string[] = [];
    for (const [from, edges] of graph) {
      const may = allowed.get(from);
      if (!may || may === 'everything') continue;
      for (const [to, example] of edges) if (!may.has(to)) forbidden.push(`${from} → ${to} (${example})`);
    }
    expect(forbidden).toEqual([]);
  });

  it('no circle between folders', () => {
    const circles: string[] = [];
    const visit = (unit: string, path: string[]) => {
      for (const next of graph.get(unit)?.keys() ?? []) {
        if (next === path[0]) circles.push([...path, next].join(' → '));
        else if (!path.includes(next) && next > path[0]!) visit(next, [...path, next]);
      }
    };
    for (const unit of graph.keys()) visit(unit, [unit]);
    expect(circles).toEqual([]);
  });
});
