import { Ollama } from 'ollama';
import { EmbedderError, type Embedder } from './types.js';

/** Dimensions of common Ollama embedding models, so a collection can be named before the first call. */
const KNOWN_DIMENSIONS: Record<string, number> = {
  'nomic-embed-text': 768,
  'mxbai-embed-large': 1024,
  'all-minilm': 384,
  'snowflake-arctic-embed': 1024,
  'bge-m3': 1024,
};

export interface OllamaEmbedderOptions {
  url: string;
  model: string;
  /** Texts per request (Ollama's array input). Default 100. */
  batchSize?: number;
  /** Attempts per request on 5xx or connection errors. Default 4. */
  attempts?: number;
  /** First backoff delay; doubles per attempt. Default 200 ms. */
  backoffMs?: number;
  /** Known dimension; otherwise from the model name table, else learned from the first answer. */
  dimension?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function statusOf(e: unknown): number | undefined {
  const s = (e as { status_code?: unknown }).status_code;
  return typeof s === 'number' ? s : undefined;
}

/** Maps a failure to what callers act on: a missing model is not retried, the rest may be. */
function classify(e: unknown, model: string, url: string): EmbedderError {
  const status = statusOf(e);
  const message = e instanceof Error ? e.message : String(e);
  if (status === 404 || /not found|pull/i.test(message)) {
    return new EmbedderError('model_missing', `Ollama at ${url} has no model "${model}"; run \`ollama pull ${model}\` (${message})`, { cause: e });
  }
  if (status !== undefined && status < 500) return new EmbedderError('bad_response', `Ollama refused the request (${status}): ${message}`, { cause: e });
  return new EmbedderError('unavailable', `Ollama at ${url} is unavailable: ${message}`, { cause: e });
}

/** The Ollama embedder: batched `/api/embed` calls, retried with backoff on 5xx and connection errors. */
export function createOllamaEmbedder(options: OllamaEmbedderOptions): Embedder {
  const client = new Ollama({ host: options.url });
  const batchSize = options.batchSize ?? 100;
  const attempts = options.attempts ?? 4;
  const backoffMs = options.backoffMs ?? 200;
  let dimension = options.dimension ?? KNOWN_DIMENSIONS[options.model.split(':')[0]!] ?? 0;

  async function embedBatch(input: string[]): Promise<number[][]> {
    let last: EmbedderError | undefined;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) await sleep(backoffMs * 2 ** (attempt - 1));
      try {
        const res = await client.embed({ model: options.model, input });
        if (!Array.isArray(res.embeddings) || res.embeddings.length !== input.length) {
          throw new EmbedderError('bad_response', `Ollama answered ${res.embeddings?.length ?? 0} vectors for ${input.length} texts`);
        }
        return res.embeddings;
      } catch (e) {
        last = e instanceof EmbedderError ? e : classify(e, options.model, options.url);
        if (last.code !== 'unavailable') throw last;
      }
    }
    throw last!;
  }

  return {
    model: options.model,
    get dimension() {
      return dimension;
    },
    async embed(texts) {
      const out: number[][] = [];
      for (let i = 0; i < texts.length; i += batchSize) out.push(...(await embedBatch(texts.slice(i, i + batchSize))));
      if (out[0]) dimension = out[0].length;
      return out;
    },
  };
}
