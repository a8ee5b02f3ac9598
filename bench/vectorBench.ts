/** Vector rows of the benchmark: the first search after a restart (taken after /ready), and the vector rebuild rate. */

const post = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** Polls /ready until 200; resolves the milliseconds waited. */
export async function waitForReady(url: string, timeoutMs = 600_000): Promise<number> {
  const started = performance.now();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${url}/ready`).catch(() => undefined);
    await res?.arrayBuffer();
    if (res?.status === 200) return performance.now() - started;
    if (Date.now() > deadline) throw new Error(`${url}/ready did not answer 200 within ${timeoutMs} ms (last ${res?.status ?? 'no answer'})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface FirstSearch {
  /** From spawning the service to /ready 200 (Chroma and PostgreSQL start, warm-up). */
  ready_after_start_ms: number;
  /** The first semantic search once /ready said ready; undefined when the route is missing. */
  first_search_after_ready_ms: number | undefined;
}

/** Starts the service (`launch`), waits for /ready, then times one semantic search. */
export async function firstSearchAfterReady<S extends { url: string }>(launch: () => Promise<S>, query: string): Promise<{ svc: S; result: FirstSearch }> {
  const started = performance.now();
  const svc = await launch();
  await waitForReady(svc.url);
  const ready = performance.now() - started;
  const t = performance.now();
  const res = await post(`${svc.url}/api/v1/query`, { query, limit: 10, mode: 'semantic' });
  await res.arrayBuffer();
  const first = performance.now() - t;
  return { svc, result: { ready_after_start_ms: Math.round(ready), first_search_after_ready_ms: res.status === 404 ? undefined : Math.round(first) } };
}

export interface VectorRebuild {
  texts: number;
  seconds: number;
  texts_per_second: number;
  /** Seconds the embedder took meanwhile (sekha_embed_duration_seconds), and the rate without them. */
  model_seconds?: number;
  texts_per_second_model_aside?: number;
  /** Set when the rebuild was stopped part-way: `texts` of these were rebuilt in `seconds` (the bench never stops one; a result records it from a stopped run's progress log). */
  of_texts?: number;
}

/** Seconds spent in the embedder since start, over every model (undefined without /metrics). */
async function embedSeconds(url: string): Promise<number | undefined> {
  const res = await fetch(`${url}/metrics`).catch(() => undefined);
  if (!res?.ok) return undefined;
  const sums = [...(await res.text()).matchAll(/^sekha_embed_duration_seconds_sum\{[^}]*\} ([0-9.e+-]+)$/gm)];
  return sums.reduce((total, m) => total + Number(m[1]), 0);
}

/** `POST /api/v1/rebuild-embeddings` and polls its job until completed: every message embedded and upserted again. */
export async function rebuildVectors(url: string, timeoutMs = 3_600_000, onProgress?: (line: string) => void): Promise<VectorRebuild | undefined> {
  const modelBefore = await embedSeconds(url);
  const started = performance.now();
  const res = await post(`${url}/api/v1/rebuild-embeddings`, {});
  if (res.status !== 202) {
    await res.arrayBuffer();
    return undefined;
  }
  const { status_url } = (await res.json()) as { status_url: string };
  const deadline = Date.now() + timeoutMs;
  let lastLog = Date.now();
  for (;;) {
    const s = (await (await fetch(`${url}${status_url}`)).json()) as { status: string; processed: number; total: number };
    if (s.status === 'completed') {
      const seconds = (performance.now() - started) / 1000;
      const modelAfter = await embedSeconds(url);
      // The target counts the pipeline and Chroma, not the model: its time is taken off the wall clock.
      const model = modelBefore === undefined || modelAfter === undefined ? undefined : modelAfter - modelBefore;
      return {
        texts: s.total,
        seconds: Math.round(seconds * 10) / 10,
        texts_per_second: Math.round(s.total / seconds),
        ...(model === undefined ? {} : { model_seconds: Math.round(model * 10) / 10, texts_per_second_model_aside: Math.round(s.total / Math.max(seconds - model, 0.001)) }),
      };
    }
    if (Date.now() > deadline) throw new Error(`vector rebuild not done within ${timeoutMs} ms (${s.processed} / ${s.total})`);
    if (Date.now() - lastLog > 10_000) {
      lastLog = Date.now();
      onProgress?.(`  vector rebuild: ${s.processed} / ${s.total}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
