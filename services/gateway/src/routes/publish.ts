import { Server as UpgradeSource, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import websocket, { type RouteOptions as WebsocketRouteOptions } from '@fastify/websocket';
import type { FastifyInstance, FastifyRequest, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { WebSocket } from 'ws';
import { CLOSES, errorMessage, PUBLISH_PATH_PREFIX, publisherHelloMessage, ROOM_NAME_PATTERN, ROOM_NAME_RULE, VIEWER_SUBPROTOCOL, type ErrorName } from '@framecast/protocol';
import { ViewerTokenVerifier } from '@framecast/viewer-tokens';
import { originAllowed } from '../auth/origins.ts';
import { PublishAuth, type PublishAdmission } from '../auth/publish-auth.ts';
import { tokenOf } from '../auth/viewer-auth.ts';
import type { GatewayContext } from '../context.ts';
import { PublisherHub } from '../publish/publishers.ts';
import { libraryCloseCode } from '../viewer-closes.ts';

/** A refused publisher that does not answer the close frame in this time is cut off. */
const CLOSE_HANDSHAKE_MS = 2_000;
/** `/ws/publish/<room>` with an optional trailing slash and query: the only upgrades handed to this route. */
const PUBLISH_UPGRADE_PATH = /^\/ws\/publish\/[^/?]+\/?(\?|$)/;

export interface PublishRoute {
  publishers: PublisherHub;
  /** Hands a `/ws/publish/…` upgrade to the route (true), or leaves any other path alone (false). */
  takeUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
}

/**
 * `GET /ws/publish/:room` — a browser tab (or any websocket client) publishing a room's frames.
 *
 * Unlike the viewer path (a direct upgrade, measured per idle viewer), this is a fastify route
 * through @fastify/websocket: publishers are few, and the route gets fastify's schema for the room
 * and a preHandler hook for admission. The plugin lives in its own encapsulated scope so its hooks
 * touch this route only, and it listens for upgrades on a private emitter (its documented `server`
 * option, here an http.Server that never listens) instead of the gateway's HTTP server: the
 * gateway's one `upgrade` listener (viewer-upgrade.ts) hands it `/ws/publish/` upgrades and keeps
 * `/ws/video/` ones for itself, so neither path ever sees the other's sockets.
 *
 * As for viewers, a refused publisher is accepted, told why in an error message, then closed with
 * a code of the protocol's close table: a browser cannot read the HTTP status of a failed upgrade.
 */
export async function registerPublishRoute(app: FastifyInstance, ctx: GatewayContext): Promise<PublishRoute> {
  const { config, metrics, logger, hub } = ctx;
  const upgrades = new UpgradeSource();
  const publishers = new PublisherHub(metrics);
  const auth = new PublishAuth(config.FRAMECAST_AUTH === 'on' ? new ViewerTokenVerifier(config.FRAMECAST_TOKEN_SECRET!) : null);
  /** Decided by the preHandler hook, acted on once the socket is open. */
  const admissions = new WeakMap<FastifyRequest, PublishAdmission>();

  await app.register(async (scope) => {
    await scope.register(websocket, {
      options: {
        server: upgrades,
        // JPEG does not compress; deflate would only cost CPU (STACK.md).
        perMessageDeflate: false,
        // A frame over the envelope limit is dropped and the publisher told (`oversized`); one over
        // twice the limit is refused by ws from its length alone, before it is read (1009).
        maxPayload: 2 * config.FRAMECAST_MAX_ENVELOPE_BYTES,
        clientTracking: false,
        // The page offers framecast.v1 and framecast.token.<jwt>; the token is never the one echoed.
        handleProtocols: (offered: Set<string>) => (offered.has(VIEWER_SUBPROTOCOL) ? VIEWER_SUBPROTOCOL : false),
      },
      // Failures of an open publisher socket: ws refusing a message (too big: 1009, malformed) has
      // already sent its close frame; anything else is a bug, logged, and the socket cut.
      errorHandler(err: Error, socket: WebSocket) {
        const code = libraryCloseCode(err);
        if (code === 1009) metrics.publishFrames.inc({ result: 'oversized' });
        if (code) logger.info({ code, err: err.message }, 'publisher connection failed by the websocket library');
        else logger.error({ err }, 'publisher handler failed');
        if (code) setTimeout(() => socket.terminate(), CLOSE_HANDSHAKE_MS).unref();
        else socket.terminate();
      },
      // The gateway's shutdown closes publishers itself (1012, with viewers); nothing to do here.
      preClose(done: () => void) {
        done();
      },
    });

    const route: WebsocketRouteOptions<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, { Params: { room: string } }> = {
      method: 'GET',
      url: `${PUBLISH_PATH_PREFIX}:room`,
      schema: {
        params: { type: 'object', properties: { room: { type: 'string', pattern: ROOM_NAME_PATTERN.source } }, required: ['room'], additionalProperties: false },
      },
      // A bad room name is refused with the close table (4400), like a viewer's, not with an HTTP 400 the browser cannot read.
      attachValidation: true,
      preHandler: async (req) => {
        if (!req.ws) return; // plain HTTP: the handler answers 426
        admissions.set(req, admit(req));
      },
      handler: async (_req, reply) =>
        reply.code(426).header('upgrade', 'websocket').send({ error: 'upgrade_required', message: 'this is a websocket endpoint for publishers: connect with ws:// or wss:// and a publish token' }),
      wsHandler: (ws: WebSocket, req) => {
        const refuse = (error: ErrorName, message: string) => {
          metrics.publishersRefused.inc({ reason: error });
          logger.info({ room: req.params.room, remoteAddress: req.socket.remoteAddress, error, why: message }, 'publisher refused');
          ws.send(errorMessage(error, message));
          ws.close(CLOSES[error].code, CLOSES[error].reason);
          setTimeout(() => ws.terminate(), CLOSE_HANDSHAKE_MS).unref();
        };
        const admission = admissions.get(req) ?? { ok: false, error: 'publish_unauthorized', message: 'not admitted' };
        if (!admission.ok) return refuse(admission.error, admission.message);
        const { room } = req.params;
        // The token check took a moment: the gateway may have started draining meanwhile.
        if (hub.draining) return refuse('shutting_down', CLOSES.shutting_down.reason);
        const publisher = publishers.add({
          room,
          ws,
          user: admission.user,
          remoteAddress: req.socket.remoteAddress ?? '',
          bus: ctx.bus,
          metrics,
          logger,
          maxEnvelopeBytes: config.FRAMECAST_MAX_ENVELOPE_BYTES,
          maxFps: config.FRAMECAST_MAX_PUBLISH_FPS,
          lastFrameTtlMs: config.FRAMECAST_FIRST_FRAME_MAX_AGE_MS,
          pingIntervalMs: config.FRAMECAST_PING_INTERVAL_MS,
        });
        if (!publisher) return refuse('room_busy', `room ${room} has a publisher already: one at a time`);
        if (admission.expiresAt !== null) publisher.holdUntil(admission.expiresAt);
        ws.send(
          publisherHelloMessage({
            room,
            server: { id: ctx.identity.id, version: ctx.version },
            maxFps: config.FRAMECAST_MAX_PUBLISH_FPS,
            maxEnvelopeBytes: config.FRAMECAST_MAX_ENVELOPE_BYTES,
          }),
        );
        logger.info({ publisher: publisher.id, room, user: admission.user, remoteAddress: req.socket.remoteAddress }, 'publisher live');
      },
    };
    scope.route(route);
  });

  /** Admission, in the order the viewer path checks: room, origin, draining, then the token. */
  function admit(req: FastifyRequest): PublishAdmission {
    if (req.validationError) return { ok: false, error: 'invalid_room', message: `invalid room name: ${ROOM_NAME_RULE}` };
    const { room } = req.params as { room: string };
    if (!originAllowed(req.raw, config.FRAMECAST_ALLOWED_ORIGINS)) return { ok: false, error: 'origin_forbidden', message: CLOSES.origin_forbidden.reason };
    if (hub.draining) return { ok: false, error: 'shutting_down', message: CLOSES.shutting_down.reason };
    return auth.admit(room, tokenOf(req.raw, { fromQuery: false }));
  }

  return {
    publishers,
    takeUpgrade(req, socket, head) {
      if (!PUBLISH_UPGRADE_PATH.test(req.url ?? '')) return false;
      upgrades.emit('upgrade', req, socket, head);
      return true;
    },
  };
}
