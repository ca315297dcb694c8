import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

const PUBLIC = new URL('../../public/', import.meta.url);
/**
 * The wire format for browsers (envelope decoding, close table, reconnect rule): one plain ES
 * module in @framecast/protocol, held to its TypeScript by that package's tests. Resolved from the
 * package, so the page runs the same file the tests check, never a copy.
 */
const BROWSER_PROTOCOL = new URL('../browser/viewer-protocol.js', import.meta.resolve('@framecast/protocol'));

/** The minimal viewer page: `/` (room from `?room=`, default `demo`) and `/rooms/:room`. */
export function registerViewerPage(app: FastifyInstance): void {
  // Read once at start-up: the page is small and never changes while the process runs.
  const html = readFileSync(new URL('index.html', PUBLIC));
  const js = readFileSync(new URL('viewer.js', PUBLIC));
  const protocolJs = readFileSync(BROWSER_PROTOCOL);
  const page = async (_req: unknown, reply: import('fastify').FastifyReply) => reply.type('text/html; charset=utf-8').send(html);
  app.get('/', page);
  app.get('/rooms/:room', page);
  app.get('/viewer.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').send(js));
  app.get('/protocol.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').send(protocolJs));
}
