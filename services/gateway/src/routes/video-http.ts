import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EnvelopeError, isValidRoomName, parseFpsCap, parseVariant, readHeader, ROOM_NAME_RULE, streamName, type ErrorName, type FrameHeader, type VariantName } from '@framecast/protocol';
import { tokenOf, type Admission } from '../auth/viewer-auth.ts';
import type { GatewayContext } from '../context.ts';
import { MJPEG_RESPONSE_HEAD } from '../fanout/mjpeg-part.ts';
import { imageOf } from '../fanout/room-fanout.ts';
import { VIEWER_REFUSAL_REASONS } from '../metrics.ts';
import type { ViewerOptions } from '../viewer-hub.ts';

/**
 * Plain HTTP video for everything that is not framecast's own page: VLC, ffmpeg/ffplay, an <img>
 * on a wall display, Home Assistant's MJPEG camera (`mjpeg_url` and `still_image_url`), motionEye,
 * go2rtc.
 *
 *   GET /video/<room>.mjpeg  (or .mjpg)  multipart/x-mixed-replace MJPEG; `?fps=N` thins it
 *   GET /video/<room>.jpg    (or .jpeg)  the room's latest frame, with an ETag
 *
 * Both come from the room's one subscription and its kept frame, exactly as websocket viewers do:
 * an MJPEG client is a viewer of the room (presence, the byte bound, the stall timeout, the fps
 * cap); a snapshot never subscribes (it reads the room's last-frame key when this gateway does not
 * watch the room). Auth is the websocket's: `Authorization: Bearer <token>` or `?token=`.
 */
export function registerVideoRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  app.get<{ Params: { file: string } }>('/video/:file', async (req, reply) => {
    const target = videoTarget(req.params.file);
    if (!target) {
      return reply.code(404).send({ error: 'not_found', message: 'video URLs are /video/<room>.mjpeg (a stream) and /video/<room>.jpg (the latest frame)' });
    }
    const snapshot = target.kind === 'snapshot';
    const refuse = (status: number, error: string, message: string) => {
      if (snapshot) ctx.metrics.snapshots.inc({ result: 'refused' });
      else if (isRefusalReason(error)) ctx.metrics.viewersRefused.inc({ reason: error });
      return reply.code(status).header('cache-control', 'no-store').send({ error, message });
    };
    if (!isValidRoomName(target.room)) return refuse(400, 'invalid_room', `invalid room name: ${ROOM_NAME_RULE}`);
    const query = req.query as Record<string, string | string[] | undefined>;
    for (const [name, value] of Object.entries(query)) {
      if (Array.isArray(value)) return refuse(400, 'bad_request', `query parameter ${name} is given more than once`);
    }
    let fps: number | null = null;
    let variant: VariantName | null = null;
    try {
      fps = parseFpsCap(query.fps as string | undefined);
      variant = parseVariant(query.variant as string | undefined);
    } catch (err) {
      return refuse(400, 'bad_request', (err as Error).message);
    }

    const admission = ctx.control.auth.admit(target.room, tokenOf(req.raw));
    if (!admission.ok) {
      const [status, text] = httpRefusal(admission);
      if (status === 401) reply.header('www-authenticate', 'Bearer');
      if (status === 503) reply.header('retry-after', '1');
      return refuse(status, admission.error, text);
    }
    if (snapshot) return sendSnapshot(ctx, streamName(target.room, variant), req, reply);
    return streamMjpeg(ctx, target.room, req, reply, admission, { fps, variant });
  });
}

type VideoTarget = { room: string; kind: 'mjpeg' | 'snapshot' };

/** `<room>.mjpeg` → the stream, `<room>.jpg` → the snapshot; null for any other file name. */
export function videoTarget(file: string): VideoTarget | null {
  const dot = file.lastIndexOf('.');
  if (dot <= 0) return null;
  const ext = file.slice(dot + 1).toLowerCase();
  const room = file.slice(0, dot);
  if (ext === 'mjpeg' || ext === 'mjpg') return { room, kind: 'mjpeg' };
  if (ext === 'jpg' || ext === 'jpeg') return { room, kind: 'snapshot' };
  return null;
}

/** An admission refusal as HTTP: the status and the text a client (or its operator) reads. */
function httpRefusal(a: Admission & { ok: false }): [number, string] {
  switch (a.error) {
    case 'unauthorized':
    case 'token_expired':
    case 'room_private':
      return [401, a.message ?? reasonOf(a.error)];
    case 'not_ready':
      return [503, reasonOf(a.error)];
    default:
      return [403, a.message ?? reasonOf(a.error)];
  }
}

const REASONS: Partial<Record<ErrorName, string>> = {
  unauthorized: 'a valid viewer token is required: Authorization: Bearer <token>, or ?token=',
  token_expired: 'viewer token expired',
  room_private: 'this room is private: a viewer token is required (Authorization: Bearer <token>, or ?token=)',
  not_ready: 'room access cannot be checked yet, try again',
  forbidden: 'this token does not open this room',
};

function reasonOf(error: ErrorName): string {
  return REASONS[error] ?? error;
}

/** The refusal reasons the viewers-refused metric declares (the same for websocket and MJPEG viewers). */
const REFUSAL_REASONS: ReadonlySet<string> = new Set(VIEWER_REFUSAL_REASONS);
function isRefusalReason(error: string): error is ErrorName {
  return REFUSAL_REASONS.has(error);
}

interface Still {
  header: FrameHeader;
  image: Buffer;
}

/**
 * The room's latest frame: the one this gateway keeps while it watches the room (if fresh), else
 * the room's last-frame key (no subscription is made for a snapshot). The ETag is the frame's
 * identity (sequence and capture time), so a poller gets 304 until the next frame.
 */
async function sendSnapshot(ctx: GatewayContext, stream: string, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const { hub, bus, config, metrics } = ctx;
  let still: Still | null = null;
  const kept = hub.subscriptions.fanout(stream)?.latest;
  if (kept && Date.now() - kept.receivedAt <= config.FRAMECAST_FIRST_FRAME_MAX_AGE_MS) {
    still = { header: kept.header, image: imageOf(kept) };
  } else {
    let stored: Buffer | null;
    try {
      stored = await bus.lastFrame(stream);
    } catch {
      metrics.snapshots.inc({ result: 'refused' });
      return reply.code(503).header('retry-after', '1').header('cache-control', 'no-store').send({ error: 'bus_unavailable', message: 'the frame bus is not answering; try again' });
    }
    if (stored) {
      const header = readHeader(stored, config.FRAMECAST_MAX_ENVELOPE_BYTES);
      if (header instanceof EnvelopeError) metrics.framesInvalid.inc({ reason: header.code });
      else still = { header, image: stored.subarray(header.headerLength, header.headerLength + header.payloadLength) };
    }
  }
  if (!still) {
    metrics.snapshots.inc({ result: 'no_frame' });
    return reply
      .code(404)
      .header('cache-control', 'no-store')
      .send({ error: 'no_frame', message: `${stream.includes('~') ? `stream ${stream}` : `room ${stream}`} has no recent frame (no camera is publishing to it${stream.includes('~') ? ', or no viewer has asked for this variant yet' : ''})` });
  }
  const etag = `"${still.header.sequence}-${still.header.captureTimeUs}"`;
  reply
    .header('etag', etag)
    // Cacheable, but to be checked every time: a poller revalidates and gets 304 until the next frame.
    .header('cache-control', 'no-cache')
    .header('last-modified', new Date(still.header.captureTimeUs / 1000).toUTCString())
    .header('x-frame-sequence', String(still.header.sequence))
    .header('x-capture-time-us', String(still.header.captureTimeUs));
  if (ifNoneMatch(req.headers['if-none-match'], etag)) {
    metrics.snapshots.inc({ result: 'not_modified' });
    return reply.code(304).send();
  }
  metrics.snapshots.inc({ result: 'served' });
  return reply.type('image/jpeg').send(still.image);
}

function ifNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}

/**
 * The MJPEG stream: the response head goes on the socket, then the room's fan-out writes one
 * shared part per frame to it, like a websocket viewer's messages (latest frame wins past the
 * byte bound, cut off after the stall timeout). The response never ends by itself.
 */
function streamMjpeg(ctx: GatewayContext, room: string, req: FastifyRequest, reply: FastifyReply, admission: Admission & { ok: true }, options: ViewerOptions): FastifyReply | Promise<FastifyReply> {
  const { hub, config, metrics, control } = ctx;
  if (hub.draining) {
    metrics.viewersRefused.inc({ reason: 'shutting_down' });
    return reply.code(503).header('retry-after', '1').send({ error: 'shutting_down', message: 'gateway restarting, reconnect' });
  }
  if (hub.viewerCount >= config.FRAMECAST_MAX_VIEWERS) {
    metrics.viewersRefused.inc({ reason: 'overloaded' });
    return reply.code(503).header('retry-after', '5').send({ error: 'overloaded', message: 'gateway at its viewer limit, try again later' });
  }
  if (req.method === 'HEAD') return reply.code(200).header('content-type', 'multipart/x-mixed-replace; boundary=framecast').header('cache-control', 'no-store').send();
  reply.hijack();
  const socket = req.raw.socket;
  // The stream is not a request in progress: no idle cut for a quiet room (TCP keepalive and the
  // stall rule find dead readers), and small parts go out at once.
  socket.setTimeout(0);
  socket.setNoDelay(true);
  socket.write(MJPEG_RESPONSE_HEAD);
  const viewer = hub.addMjpeg(socket, room, req.ip, admission.identity, options);
  if (admission.leaseUntil !== undefined) control.leases.hold(viewer, admission.leaseUntil);
  return reply;
}
