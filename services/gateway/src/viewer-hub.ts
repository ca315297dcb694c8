import type { FrameBus } from '@framecast/bus';
import type { Logger } from '@framecast/logging';
import { CloseCode, CLOSES, errorMessage, streamName, type ErrorName, type VariantName } from '@framecast/protocol';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { GatewayConfig } from './config.ts';
import { RoomSubscriptions } from './fanout/room-subscriptions.ts';
import { Viewer, socketOf } from './fanout/viewer.ts';
import type { GatewayMetrics } from './metrics.ts';
import { closeCodeLabel, libraryCloseCode } from './viewer-closes.ts';
import { ANONYMOUS, type ViewerIdentity, type ViewerLifecycleListener } from './presence/viewer-listener.ts';

/** A closing viewer that does not finish the close handshake in this time is cut off. */
const CLOSE_HANDSHAKE_MS = 2_000;
/**
 * Viewers are pinged in this many slices, one slice every 1/PING_SLICES of the ping interval:
 * each ping is a socket write (a syscall, like a frame: 10–20 µs on a busy 2-core box), and
 * 20 000 of them at once would hold up every room's frames for a few hundred milliseconds.
 */
const PING_SLICES = 8;

function ignoreSocketError(): void {}

/** What a viewer chose: a frame-rate cap and a variant (both: the room's own frames, every one). */
export interface ViewerOptions {
  fps?: number | null;
  variant?: VariantName | null;
}

/** All viewers of this gateway and the rooms they watch. */
export class ViewerHub {
  readonly subscriptions: RoomSubscriptions;
  private readonly viewers = new Set<Viewer>();
  private nextId = 1;
  draining = false;
  /** Told once per viewer join and leave (presence, auth bookkeeping); never per frame. */
  readonly viewerListeners: ViewerLifecycleListener[] = [];
  /** One timer for all viewers: pings them and closes those that did not answer the last ping. */
  private readonly pingTimer: NodeJS.Timeout;
  /** The viewers by ping slice (id modulo PING_SLICES); the timer takes the next slice each tick. */
  private readonly pingSlices: Array<Set<Viewer>> = Array.from({ length: PING_SLICES }, () => new Set());
  private nextPingSlice = 0;

  private readonly config: GatewayConfig;
  private readonly metrics: GatewayMetrics;
  private readonly logger: Logger;

  constructor(config: GatewayConfig, bus: FrameBus, metrics: GatewayMetrics, logger: Logger) {
    this.config = config;
    this.metrics = metrics;
    this.logger = logger;
    this.subscriptions = new RoomSubscriptions({
      bus,
      metrics,
      logger,
      lingerMs: config.FRAMECAST_SUBSCRIBE_LINGER_MS,
      maxFrameBytes: config.FRAMECAST_MAX_ENVELOPE_BYTES,
      maxBufferedBytes: config.FRAMECAST_MAX_BUFFERED_BYTES,
      stallTimeoutMs: config.FRAMECAST_VIEWER_STALL_TIMEOUT_MS,
      firstFrameMaxAgeMs: config.FRAMECAST_FIRST_FRAME_MAX_AGE_MS,
      onStalled: (v) => this.close(v, 'stalled'),
    });
    this.pingTimer = setInterval(() => this.pingSlice(), config.FRAMECAST_PING_INTERVAL_MS / PING_SLICES);
    this.pingTimer.unref();
    metrics.sampleBuffered = () => {
      let total = 0;
      for (const v of this.viewers) total += v.socket.writableLength;
      return total;
    };
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  /** A websocket viewer, admitted; `fps` caps its frame rate (null: every frame), `variant` picks a smaller rendition. */
  add(ws: WebSocket, room: string, remoteAddress: string, identity: ViewerIdentity = ANONYMOUS, opts: ViewerOptions = {}): Viewer {
    const viewer = new Viewer(this.nextId++, room, 'websocket', socketOf(ws), remoteAddress, ws, streamName(room, opts.variant ?? null));
    // Once per connection, never per frame. `ws` emits 'error' (a frame it refused, with the close
    // code it sent) before 'close'; both come whoever closed the socket.
    ws.on('pong', () => (viewer.awaitingPong = false));
    ws.on('error', (err: Error) => (viewer.libraryCloseCode ||= libraryCloseCode(err)));
    ws.on('close', (code: number) => this.socketClosed(viewer, code));
    this.pingSlices[viewer.id % PING_SLICES]!.add(viewer);
    return this.join(viewer, identity, opts.fps ?? null);
  }

  /**
   * An MJPEG viewer: an HTTP response whose head is already on `socket`. No pings (HTTP has none):
   * TCP keepalive finds a vanished peer in a quiet room, the stall rule one in a busy room.
   */
  addMjpeg(socket: Socket, room: string, remoteAddress: string, identity: ViewerIdentity = ANONYMOUS, opts: ViewerOptions = {}): Viewer {
    const viewer = new Viewer(this.nextId++, room, 'mjpeg', socket, remoteAddress, null, streamName(room, opts.variant ?? null));
    socket.setKeepAlive(true, this.config.FRAMECAST_PING_INTERVAL_MS);
    // An MJPEG client ends its stream by closing the connection: counted as 1001, going away.
    socket.on('close', () => this.socketClosed(viewer, CloseCode.GoingAway));
    socket.on('error', ignoreSocketError);
    return this.join(viewer, identity, opts.fps ?? null);
  }

  private join(viewer: Viewer, identity: ViewerIdentity, fps: number | null): Viewer {
    viewer.setFpsCap(fps);
    this.viewers.add(viewer);
    this.metrics.viewers.set(this.viewers.size);
    this.metrics.viewersByTransport.inc({ transport: viewer.transport });
    this.subscriptions.join(viewer);
    for (const l of this.viewerListeners) l.joined(viewer, identity);
    this.logger.debug({ viewer: viewer.id, room: viewer.room, stream: viewer.stream, transport: viewer.transport, remoteAddress: viewer.remoteAddress, fps }, 'viewer joined');
    return viewer;
  }

  remove(viewer: Viewer): void {
    if (!this.viewers.delete(viewer)) return;
    this.pingSlices[viewer.id % PING_SLICES]!.delete(viewer);
    this.metrics.viewers.set(this.viewers.size);
    this.metrics.viewersByTransport.dec({ transport: viewer.transport });
    this.subscriptions.leave(viewer);
    for (const l of this.viewerListeners) l.left(viewer);
    this.logger.debug({ viewer: viewer.id, room: viewer.room, sent: viewer.framesSent, skipped: viewer.framesSkipped }, 'viewer left');
  }

  /**
   * A viewer's socket closed. A close the gateway decided was counted when it decided (close());
   * any other is counted here, once: under the code `ws` sent when it failed the connection itself
   * (1009 message too big, 1002 protocol error, …), else under the client's (1000, 1001, 1005
   * without a code, 1006 when the connection was cut without a close frame).
   */
  private socketClosed(viewer: Viewer, code: number): void {
    if (!viewer.closing) {
      viewer.closing = true;
      const counted = viewer.libraryCloseCode || code;
      this.metrics.viewersClosed.inc({ code: closeCodeLabel(counted) });
      this.logger.debug({ viewer: viewer.id, room: viewer.room, code: counted }, 'viewer connection closed');
    } else {
      this.logger.debug({ viewer: viewer.id, room: viewer.room, code }, 'viewer socket closed after the gateway closed it');
    }
    this.remove(viewer);
  }

  /**
   * One slice of the viewers, so each viewer once per ping interval: a viewer that has not
   * answered its previous ping is closed (4504), the others get a new ping. Frames are no sign of
   * life (they leave through the socket buffers of a peer that is gone), only a pong is. A viewer is
   * thus closed between one and two intervals after its network vanished. The pings also keep
   * proxies' idle timeouts from cutting quiet viewers.
   */
  pingSlice(): void {
    const slice = this.pingSlices[this.nextPingSlice]!;
    this.nextPingSlice = (this.nextPingSlice + 1) % PING_SLICES;
    let dead = 0;
    for (const v of slice) {
      if (v.awaitingPong) {
        dead++;
        this.close(v, 'not_responding'); // removes v from the set: safe while iterating it
        continue;
      }
      v.awaitingPong = true;
      v.ws!.ping(); // the slices hold websocket viewers only
    }
    if (dead > 0) this.logger.info({ closed: dead, pingIntervalMs: this.config.FRAMECAST_PING_INTERVAL_MS }, 'closed viewers that did not answer a ping');
  }

  /**
   * Closes a viewer with a row of the protocol's close table: the error message, then the close
   * frame with the row's code and reason. Frames stop at once, the socket goes soon after.
   */
  close(viewer: Viewer, error: ErrorName, message?: string): void {
    if (viewer.closing) return;
    viewer.closing = true;
    const { code, reason } = CLOSES[error];
    this.metrics.viewersClosed.inc({ code: String(code) });
    if (error === 'stalled') this.logger.info({ viewer: viewer.id, room: viewer.room, skipped: viewer.framesSkipped }, 'closing stalled viewer');
    else this.logger.debug({ viewer: viewer.id, room: viewer.room, code, error }, 'closing viewer');
    const ws = viewer.ws;
    if (ws) {
      ws.send(errorMessage(error, message));
      ws.close(code, reason);
      // The close frame waits behind the bytes already buffered. A stalled viewer gets as long
      // again as it was stalled to read them and learn the code; the bytes held meanwhile are the
      // bounded ones already there. Anyone else gets the usual short handshake, not ws's 30 s.
      const grace = error === 'stalled' ? this.config.FRAMECAST_VIEWER_STALL_TIMEOUT_MS : CLOSE_HANDSHAKE_MS;
      setTimeout(() => ws.terminate(), grace).unref();
    } else if (error === 'stalled') {
      // An MJPEG stream has no way to say why; a reader that stopped reading is cut off.
      viewer.socket.destroy();
    } else {
      // The part being written completes, then the connection ends (the stream's end is the message).
      viewer.socket.end();
      setTimeout(() => viewer.socket.destroy(), CLOSE_HANDSHAKE_MS).unref();
    }
    this.remove(viewer);
  }

  /** Shutdown: refuse new viewers, close every viewer with 1012 so it reconnects elsewhere, then wait for the sockets. */
  async closeAll(error: ErrorName, deadline: number): Promise<void> {
    this.draining = true;
    clearInterval(this.pingTimer);
    const all = [...this.viewers];
    for (const v of all) this.close(v, error);
    await Promise.race([
      Promise.all(all.map((v) => (v.socket.destroyed ? null : new Promise((r) => v.socket.once('close', r))))),
      new Promise((r) => setTimeout(r, Math.max(0, Math.min(deadline - Date.now(), CLOSE_HANDSHAKE_MS))).unref()),
    ]);
    // Whoever has not answered the close frame (or taken the stream's end) by now is not reading: cut it off.
    for (const v of all) {
      if (v.ws && v.ws.readyState !== v.ws.CLOSED) v.ws.terminate();
      else if (!v.ws) v.socket.destroy();
    }
    await this.subscriptions.closeAll();
  }
}
