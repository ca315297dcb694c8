import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
import { CLOSE_REASONS, CloseCode, errorMessage, helloMessage, isValidRoomName, ROOM_NAME_RULE, type CloseCodeValue, type ErrorName } from '@framecast/protocol';
import { tokenOf, type Admission, type ViewerAuth } from '../auth/viewer-auth.ts';
import type { Viewer } from '../fanout/viewer.ts';
import type { ViewerHub } from '../viewer-hub.ts';

const ROUTE_PREFIX = '/ws/video/';
/** Viewers send nothing meaningful; a bigger message closes the connection with 1009. */
const MAX_VIEWER_MESSAGE_BYTES = 4096;

/**
 * `GET /ws/video/:room` — the route of the original Channels design.
 *
 * Upgrades are taken straight from the HTTP server instead of through fastify's router
 * (@fastify/websocket): per connection that builds a fastify request, reply, child logger and a
 * ServerResponse, which cost 5–6 KB per idle viewer in RSS (13.0 KB against the bare floor's
 * 7.5 KB, measured by `pnpm bench --workload idle`). The route has one path parameter, so the
 * router buys nothing here; plain HTTP on the same path still goes through fastify (426).
 *
 * A refused connection is accepted, told why in an error message, then closed with a code from
 * the protocol, because a browser cannot read the HTTP status of a failed upgrade.
 */
export function registerViewerUpgrades(app: FastifyInstance, hub: ViewerHub, auth: ViewerAuth): WebSocketServer {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: MAX_VIEWER_MESSAGE_BYTES, clientTracking: false });
  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const room = roomFromUrl(req.url ?? '');
    if (room === null) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    socket.on('error', destroySocket);
    wss.handleUpgrade(req, socket, head, (ws) => {
      socket.off('error', destroySocket);
      onViewerSocket(hub, auth, ws, room, req);
    });
  });
  app.get(`${ROUTE_PREFIX}:room`, async (_req, reply) =>
    reply.code(426).header('upgrade', 'websocket').send({ error: 'upgrade_required', message: 'this is a websocket endpoint: connect with ws:// or wss://' }),
  );
  return wss;
}

/** The room part of `/ws/video/<room>[/][?query]`, URL-decoded; null when the path is another one. */
export function roomFromUrl(url: string): string | null {
  if (!url.startsWith(ROUTE_PREFIX)) return null;
  const q = url.indexOf('?');
  let raw = url.slice(ROUTE_PREFIX.length, q === -1 ? undefined : q);
  if (raw.endsWith('/')) raw = raw.slice(0, -1);
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw; // undecodable: the room rule rejects it below with a clear close code
  }
}

function destroySocket(this: Duplex): void {
  this.destroy();
}

function ignoreSocketError(): void {}

function onViewerSocket(hub: ViewerHub, auth: ViewerAuth, ws: WebSocket, room: string, req: IncomingMessage): void {
  // Errors on an established socket are followed by 'close', which cleans up.
  ws.on('error', ignoreSocketError);
  const refuse = (code: CloseCodeValue, error: ErrorName, message: string) => {
    hub.metrics.viewersRefused.inc({ reason: error });
    ws.send(errorMessage(code, error, message));
    ws.close(code, CLOSE_REASONS[code]);
  };
  if (!isValidRoomName(room)) return refuse(CloseCode.InvalidRoom, 'invalid_room', `invalid room name: ${ROOM_NAME_RULE}`);
  if (hub.draining) return refuse(CloseCode.ServiceRestart, 'shutting_down', 'gateway shutting down, reconnect');
  if (hub.viewerCount >= hub.config.FRAMECAST_MAX_VIEWERS) {
    hub.metrics.viewersRefused.inc({ reason: 'capacity' });
    ws.close(CloseCode.TryAgainLater, CLOSE_REASONS[CloseCode.TryAgainLater]);
    return;
  }
  // Private rooms: refused with 4401 (no, expired or bad token) or 4403 (a token for another room).
  const admitted = (a: Admission) => (a.ok ? attachViewer(hub, ws, room, req, a) : refuse(a.code, a.error, a.message));
  const admission = auth.admit(room, tokenOf(req));
  if (!(admission instanceof Promise)) return admitted(admission);
  // The socket may close while the token is checked; a closed one must not become a viewer.
  void admission.then((a) => ws.readyState === ws.OPEN && admitted(a));
}

/** setTimeout holds at most 2^31-1 ms (~24.8 days); longer tokens re-arm until they are due. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function closeAtExpiry(hub: ViewerHub, viewer: Viewer, expiresAt: number): { timer: NodeJS.Timeout } {
  const handle = { timer: undefined as unknown as NodeJS.Timeout };
  const arm = () => {
    const wait = expiresAt - Date.now();
    if (wait > MAX_TIMER_MS) {
      handle.timer = setTimeout(arm, MAX_TIMER_MS);
      return;
    }
    handle.timer = setTimeout(() => hub.close(viewer, CloseCode.Unauthorized, { error: 'unauthorized', message: 'viewer token expired' }), Math.max(0, wait));
  };
  arm();
  return handle;
}

function attachViewer(hub: ViewerHub, ws: WebSocket, room: string, req: IncomingMessage, admission: Admission & { ok: true }): void {
  ws.send(
    helloMessage({
      room,
      server: { id: hub.config.FRAMECAST_GATEWAY_ID, version: hub.version },
      maxBufferedBytes: hub.config.FRAMECAST_MAX_BUFFERED_BYTES,
      stallTimeoutMs: hub.config.FRAMECAST_STALL_TIMEOUT_MS,
    }),
  );
  const viewer = hub.add(ws, room, req.socket.remoteAddress ?? '', admission.identity);
  // A token is a lease, not a ticket: the viewer of a private room leaves when it runs out.
  const expiry = admission.expiresAt === undefined ? null : closeAtExpiry(hub, viewer, admission.expiresAt);
  ws.on('close', () => {
    if (expiry) clearTimeout(expiry.timer);
    hub.remove(viewer);
  });
}
