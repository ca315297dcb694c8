import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/** One connected websocket viewer of one room. */
export class Viewer {
  /** Time (ms) since when every frame has been skipped for this viewer; 0 while it keeps up. */
  stalledSince = 0;
  /** Set once the gateway has decided to close it, or its socket closed: no more frames are written, the close is counted. */
  closing = false;
  /** A ping went out and no pong has come back since (checked at the next ping). */
  awaitingPong = false;
  /** The close code `ws` sent when it failed the connection itself (1002, 1007, 1008, 1009); 0 otherwise. */
  libraryCloseCode = 0;
  framesSent = 0;
  framesSkipped = 0;
  readonly connectedAt = Date.now();

  readonly id: number;
  readonly room: string;
  readonly ws: WebSocket;
  /** The TCP socket under `ws`, written directly with pre-framed messages. */
  readonly socket: Socket;
  readonly remoteAddress: string;

  constructor(id: number, room: string, ws: WebSocket, socket: Socket, remoteAddress: string) {
    this.id = id;
    this.room = room;
    this.ws = ws;
    this.socket = socket;
    this.remoteAddress = remoteAddress;
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
