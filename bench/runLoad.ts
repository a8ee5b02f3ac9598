import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LoadResult, LoadSpec } from './load.js';

const LOAD_SCRIPT = fileURLToPath(new URL('./load.ts', import.meta.url));

/** Runs one load spec in a separate process and returns its result. */
export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', LOAD_SCRIPT, JSON.stringify(spec)], { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`load run failed: ${stderr || error.message}`));
      resolve(JSON.parse(stdout) as LoadResult);
    });
  });
}

/**
 * Sends each of a row's requests once, one at a time, before the row is timed: its first touch of
 * the data (pages read from disk after a restart or an idle spell) is reported apart, not as the
 * row's p95. Returns the slowest request and the whole pass, in ms.
 */
export async function warmUp(url: string, requests: LoadSpec['requests']): Promise<{ ms: number; max: number; non2xx: number }> {
  const started = performance.now();
  let max = 0;
  let non2xx = 0;
  for (const r of requests) {
    const t = performance.now();
    const res = await fetch(`${url}${r.path}`, {
      method: r.method,
      headers: { 'content-type': 'application/json' },
      ...(r.body !== undefined ? { body: JSON.stringify(r.body) } : {}),
    });
    await res.arrayBuffer();
    if (res.status < 200 || res.status > 299) non2xx++;
    max = Math.max(max, performance.now() - t);
  }
  const round = (x: number) => Math.round(x * 10) / 10;
  return { ms: round(performance.now() - started), max: round(max), non2xx };
}
