/**
 * One autocannon run in its own process (so the load generator does not share the service's event
 * loop). Reads a LoadSpec as JSON from argv[2], prints a LoadResult as JSON on stdout.
 */
import autocannon from 'autocannon';
import { percentile } from './stats.js';

export interface LoadSpec {
  url: string;
  connections: number;
  durationSeconds: number;
  /** Requests cycled through in order by every connection. */
  requests: { method: 'GET' | 'POST' | 'PUT'; path: string; body?: unknown }[];
  headers?: Record<string, string>;
}

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  errors: number;
  non2xx: number;
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2]!) as LoadSpec;
  const latencies: number[] = [];
  let finish: (r: autocannon.Result) => void = () => {};
  let fail: (e: Error) => void = () => {};
  const done = new Promise<autocannon.Result>((res, rej) => ((finish = res), (fail = rej)));
  const instance = autocannon(
    {
    url: spec.url,
    connections: spec.connections,
    duration: spec.durationSeconds,
    headers: { 'content-type': 'application/json', ...spec.headers },
    requests: spec.requests.map((r) => ({ method: r.method, path: r.path, ...(r.body !== undefined ? { body: JSON.stringify(r.body) } : {}) })),
    },
    (error, result) => (error ? fail(error) : finish(result)),
  );
  instance.on('response', (_client, _status, _bytes, ms) => latencies.push(ms));
  const result = await done;
  const r = (x: number) => Math.round(x * 100) / 100;
  const out: LoadResult = {
    requests: latencies.length,
    rps: r(latencies.length / spec.durationSeconds),
    p50: r(percentile(latencies, 50)),
    p95: r(percentile(latencies, 95)),
    p99: r(percentile(latencies, 99)),
    max: r(latencies.reduce((m, x) => (x > m ? x : m), 0)),
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
  process.stdout.write(JSON.stringify(out));
}

if (process.argv[2]) void main();
