/** The HTTP ceiling: a bare Hono route answering `{}` on the same server adapter. Prints its port. */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const app = new Hono();
app.get('/', (c) => c.json({}));
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => process.stdout.write(`${info.port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
