import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the in-test Ollama server saw and how it behaves. */
export interface FakeOllama {
  url: string;
  /** Every `/api/embed` request body, in order. */
  requests: { model: string; input: string | string[] }[];
  /** Answer the next N `/api/embed` requests with 503. */
  failNext(n: number): void;
  /** While stalled, `/api/embed` requests are held open unanswered (an embedder that hangs). */
  stall(on: boolean): void;
  close(): Promise<void>;
}

const readBody = async (req: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

/** A deterministic vector for a text: character trigram hashing, normalised. */
export function fakeVector(text: string, dimension: number): number[] {
  const v = new Array<number>(dimension).fill(0);
  const t = ` ${text.toLowerCase()} `;
  for (let i = 0; i + 3 <= t.length; i++) {
    let h = 2166136261;
    for (const ch of t.slice(i, i + 3)) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
    v[(h >>> 0) % dimension]! += 1;
  }
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

/**
 * A small HTTP server speaking Ollama's wire format (`/api/embed`, `/api/generate`, `/api/tags`)
 * on a free port, for testing the Ollama provider without Ollama.
 */
export async function startFakeOllama(options: { models?: Record<string, number>; /** keep request bodies (default true); off for long benchmark runs */ record?: boolean } = {}): Promise<FakeOllama> {
  const models = options.models ?? { 'nomic-embed-text': 768 };
  const requests: FakeOllama['requests'] = [];
  let failures = 0;
  let stalled = false;
  const held: (() => void)[] = [];
  const server: Server = createServer(async (req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const raw = req.method === 'POST' ? await readBody(req) : '';
    const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    const model = String(body.model ?? '').split(':')[0]!;
    if (req.url === '/api/tags') return send(200, { models: Object.keys(models).map((name) => ({ name })) });
    if (req.url === '/api/embed') {
      if (options.record !== false) requests.push({ model: String(body.model), input: body.input as string | string[] });
      if (stalled) await new Promise<void>((r) => held.push(r));
      if (failures > 0) {
        failures--;
        return send(503, { error: 'server busy' });
      }
      const dim = models[model];
      if (dim === undefined) return send(404, { error: `model "${String(body.model)}" not found, try pulling it first` });
      const input = Array.isArray(body.input) ? (body.input as string[]) : [String(body.input)];
      return send(200, { model: body.model, embeddings: input.map((t) => fakeVector(t, dim)) });
    }
    if (req.url === '/api/generate') {
      if (models[model] === undefined) return send(404, { error: `model "${String(body.model)}" not found, try pulling it first` });
      const prompt = String(body.prompt ?? '');
      return send(200, { model: body.model, response: `Summary: ${prompt.slice(0, 200)}`, done: true });
    }
    send(404, { error: 'not found' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failNext(n) {
      failures = n;
    },
    stall(on) {
      stalled = on;
      if (!on) held.splice(0).forEach((release) => release());
    },
    close: () => {
      stalled = false;
      held.splice(0).forEach((release) => release());
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
