import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/** How a viewer receives frames: websocket messages (envelopes), or an HTTP MJPEG stream (the JPEGs). */
export type ViewerTransport = 'websocket' | 'mjpeg';

/** One connected viewer of one room. */
export class Viewer {
  /** Time (ms) since when every frame has been skipped for this viewer; 0 while it keeps up. */
  stalledSince = 0;
  /** Set once the gateway has decided to close it, or its socket closed: no more frames are written, the close is counted. */
  closing = false;
  /** A ping went out and no pong has come back since (checked at the next ping). Websocket viewers only. */
  awaitingPong = false;
  /** The close code `ws` sent when it failed the connection itself (1002, 1007, 1008, 1009); 0 otherwise. */
  libraryCloseCode = 0;
  framesSent = 0;
  framesSkipped = 0;
  /** The viewer's frame-rate cap as an interval (ms) between frames; 0: every frame. */
  frameIntervalMs = 0;
  /** With a cap: the earliest time (ms) the next frame may go. */
  nextFrameAt = 0;
  readonly connectedAt = Date.now();

  readonly id: number;
  /** The room watched: what presence, auth and leases go by. */
  readonly room: string;
  /** What is delivered: the room itself, or a variant of it (`lobby~small`); what the subscription goes by. */
  readonly stream: string;
  readonly transport: ViewerTransport;
  /** True for MJPEG viewers: the hot path picks the frame's bytes by this, not by a string compare. */
  readonly mjpeg: boolean;
  /** The websocket (null for MJPEG viewers). */
  readonly ws: WebSocket | null;
  /** The TCP socket, written directly with pre-framed messages or MJPEG parts. */
  readonly socket: Socket;
  readonly remoteAddress: string;

  constructor(id: number, room: string, transport: ViewerTransport, socket: Socket, remoteAddress: string, ws: WebSocket | null = null, stream: string = room) {
    this.id = id;
    this.room = room;
    this.stream = stream;
    this.transport = transport;
    this.mjpeg = transport === 'mjpeg';
    this.ws = ws;
    this.socket = socket;
    this.remoteAddress = remoteAddress;
  }

  /** Sets (fps) or lifts (null) the frame-rate cap; the next frame goes at once. */
  setFpsCap(fps: number | null): void {
    this.frameIntervalMs = fps === null ? 0 : 1000 / fps;
    this.nextFrameAt = 0;
  }

  /**
   * Whether a frame captured at `captureMs` (the envelope's clock) goes to this capped viewer, and
   * if so books the next slot. Video time, not arrival time, so arrival jitter never squeezes two
   * sent frames closer than the cap. Slots advance by exactly one interval while frames keep up, so
   * the rate averages the cap (not the cap rounded down to the source's frame spacing); after a
   * gap, or a camera clock that stepped back, they restart from this frame.
   */
  takeSlot(captureMs: number): boolean {
    const interval = this.frameIntervalMs;
    const next = this.nextFrameAt;
    if (captureMs < next && next - captureMs <= 2 * interval) return false;
    this.nextFrameAt = captureMs >= next && captureMs - next < interval ? next + interval : captureMs + interval;
    return true;
  }
}

/**
 * The TCP socket of an open `ws` WebSocket. `ws` keeps it in `_socket` (stable across ws 8.x);
 * pre-framed writes bypass its Sender, which is safe because with compression off the Sender
 * writes each message synchronously, so whole frames never interleave.
 */
export function socketOf(ws: WebSocket): Socket {
  const socket = (ws as unknown as { _socket?: Socket })._socket;
  if (!socket) throw new Error('websocket has no underlying socket (not open?)');
  return socket;
}
