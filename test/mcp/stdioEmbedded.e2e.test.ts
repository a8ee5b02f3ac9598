import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { until } from '../support/until.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `sekha mcp` as a desktop agent starts it with no service to talk to: it starts the embedded
// defaults (PostgreSQL and Chroma under DATA_DIR) itself, serves the tools over stdio, and takes
// everything down when the agent closes the pipe.
let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'sekha-mcp-stdio-'));
});
afterAll(async () => {
  for (const line of leftovers()) {
    const pid = Number(line.trim().split(/\s+/)[0]);
    if (pid) process.kill(pid, 'SIGKILL');
  }
  await rm(dataDir, { recursive: true, force: true });
});

/** Processes whose command line mentions the data dir (the embedded PostgreSQL and Chroma do). */
const leftovers = () =>
  execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => dataDir && line.includes(dataDir));

describe('sekha mcp without a URL', () => {
  it('starts the embedded defaults, stores and reads back through the tools, and stops them when the agent closes', async () => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !['DATABASE_URL', 'READ_DATABASE_URL', 'SEKHA_URL', 'SEKHA_API_KEY'].includes(k)) env[k] = v;
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [join(import.meta.dirname, '..', '..', 'bin', 'sekha.mjs'), 'mcp'],
      env: { ...env, DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'desktop', version: '1' });
    // Starting tsx, PostgreSQL, Chroma and the local model takes a while on a loaded machine.
    await client.connect(transport, { timeout: 180_000 });
    try {
      expect(leftovers().length).toBeGreaterThan(0);
      const { tools } = await client.listTools();
      expect(tools.map((x) => x.name)).toEqual(expect.arrayContaining(['memory_store', 'memory_search', 'memory_get_conversation']));
      const stored = await client.callTool(
        { name: 'memory_store', arguments: { label: 'desk notes', folder: '/desk', messages: [{ role: 'user', content: 'The standup moved to 9:30 on Tuesdays.' }] } },
        undefined,
        { timeout: 60_000 },
      );
      expect(stored.isError, JSON.stringify(stored.content)).toBeFalsy();
      const id = (stored.structuredContent as { id: string }).id;
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      // The write is in the event log at once; the read model follows it: read until it is there.
      const resource = await until(() => client.readResource({ uri: `sekha://conversations/${id}` }), 30_000, 'the stored conversation to become readable');
      expect((resource.contents[0] as { text: string }).text).toContain('The standup moved to 9:30 on Tuesdays.');
    } finally {
      // An agent ends the session by closing our stdin. The SDK's close() does that, then SIGTERM after
      // 2 s and SIGKILL after 4 s, which a loaded machine can outrun; so the test closes stdin itself
      // and waits for the process to stop everything (a SIGKILLed run's PostgreSQL is recovered at the
      // next start: test/db/embeddedPostgres.int.test.ts).
      const child = (transport as unknown as { _process?: ChildProcess })._process!;
      const exited = new Promise((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', r)));
      child.stdin!.end();
      await exited;
      await client.close();
    }
    await until(() => leftovers().length === 0, 60_000, 'no leftover process');
  }, 300_000);
});
