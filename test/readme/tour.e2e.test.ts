import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/util/freePort.js';
import { until } from '../projections/helpers.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { mismatches } from './shownAnswer.js';
import { headingAnchors, lastStatus, outputsByStep, readTour, README_BASE_URL, tourScript } from './tour.js';

// README's tour, pasted as a newcomer would: every command of the section against `npm start`
// (real PostgreSQL, the offline embedder, an embedded Chroma), each answer checked against the one shown.
const root = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);

let db: TestDatabase;
let dir: string;
let service: ChildProcess | undefined;
let baseUrl: string;
let serviceOutput = '';

beforeAll(async () => {
  db = await createTestDatabase({ migrate: false });
  dir = await mkdtemp(join(tmpdir(), 'sekha-tour-'));
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    DATA_DIR: join(dir, 'data'),
    DATABASE_URL: db.url,
    LOG_LEVEL: 'warn',
    // The test pastes faster than a person; on a loaded machine the projectors (the embedder above all)
    // take longer than on an idle one, so reads given min_position may wait longer before giving up.
    SEKHA_API__RATE_LIMIT_REQUESTS: '6000',
    SEKHA_API__READ_WAIT_DEFAULT_MS: '45000',
    SEKHA_API__READ_WAIT_MAX_MS: '45000',
  };
  for (const name of ['READ_DATABASE_URL', 'CHROMA_URL', 'OLLAMA_URL', 'REDIS_URL', 'SEKHA_CONFIG', 'SEKHA_API_KEYS']) delete env[name];
  // Its own process group, so stopping it stops npm, tsx and the embedded Chroma together.
  service = spawn('npm', ['start'], { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  service.stdout!.on('data', (d) => (serviceOutput += d));
  service.stderr!.on('data', (d) => (serviceOutput += d));
  await until(
    async () => {
      if (service!.exitCode !== null) throw new Error(`npm start exited: ${serviceOutput}`);
      const res = await fetch(`${baseUrl}/ready`).catch(() => undefined);
      return res?.ok;
    },
    90_000,
    'the service to be ready',
  );
});

afterAll(async () => {
  if (service?.pid && service.exitCode === null && service.signalCode === null) {
    const exited = new Promise((r) => service!.once('exit', r));
    process.kill(-service.pid, 'SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000).unref())]);
    if (service.exitCode === null && service.signalCode === null) process.kill(-service.pid, 'SIGKILL');
  }
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('README tour', () => {
  // Timeouts for a busy machine; on an idle one the tour takes about 10 s and the example 5 s.
  it('every command answers the status and the fields the README shows, in order', { timeout: 150_000 }, async () => {
    const readme = await readFile(join(root, 'README.md'), 'utf8');
    const tour = readTour(readme);
    const commands = tour.steps.map((s) => s.command).join('\n');
    // The steps a newcomer is promised, so that none silently drops out of the tour.
    for (const promised of ['/api/v1/conversations"', '/messages"', '"mode": "fts"', '"mode": "semantic"', '"mode": "hybrid"', 'min_position=', '/context/assemble', '/history?as_of=', 'purge=true']) {
      expect(commands, `the tour shows ${promised}`).toContain(promised);
    }

    await writeFile(join(dir, 'tour.sh'), tourScript(tour.steps, baseUrl));
    const result = await run('bash', ['--noprofile', '--norc', join(dir, 'tour.sh')], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: dir, TOUR_DIR: dir },
      timeout: 140_000,
    }).catch((e: { stdout: string; stderr: string; code: number }) => {
      throw new Error(`the tour stopped (exit ${e.code}): ${e.stderr}\n${e.stdout}`);
    });
    const outputs = outputsByStep(result.stdout);
    for (const step of tour.steps) {
      expect(outputs.has(step.index), `tour block ${step.index} ran`).toBe(true);
      if (!step.answer) continue;
      const label = `tour block ${step.index}: ${step.command.split('\n').find((l) => l.includes('curl'))?.trim()}`;
      const headers = await readFile(join(dir, `headers-${step.index}`), 'utf8');
      const printed = outputs.get(step.index)!;
      let body: unknown;
      try {
        body = JSON.parse(printed);
      } catch {
        throw new Error(`${label} printed no JSON answer: ${printed}`);
      }
      expect({ status: lastStatus(headers), mismatches: mismatches(step.answer.body, body) }, `${label}\nanswered ${printed}`).toEqual({
        status: step.answer.status,
        mismatches: [],
      });
    }

    // Its links lead somewhere: files of the repository, headings of the README, pages of the service.
    const anchors = headingAnchors(readme);
    for (const link of tour.links) {
      if (link.startsWith('#')) expect(anchors.has(link.slice(1)), `README heading for ${link}`).toBe(true);
      else if (link.startsWith(README_BASE_URL)) expect((await fetch(link.replace(README_BASE_URL, baseUrl))).status, link).toBe(200);
      else expect(existsSync(join(root, link)), `file ${link}`).toBe(true);
    }
  });

  it('the TypeScript example runs its loop against the service, and exits 1 when a step fails', { timeout: 120_000 }, async () => {
    type Exit = { code: number | null; signal?: string | null; stdout: string; stderr: string };
    const example = (url: string): Promise<Exit> =>
      run('npx', ['tsx', 'examples/agentMemory.ts'], { cwd: root, env: { ...process.env, SEKHA_URL: url }, timeout: 90_000 }).then(
        (r) => ({ code: 0, ...r }),
        (e: Exit) => e,
      );
    const nobody = `http://127.0.0.1:${await freePort()}`;
    const [ok, failed] = await Promise.all([example(baseUrl), example(nobody)]);
    expect(ok.code, `exit ${ok.code} (${ok.signal ?? 'no signal'}): ${ok.stderr}\n${ok.stdout}`).toBe(0);
    expect(ok.stdout).toMatch(/^stored conversation [0-9a-f-]{36} \(2 messages\) at position \d+:\d+$/m);
    expect(ok.stdout).toContain('user: My order 1042 arrived with a cracked screen.');
    expect(ok.stdout).toContain('read 4 messages back');

    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`agentMemory: POST /api/v1/conversations: cannot reach ${nobody}`);
  });
});
