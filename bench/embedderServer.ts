/**
 * An embedder for corpora too large for the offline model on a small machine: a process speaking
 * Ollama's wire format whose model `bench-trigram` (512-d) hashes character trigrams. It costs
 * microseconds per text, so a benchmark at 100,000 conversations measures our pipeline and Chroma
 * rather than the model; the model's own throughput is measured apart (`npm run eval:vectors`).
 * Prints its URL on the first line of stdout.
 */
import { startFakeOllama } from '../test/support/ollamaServer.js';

export const BENCH_EMBEDDING_MODEL = 'bench-trigram';

if (import.meta.url === `file://${process.argv[1]}`) {
  const server = await startFakeOllama({ models: { [BENCH_EMBEDDING_MODEL]: 512 }, record: false });
  process.stdout.write(`${server.url}\n`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void server.close().then(() => process.exit(0)));
}
