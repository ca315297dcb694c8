import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  CLOSES,
  errorMessage,
  helloMessage,
  isValidRoomName,
  optionsMessage,
  parseFpsCap,
  parseVariant,
  parseViewerMessage,
  rejectedMessage,
  ROOM_NAME_RULE,
  VIEWER_MESSAGE_MAX_BYTES,
  VIEWER_SUBPROTOCOL,
  ViewerOptionError,
  type ErrorName,
} from '@framecast/protocol';
import { tokenOf, type Admission } from '../auth/viewer-auth.ts';
import { originAllowed } from '../auth/origins.ts';
import type { GatewayContext } from '../context.ts';
import type { ViewerOptions } from '../viewer-hub.ts';

const ROUTE_PREFIX = '/ws/video/';

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
export function registerViewerUpgrades(app: FastifyInstance, ctx: GatewayContext, otherUpgrades?: (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean): WebSocketServer {
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: VIEWER_MESSAGE_MAX_BYTES,
    clientTracking: false,
    // A browser that offers subprotocols (the viewer page offers framecast.v1 and its token) fails
    // the connection unless one is selected; the token is never the one echoed back.
    handleProtocols: (offered) => (offered.has(VIEWER_SUBPROTOCOL) ? VIEWER_SUBPROTOCOL : false),
  });
  // The server's one upgrade listener: viewers here, `/ws/publish/` to the publish route (a fastify
  // route through @fastify/websocket, handed its upgrades by `otherUpgrades`), anything else 404.
  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const room = roomFromUrl(req.url ?? '');
    if (room === null) {
      if (otherUpgrades?.(req, socket, head)) return;
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    socket.on('error', destroySocket);
    wss.handleUpgrade(req, socket, head, (ws) => {
      socket.off('error', destroySocket);
      onViewerSocket(ctx, ws, room, req);
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

/** The query string of a request URL as parameters. */
export function queryOf(url: string): URLSearchParams {
  const q = url.indexOf('?');
  return new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
}

function destroySocket(this: Duplex): void {
  this.destroy();
}

function ignoreSocketError(): void {}

/** The request path for logs, with a query token (the least private form) masked. */
function loggedPath(url: string): string {
  return url.replace(/([?&]token=)[^&]*/g, '$1<redacted>');
}

function onViewerSocket(ctx: GatewayContext, ws: WebSocket, room: string, req: IncomingMessage): void {
  const { hub, config, metrics, logger, control } = ctx;
  // Errors on an established socket are followed by 'close', which cleans up (and, for an admitted
  // viewer, counts the close: ViewerHub.add).
  ws.on('error', ignoreSocketError);
  const refuse = (error: ErrorName, message?: string) => {
    metrics.viewersRefused.inc({ reason: error });
    // Per connection, never per frame; still, build nothing when debug is off (an idle ramp is thousands of joins).
    if (logger.isLevelEnabled('debug')) logger.debug({ path: loggedPath(req.url ?? ''), remoteAddress: req.socket.remoteAddress, error }, 'viewer refused');
    ws.send(errorMessage(error, message));
    ws.close(CLOSES[error].code, CLOSES[error].reason);
  };
  if (!isValidRoomName(room)) return refuse('invalid_room', `invalid room name: ${ROOM_NAME_RULE}`);
  let options: ViewerOptions;
  try {
    const query = queryOf(req.url ?? '');
    options = { fps: parseFpsCap(query.get('fps')), variant: parseVariant(query.get('variant')) };
  } catch (err) {
    return refuse('bad_request', (err as Error).message);
  }
  if (!originAllowed(req, config.FRAMECAST_ALLOWED_ORIGINS)) return refuse('origin_forbidden');
  if (hub.draining) return refuse('shutting_down');
  if (hub.viewerCount >= config.FRAMECAST_MAX_VIEWERS) return refuse('overloaded');
  // Private rooms: refused with 4401 (no, expired or bad token) or 4403 (a token for another room).
  const admission = control.auth.admit(room, tokenOf(req));
  return admission.ok ? attachViewer(ctx, ws, room, req, admission, options) : refuse(admission.error, admission.message);
}

function attachViewer(ctx: GatewayContext, ws: WebSocket, room: string, req: IncomingMessage, admission: Admission & { ok: true }, options: ViewerOptions): void {
  const { hub, config, logger, control, identity, version, metrics } = ctx;
  ws.send(
    helloMessage({
      room,
      server: { id: identity.id, version },
      maxBufferedBytes: config.FRAMECAST_MAX_BUFFERED_BYTES,
      stallTimeoutMs: config.FRAMECAST_VIEWER_STALL_TIMEOUT_MS,
    }),
  );
  const viewer = hub.add(ws, room, req.socket.remoteAddress ?? '', admission.identity, options);
  // The one message a viewer may send: its options. Anything else is answered, counted and
  // otherwise ignored; the viewer keeps watching (messages over the size limit close it, 1009).
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    try {
      if (isBinary) throw new ViewerOptionError('message', 'viewers send text messages only: {"type":"options","fps":N}');
      const options = parseViewerMessage(data.toString('utf8'));
      viewer.setFpsCap(options.fps);
      metrics.viewerMessages.inc({ result: 'applied' });
      ws.send(optionsMessage(options.fps));
    } catch (err) {
      if (!(err instanceof ViewerOptionError)) throw err;
      metrics.viewerMessages.inc({ result: 'rejected' });
      ws.send(rejectedMessage(err.message));
    }
  });
  if (logger.isLevelEnabled('debug')) logger.debug({ viewer: viewer.id, path: loggedPath(req.url ?? ''), leased: admission.leaseUntil !== undefined }, 'viewer admitted');
  // A token is a lease, not a ticket: the viewer of a private room leaves when it runs out.
  if (admission.leaseUntil !== undefined) control.leases.hold(viewer, admission.leaseUntil);
  // The hub counts the close and removes the viewer when the socket closes, whoever closes it.
}
