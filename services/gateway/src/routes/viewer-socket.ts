import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { CLOSE_REASONS, CloseCode, errorMessage, helloMessage, isValidRoomName, ROOM_NAME_RULE, type CloseCodeValue, type ErrorName } from '@framecast/protocol';
import type { ViewerHub } from '../viewer-hub.ts';

/**
 * `GET /ws/video/:room` — the route of the original Channels design. A refused connection is
 * accepted, told why in an error message, then closed with a code from the protocol, because a
 * browser cannot read the HTTP status of a failed upgrade.
 */
export function registerViewerSocket(app: FastifyInstance, hub: ViewerHub): void {
  app.route<{ Params: { room: string } }>({
    method: 'GET',
    url: '/ws/video/:room',
    handler: async (_req, reply) =>
      reply.code(426).header('upgrade', 'websocket').send({ error: 'upgrade_required', message: 'this is a websocket endpoint: connect with ws:// or wss://' }),
    wsHandler: (ws, req) => {
      const room = req.params.room;
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
      attachViewer(hub, ws, room, req.socket.remoteAddress ?? '');
    },
  });
}

function attachViewer(hub: ViewerHub, ws: WebSocket, room: string, remoteAddress: string): void {
  ws.send(
    helloMessage({
      room,
      server: { id: hub.config.FRAMECAST_GATEWAY_ID, version: hub.version },
      maxBufferedBytes: hub.config.FRAMECAST_MAX_BUFFERED_BYTES,
      stallTimeoutMs: hub.config.FRAMECAST_STALL_TIMEOUT_MS,
    }),
  );
  const viewer = hub.add(ws, room, remoteAddress);
  // Viewers only receive; anything they send is ignored (size capped by the ws maxPayload).
  ws.on('close', () => hub.remove(viewer));
}
