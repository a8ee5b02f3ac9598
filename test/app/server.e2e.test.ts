import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/util/freePort.js';

// `npm start` as a user runs it: embedded PostgreSQL under DATA_DIR, stopped by SIGTERM or Ctrl-C
// with no process left behind.
let dataDir: string;
let conversationId: string;
const started: ChildProcess[] = [];
// npm may exit before the service has drained and stopped its PostgreSQL (a shutdown checkpoint on a
// loaded machine takes a while): wait for no leftover up to the service's own grace plus PostgreSQL's stop.
const SHUTDOWN_DEADLINE_MS = 60_000;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'sekha-e2e-'));
});
afterAll(async () => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
  await rm(dataDir, { recursive: true, force: true });
});

/** Processes whose command line mentions the data dir (the embedded postgres does). */
const leftovers = () =>
  execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes(dataDir));

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function startServer() {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  delete env.READ_DATABASE_URL;
  // Its own process group, as a terminal's foreground job: Ctrl-C signals the whole group.
  const child = spawn('npm', ['start'], { cwd: join(import.meta.dirname, '..', '..'), env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const health = await until('health', async () => {
    if (child.exitCode !== null) throw new Error(`npm start exited: ${output}`);
    const res = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
    return res?.ok ? ((await res.json()) as { checks: { database: string } }) : undefined;
  });
  return { child, health, exited, output: () => output, port };
}

describe('npm start', () => {
  it('serves /health on embedded PostgreSQL and says where its data lives; SIGTERM to npm stops everything', async () => {
    const server = await startServer();
    expect(server.health.checks.database).toBe('ok');
    expect(server.output()).toContain(`listening on http://127.0.0.1:${server.port}`);
    expect(server.output()).toContain(join(dataDir, 'pg'));
    expect(leftovers().length).toBeGreaterThan(0);
    const created = await fetch(`http://127.0.0.1:${server.port}/api/v1/conversations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ label: 'kept', messages: [{ role: 'user', content: 'remember me' }] }),
    });
    expect(created.status).toBe(201);
    conversationId = ((await created.json()) as { id: string }).id;
    server.child.kill('SIGTERM');
    await server.exited;
    await until('no leftover process', () => (leftovers().length === 0 ? true : undefined), SHUTDOWN_DEADLINE_MS);
  });

  it('keeps its data across restarts, and Ctrl-C (SIGINT to the process group) stops everything', async () => {
    const server = await startServer();
    const appended = await fetch(`http://127.0.0.1:${server.port}/api/v1/conversations/${conversationId}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'assistant', content: 'I do' }] }),
    });
    expect(appended.status).toBe(201);
    expect(((await appended.json()) as { message_count: number }).message_count).toBe(2);
    process.kill(-server.child.pid!, 'SIGINT');
    await server.exited;
    await until('no leftover process', () => (leftovers().length === 0 ? true : undefined), SHUTDOWN_DEADLINE_MS);
  });
});
