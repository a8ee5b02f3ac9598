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

/** One of a row's requests, sent as autocannon sends it; the body is read to the end. */
export async function sendRequest(url: string, r: LoadSpec['requests'][number]): Promise<Response> {
  const res = await fetch(`${url}${r.path}`, {
    method: r.method,
    headers: { 'content-type': 'application/json' },
    ...(r.body !== undefined ? { body: JSON.stringify(r.body) } : {}),
  });
  await res.arrayBuffer();
  return res;
}

/** A row's untimed pass: the whole pass and its slowest request (ms), and its non-2xx answers. */
export interface WarmUp {
  ms: number;
  max: number;
  non2xx: number;
}

/**
 * Sends each of a row's requests once, one at a time, before the row is timed: its first touch of
 * the data (pages read from disk after a restart or an idle spell) is reported apart, not as the
 * row's p95. Stops at a first answer of 404 or 405 (the route is missing) and returns that status.
 */
export async function warmUp(url: string, requests: LoadSpec['requests']): Promise<WarmUp | { missing: number }> {
  const started = performance.now();
  let max = 0;
  let non2xx = 0;
  for (const [i, r] of requests.entries()) {
    const t = performance.now();
    const res = await sendRequest(url, r);
    if (i === 0 && (res.status === 404 || res.status === 405)) return { missing: res.status };
    if (res.status < 200 || res.status > 299) non2xx++;
    max = Math.max(max, performance.now() - t);
  }
  const round = (x: number) => Math.round(x * 10) / 10;
  return { ms: round(performance.now() - started), max: round(max), non2xx };
}
