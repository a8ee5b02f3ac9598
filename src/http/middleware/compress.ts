import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { MiddlewareHandler } from 'hono';
import { COMPRESSIBLE_CONTENT_TYPE_REGEX } from 'hono/utils/compress';

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** The encoding to use from Accept-Encoding: br before gzip, honouring q=0. */
export function chooseEncoding(acceptEncoding: string | undefined): 'br' | 'gzip' | undefined {
  if (!acceptEncoding) return undefined;
  const q = new Map<string, number>();
  for (const part of acceptEncoding.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    q.set(name!, qParam ? Number(qParam.slice(2)) || 0 : 1);
  }
  const weight = (e: string) => q.get(e) ?? (q.get('*') ?? 0);
  const br = weight('br');
  const gz = weight('gzip');
  if (br > 0 && br >= gz) return 'br';
  if (gz > 0) return 'gzip';
  return undefined;
}

/**
 * Compresses answers of at least `minBytes` with brotli or gzip as Accept-Encoding allows.
 * Brotli runs at quality 5: most of its gain for a fraction of the default's (11) CPU.
 */
export function compress(options: { minBytes: number }): MiddlewareHandler {
  return async function compressMiddleware(c, next) {
    await next();
    const res = c.res;
    const encoding = chooseEncoding(c.req.header('accept-encoding'));
    if (!encoding || !res.body || c.req.method === 'HEAD' || res.headers.has('content-encoding')) return;
    if (!COMPRESSIBLE_CONTENT_TYPE_REGEX.test(res.headers.get('content-type') ?? '')) return;
    if (/(^|,)\s*no-transform\s*(,|$)/i.test(res.headers.get('cache-control') ?? '')) return;
    const declared = res.headers.get('content-length');
    if (declared !== null && Number(declared) < options.minBytes) return;
    const body = Buffer.from(await res.arrayBuffer());
    const headers = new Headers(res.headers);
    headers.append('Vary', 'Accept-Encoding');
    // Unset first: assigning over a response would copy its old headers (Content-Length) onto the new one.
    c.res = undefined as unknown as Response;
    if (body.length < options.minBytes) {
      c.res = new Response(body, { status: res.status, statusText: res.statusText, headers });
      return;
    }
    const packed =
      encoding === 'br'
        ? await brotli(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } })
        : await gzipAsync(body, { level: 6 });
    headers.set('Content-Encoding', encoding);
    headers.set('Content-Length', String(packed.length));
    c.res = new Response(packed, { status: res.status, statusText: res.statusText, headers });
  };
}
