import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const PUBLIC = new URL('../../public/', import.meta.url);
/**
 * The wire format for browsers (envelope decoding, close table, reconnect rule): one plain ES
 * module in @framecast/protocol, held to its TypeScript by that package's tests. Resolved from the
 * package, so the pages run the same file the tests check, never a copy.
 */
const BROWSER_PROTOCOL = new URL('../browser/viewer-protocol.js', import.meta.resolve('@framecast/protocol'));

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

/** Scripts other sites include (`<script type="module" src="…/framecast-player.js">`): module scripts need CORS. */
const EMBEDDABLE = new Set(['framecast-player.js', 'protocol.js']);

/**
 * The viewer app, plain files with no build step: `/` the room directory, `/rooms/:room` the
 * watch page, `/grid` several rooms at once, `/publish/:room` the "go live" page (this tab's
 * camera published through /ws/publish/:room), and `/framecast-player.js`, the embeddable
 * <framecast-player> element the grid uses and any page may include.
 */
export function registerViewerPage(app: FastifyInstance): void {
  // Read once at start-up: the files are small and never change while the process runs.
  const files = new Map<string, Buffer>();
  for (const name of ['index.html', 'viewer.js', 'directory.html', 'directory.js', 'grid.html', 'grid.js', 'app.css', 'framecast-player.js', 'publish.html', 'publish.js']) {
    files.set(name, readFileSync(new URL(name, PUBLIC)));
  }
  files.set('protocol.js', readFileSync(BROWSER_PROTOCOL));
  const serve = (name: string) => async (_req: FastifyRequest, reply: FastifyReply) => {
    reply.type(TYPES[name.slice(name.lastIndexOf('.') + 1)]!);
    if (EMBEDDABLE.has(name)) reply.header('access-control-allow-origin', '*').header('cross-origin-resource-policy', 'cross-origin');
    return reply.send(files.get(name));
  };

  app.get('/', async (req, reply) => {
    // Old links (`/?room=lobby`) named the room in the query: the watch page has its own path now.
    const { room, token } = req.query as Record<string, unknown>;
    // A token in such a link goes along; the watch page moves it into the fragment at once.
    const keep = typeof token === 'string' && token !== '' ? `?token=${encodeURIComponent(token)}` : '';
    if (typeof room === 'string' && room !== '') return reply.redirect(`/rooms/${encodeURIComponent(room)}${keep}`, 302);
    return serve('directory.html')(req, reply);
  });
  app.get('/rooms/:room', serve('index.html'));
  app.get('/grid', serve('grid.html'));
  // The "go live" page: this tab's camera published to the room (a publish token in the fragment or the form).
  app.get('/publish', serve('publish.html'));
  app.get('/publish/:room', serve('publish.html'));
  for (const name of ['viewer.js', 'directory.js', 'grid.js', 'app.css', 'framecast-player.js', 'protocol.js', 'publish.js']) app.get(`/${name}`, serve(name));
}
