import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../util/freePort.js';

/** A Chroma server running as our child process. */
export interface ChromaProcess {
  url: string;
  port: number;
  dataDir: string;
  pid: number;
  /** Stops the server (SIGTERM, then SIGKILL after a grace period) and waits for it to exit. */
  stop(): Promise<void>;
}

const require = createRequire(import.meta.url);
// The package exports no cli path: find it beside the CommonJS entry (dist/cjs/chromadb.cjs).
const CLI = join(dirname(require.resolve('chromadb')), '..', 'cli.mjs');
const WATCHDOG = fileURLToPath(new URL('./chromaWatchdog.mjs', import.meta.url));

/** Polls Chroma's heartbeat until it answers or the deadline passes. */
export async function waitForChroma(url: string, timeoutMs = 30_000, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer';
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`Chroma exited with code ${child.exitCode} before answering`);
    try {
      const res = await fetch(`${url}/api/v2/heartbeat`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
      lastError = `HTTP ${res.status}`;
    } catch (e) {
      lastError = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Chroma at ${url} did not answer within ${timeoutMs} ms (${lastError})`);
}

/**
 * Starts the Chroma server of the `chromadb` npm package as a child process (in-process it would
 * block our event loop), with data under `dataDir`, on `port` (0 = a free one), and waits until it
 * answers. The child dies with us: it is killed on stop and on our exit.
 */
export async function startChroma(options: { dataDir: string; port?: number; timeoutMs?: number; onLog?: (line: string) => void }): Promise<ChromaProcess> {
  await mkdir(options.dataDir, { recursive: true });
  const port = options.port || (await freePort());
  // Through the watchdog: it holds our stdin pipe and stops Chroma when we die, however we die.
  const child = spawn(process.execPath, [WATCHDOG, CLI, 'run', '--path', options.dataDir, '--host', '127.0.0.1', '--port', String(port)], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let tail = '';
  const log = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    tail = (tail + text).slice(-2000);
    options.onLog?.(text);
  };
  child.stdout?.on('data', log);
  child.stderr?.on('data', log);
  // SIGTERM, never SIGKILL, for the watchdog: killed outright it could not stop Chroma, which would
  // be orphaned. It stops Chroma itself (SIGTERM, then SIGKILL after 5 s) and then exits.
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    // Later than the watchdog's own SIGKILL of Chroma (5 s), so that it is never cut short first.
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForChroma(url, options.timeoutMs ?? 60_000, child);
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}; Chroma said: ${tail.trim().split('\n').slice(-5).join(' | ')}`);
  }
  return { url, port, dataDir: options.dataDir, pid: child.pid!, stop };
}
