import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { freePort } from '../src/util/freePort.js';

/** A service started as a child process, as `npm start` would, on a fresh DATA_DIR and a free port. */
export interface BenchService {
  url: string;
  /** The embedded PostgreSQL the service started (from its start-up lines), when it started one. */
  databaseUrl: string | undefined;
  pid: number;
  /** Every process in the service's tree (node, postgres, chroma) with its peak RSS in MiB. */
  peakRss(): Record<string, number>;
  /** What the service printed so far (stdout and stderr). */
  output(): string;
  stop(): Promise<void>;
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry), ...childrenOf(Number(entry)));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function processInfo(pid: number): { name: string; hwmMiB: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const name = /Name:\s+(\S+)/.exec(status)?.[1] ?? String(pid);
    const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
    return { name, hwmMiB: Math.round(hwm / 1024) };
  } catch {
    return undefined;
  }
}

// Services still running when a benchmark is interrupted are stopped, leaving no orphans.
const running = new Set<BenchService>();
let handlersInstalled = false;
function stopAllOnSignal(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void Promise.allSettled([...running].map((s) => s.stop())).then(() => process.exit(130)));
  }
}

export interface BenchServiceOptions {
  timeoutMs?: number;
  nodeArgs?: string[];
  /** The checkout whose service runs (default: this one), with its own node_modules: an A/B of two builds under one harness. */
  cwd?: string;
}

/** Starts `tsx src/main.ts serve` with the given environment and waits for /health. */
export async function startBenchService(env: Record<string, string>, { timeoutMs = 180_000, nodeArgs = [], cwd }: BenchServiceOptions = {}): Promise<BenchService> {
  stopAllOnSignal();
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/main.ts', 'serve'], {
    cwd,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  const peaks = new Map<number, { name: string; hwmMiB: number }>();
  const sample = () => {
    for (const pid of [child.pid!, ...childrenOf(child.pid!)]) {
      const info = processInfo(pid);
      if (info) peaks.set(pid, info);
    }
  };
  const sampler = setInterval(sample, 1000);
  sampler.unref();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}:\n${output}`);
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      // not yet listening
    }
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`service did not answer /health within ${timeoutMs} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const pgPort = /embedded PostgreSQL on 127\.0\.0\.1:(\d+)/.exec(output)?.[1];
  const service: BenchService = {
    url,
    databaseUrl: env.DATABASE_URL || (pgPort ? `postgres://postgres:postgres@127.0.0.1:${pgPort}/postgres` : undefined),
    pid: child.pid!,
    output: () => output,
    peakRss() {
      sample();
      const byName: Record<string, number> = {};
      for (const { name, hwmMiB } of peaks.values()) {
        // postgres runs several processes: report the largest one and the count separately.
        byName[name] = Math.max(byName[name] ?? 0, hwmMiB);
      }
      return byName;
    },
    async stop() {
      running.delete(service);
      clearInterval(sampler);
      // Killed by a signal (kill -9 in a fault test), exitCode stays null: 'exit' already fired.
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
  running.add(service);
  return service;
}
