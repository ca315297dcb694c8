import type { FrameBus } from '@framecast/bus';
import type { Logger } from '@framecast/logging';
import { CLOSES, errorMessage, type ErrorName } from '@framecast/protocol';
import type { WebSocket } from 'ws';
import type { GatewayConfig } from './config.ts';
import { RoomSubscriptions } from './fanout/room-subscriptions.ts';
import { Viewer, socketOf } from './fanout/viewer.ts';
import type { GatewayMetrics } from './metrics.ts';
import { ANONYMOUS, type ViewerIdentity, type ViewerLifecycleListener } from './presence/viewer-listener.ts';

/** A closing viewer that does not finish the close handshake in this time is cut off. */
const CLOSE_HANDSHAKE_MS = 2_000;

/** All viewers of this gateway and the rooms they watch. */
export class ViewerHub {
  readonly subscriptions: RoomSubscriptions;
  private readonly viewers = new Set<Viewer>();
  private nextId = 1;
  draining = false;
  /** Told once per viewer join and leave (presence, auth bookkeeping); never per frame. */
  readonly viewerListeners: ViewerLifecycleListener[] = [];

  constructor(
    readonly config: GatewayConfig,
    readonly bus: FrameBus,
    readonly metrics: GatewayMetrics,
    readonly logger: Logger,
    readonly version: string,
  ) {
    this.subscriptions = new RoomSubscriptions({
      bus,
      metrics,
      logger,
      lingerMs: config.FRAMECAST_SUBSCRIBE_LINGER_MS,
      maxFrameBytes: config.FRAMECAST_MAX_FRAME_BYTES,
      maxBufferedBytes: config.FRAMECAST_MAX_BUFFERED_BYTES,
      stallTimeoutMs: config.FRAMECAST_STALL_TIMEOUT_MS,
      firstFrameMaxAgeMs: config.FRAMECAST_FIRST_FRAME_MAX_AGE_MS,
      onStalled: (v) => this.close(v, 'stalled'),
    });
    metrics.sampleBuffered = () => {
      let total = 0;
      for (const v of this.viewers) total += v.socket.writableLength;
      return total;
    };
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  add(ws: WebSocket, room: string, remoteAddress: string, identity: ViewerIdentity = ANONYMOUS): Viewer {
    const viewer = new Viewer(this.nextId++, room, ws, socketOf(ws), remoteAddress);
    this.viewers.add(viewer);
    this.metrics.viewers.set(this.viewers.size);
    this.subscriptions.join(viewer);
    for (const l of this.viewerListeners) l.joined(viewer, identity);
    this.logger.debug({ viewer: viewer.id, room, remoteAddress }, 'viewer joined');
    return viewer;
  }

  remove(viewer: Viewer): void {
    if (!this.viewers.delete(viewer)) return;
    this.metrics.viewers.set(this.viewers.size);
    this.subscriptions.leave(viewer);
    for (const l of this.viewerListeners) l.left(viewer);
    this.logger.debug({ viewer: viewer.id, room: viewer.room, sent: viewer.framesSent, skipped: viewer.framesSkipped }, 'viewer left');
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
    viewer.ws.send(errorMessage(error, message));
    viewer.ws.close(code, reason);
    // The close frame waits behind the bytes already buffered. A stalled viewer gets as long
    // again as it was stalled to read them and learn the code; the bytes held meanwhile are the
    // bounded ones already there. Anyone else gets the usual short handshake, not ws's 30 s.
    const grace = error === 'stalled' ? this.config.FRAMECAST_STALL_TIMEOUT_MS : CLOSE_HANDSHAKE_MS;
    setTimeout(() => viewer.ws.terminate(), grace).unref();
    this.remove(viewer);
  }

  /** Shutdown: refuse new viewers, close every viewer with 1012 so it reconnects elsewhere, then wait for the sockets. */
  async closeAll(error: ErrorName, deadline: number): Promise<void> {
    this.draining = true;
    const sockets = [...this.viewers].map((v) => v.ws);
    for (const v of [...this.viewers]) this.close(v, error);
    await Promise.race([
      Promise.all(sockets.map((ws) => (ws.readyState === ws.CLOSED ? null : new Promise((r) => ws.once('close', r))))),
      new Promise((r) => setTimeout(r, Math.max(0, Math.min(deadline - Date.now(), CLOSE_HANDSHAKE_MS))).unref()),
    ]);
    // Whoever has not answered the close frame by now is not reading: cut it off.
    for (const ws of sockets) if (ws.readyState !== ws.CLOSED) ws.terminate();
    await this.subscriptions.closeAll();
  }
}
