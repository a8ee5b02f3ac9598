/**
 * The answers README.md shows, read as expectations: JSON in a `jsonc` block whose first line is
 * `// <status> …`, trimmed with `…` (an omitted field or element, or inside a string: omitted text).
 */
export interface ShownAnswer {
  status: number;
  body: unknown;
}

/** Marks an array the README trimmed: the answer may hold more elements after those shown. */
const MORE = '\u0000more';

/** Turns the trimmed JSON into JSON: a bare `…` becomes a marker (in an object, a marker field). */
function untrim(text: string): string {
  let out = '';
  const containers: string[] = [];
  let inString = false;
  const lastSignificant = () => out.trimEnd().at(-1);
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (inString) {
      out += ch;
      if (ch === '\\') out += text[++i] ?? '';
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') containers.push(ch);
    else if (ch === '}' || ch === ']') containers.pop();
    if (ch !== '…') {
      out += ch;
      continue;
    }
    const before = lastSignificant();
    if (before !== ',' && before !== '{' && before !== '[') out += ',';
    out += containers.at(-1) === '{' ? `${JSON.stringify(MORE)}: true` : JSON.stringify(MORE);
    const next = /\S/.exec(text.slice(i + 1))?.[0];
    if (next !== undefined && next !== ',' && next !== '}' && next !== ']') out += ',';
  }
  return out;
}

/** Reads a shown answer block (the text between the fences). */
export function parseShownAnswer(block: string): ShownAnswer {
  const lines = block.split('\n');
  const status = /^\/\/\s*(\d{3})\b/.exec(lines[0]?.trim() ?? '');
  if (!status) throw new Error(`a shown answer starts with "// <status>", not ${JSON.stringify(lines[0])}`);
  const json = untrim(lines.slice(1).filter((l) => !l.trim().startsWith('//')).join('\n'));
  try {
    return { status: Number(status[1]), body: JSON.parse(json) };
  } catch (e) {
    throw new Error(`a shown answer is not JSON once "…" is read: ${(e as Error).message}\n${json}`);
  }
}

/** Values that differ on every run are compared by their shape. */
const shapes: [string, RegExp][] = [
  ['a uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/],
  ['a position', /^\d+:\d+$/],
  ['an ISO time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/],
];

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const show = (v: unknown) => JSON.stringify(v);

/**
 * Where `actual` differs from what the README shows (empty when it matches): objects match the fields
 * shown; arrays the elements shown, in order, and no more unless trimmed; strings exactly, by shape
 * (ids, positions, times), or around `…`; integers exactly; fractions (scores) as numbers.
 */
export function mismatches(shown: unknown, actual: unknown, path = '$'): string[] {
  if (Array.isArray(shown)) {
    if (!Array.isArray(actual)) return [`${path}: expected an array, got ${show(actual)}`];
    const trimmed = shown.includes(MORE);
    const elements = shown.filter((e) => e !== MORE);
    const out: string[] = [];
    if (actual.length < elements.length || (!trimmed && actual.length !== elements.length)) {
      out.push(`${path}: expected ${trimmed ? 'at least ' : ''}${elements.length} elements, got ${actual.length}`);
    }
    elements.forEach((e, i) => {
      if (i < actual.length) out.push(...mismatches(e, actual[i], `${path}[${i}]`));
    });
    return out;
  }
  if (shown !== null && typeof shown === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return [`${path}: expected an object, got ${show(actual)}`];
    return Object.entries(shown).flatMap(([key, value]) => {
      if (key === MORE) return [];
      if (!(key in actual)) return [`${path}.${key}: missing`];
      return mismatches(value, (actual as Record<string, unknown>)[key], `${path}.${key}`);
    });
  }
  if (typeof shown === 'string') {
    if (typeof actual !== 'string') return [`${path}: expected a string, got ${show(actual)}`];
    const shape = shapes.find(([, re]) => re.test(shown));
    if (shape) return shape[1].test(actual) ? [] : [`${path}: expected ${shape[0]}, got ${show(actual)}`];
    const pattern = new RegExp(`^${shown.split('…').map(escapeRegExp).join('[\\s\\S]*')}$`);
    return pattern.test(actual) ? [] : [`${path}: expected ${show(shown)}, got ${show(actual)}`];
  }
  if (typeof shown === 'number' && !Number.isInteger(shown)) {
    return typeof actual === 'number' ? [] : [`${path}: expected a number, got ${show(actual)}`];
  }
  return Object.is(shown, actual) ? [] : [`${path}: expected ${show(shown)}, got ${show(actual)}`];
}
