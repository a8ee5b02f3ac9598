import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChroma, type ChromaProcess } from '../../src/vectors/chromaProcess.js';

/** A Chroma server for one test file: its own temp dir and free port. */
export interface TestChroma {
  url: string;
  port: number;
  /** Stops the server, keeping its data (for restart tests). */
  pause(): Promise<void>;
  /** Starts it again on the same port and data. */
  resume(): Promise<void>;
  /** Stops it and removes its data. */
  stop(): Promise<void>;
}

export async function startTestChroma(): Promise<TestChroma> {
  const dir = await mkdtemp(join(tmpdir(), 'sekha-test-chroma-'));
  let proc: ChromaProcess | undefined = await startChroma({ dataDir: dir });
  const port = proc.port;
  return {
    url: proc.url,
    port,
    async pause() {
      await proc?.stop();
      proc = undefined;
    },
    async resume() {
      proc ??= await startChroma({ dataDir: dir, port });
    },
    async stop() {
      await proc?.stop();
      proc = undefined;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
