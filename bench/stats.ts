/** Percentile of a sample (nearest-rank), in the sample's unit. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** p50/p95/p99 of latencies in ms, rounded for printing. */
export function summarize(values: readonly number[]): { n: number; p50: number; p95: number; p99: number } {
  const r = (x: number) => Math.round(x * 100) / 100;
  return { n: values.length, p50: r(percentile(values, 50)), p95: r(percentile(values, 95)), p99: r(percentile(values, 99)) };
}

/** Times `fn` `n` times after `warmup` runs; returns each run's milliseconds. */
export async function timeRuns(n: number, fn: (i: number) => Promise<unknown>, warmup = 5): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn(i);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await fn(i);
    out.push(performance.now() - start);
  }
  return out;
}

/** The middle value of a sample (the upper one of an even sample). */
export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Units per second of `work` run by `writers` concurrent loops for `seconds` (each call answers how
 * many units it did); `alongside` runs until the same deadline (a sampler of wait events, say).
 */
export async function throughput(
  seconds: number,
  writers: number,
  work: (writer: number, i: number) => Promise<number>,
  alongside?: (deadline: number) => Promise<unknown>,
): Promise<number> {
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let total = 0;
  await Promise.all([
    alongside?.(deadline),
    ...Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; performance.now() < deadline; i++) {
        // Not `total += await …`: that reads total before the await, and concurrent writers' counts are lost.
        const n = await work(w, i);
        total += n;
      }
    }),
  ]);
  return total / ((performance.now() - started) / 1000);
}
