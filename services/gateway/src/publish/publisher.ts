import type { FrameBus } from '@framecast/bus';
import type { Logger } from '@framecast/logging';
import { CLOSES, errorMessage, nowMicros, rejectedMessage, type ErrorName, type PublishDropReason } from '@framecast/protocol';
import type { WebSocket } from 'ws';
import type { GatewayMetrics } from '../metrics.ts';
import { checkPublishedFrame, PublishRate, republish } from './frame-rules.ts';

/** Where the v1 header keeps the sequence (packages/protocol envelope.ts). */
const ENVELOPE_SEQUENCE_OFFSET = 12;
/** A publisher the gateway closes gets this long to answer the close frame, then it is cut off. */
const CLOSE_HANDSHAKE_MS = 2_000;
/** Dropped frames are told at most this often: a page sending garbage at 30 fps gets one note a second, not 30. */
export const NOTE_INTERVAL_MS = 1_000;

export interface PublisherOptions {
  id: number;
  room: string;
  ws: WebSocket;
  /** The token's subject, for logs; null without one. */
  user: string | null;
  remoteAddress: string;
  bus: FrameBus;
  metrics: GatewayMetrics;
  logger: Logger;
  maxEnvelopeBytes: number;
  maxFps: number;
  /** Expiry of the room's last-frame key, as an agent sets it. */
  lastFrameTtlMs: number;
  pingIntervalMs: number;
  /** Called once when the publisher is gone (the socket closed, whoever closed it). */
  onGone: (p: Publisher) => void;
}

/**
 * One browser tab publishing a room's frames. Every binary message is checked (frame-rules.ts) and,
 * if good, re-headed by the gateway and published like a capture agent publishes: PUBLISH to the
 * room's channel and SET of its last frame. Latest frame wins here too: one publish in flight and
 * at most one frame waiting, whatever the page sends, so a slow or absent Redis costs two frames
 * of memory. Dropped frames are counted by reason and told to the publisher, in one note a second.
 */
export class Publisher {
  readonly id: number;
  readonly room: string;
  readonly user: string | null;
  readonly since = Date.now();
  published = 0;
  private sequence = 0;
  private readonly rate: PublishRate;
  private waiting: Buffer | null = null;
  private inFlight = false;
  closing = false;
  private gone = false;
  /** Dropped since the last note, by reason, and the newest drop's detail. */
  private dropped: Partial<Record<PublishDropReason, number>> = {};
  private lastProblem = '';
  private lastNoteAt = -Infinity;
  private noteTimer: NodeJS.Timeout | null = null;
  private leaseTimer: NodeJS.Timeout | null = null;
  private readonly pingTimer: NodeJS.Timeout;
  /** Anything from the publisher (a message, a pong) since the last ping: it is there. */
  private heard = true;

  private readonly opts: PublisherOptions;

  constructor(opts: PublisherOptions) {
    this.opts = opts;
    this.id = opts.id;
    this.room = opts.room;
    this.user = opts.user;
    this.rate = new PublishRate(opts.maxFps);
    const { ws } = opts;
    ws.on('message', (data: Buffer, isBinary: boolean) => this.onMessage(data, isBinary));
    ws.on('pong', () => (this.heard = true));
    ws.on('close', (code: number) => this.onClosed(code));
    // A publisher whose network vanished would hold its room for good: one that has answered
    // nothing (no frame, no pong) for a whole ping interval is closed (4504), freeing the room.
    this.pingTimer = setInterval(() => {
      if (!this.heard) return this.close('not_responding');
      this.heard = false;
      ws.ping();
    }, opts.pingIntervalMs);
    this.pingTimer.unref();
  }

  /** A token is a lease: the publisher is closed (4401 publish_token_expired) when it runs out. */
  holdUntil(expiresAt: number): void {
    // setTimeout takes at most 2^31-1 ms (24.8 days); tokens live 7 days at most.
    this.leaseTimer = setTimeout(() => this.close('publish_token_expired'), Math.min(0x7fffffff, Math.max(0, expiresAt - Date.now())));
    this.leaseTimer.unref();
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    this.heard = true;
    if (this.closing) return;
    if (!isBinary) return this.drop('invalid', 'publishers send binary messages only, one frame envelope each');
    const verdict = checkPublishedFrame(data, this.opts.maxEnvelopeBytes);
    if (!verdict.ok) return this.drop(verdict.reason, verdict.problem);
    if (!this.rate.take()) return this.drop('rate', `over ${this.opts.maxFps} frames a second`);
    if (!this.opts.bus.isReady()) return this.drop('bus_down', 'the frame bus (Redis) is down; frames resume when it is back');
    // The sequence is written when the frame goes out (pump): a superseded frame takes no number,
    // so viewers see consecutive numbers for everything published.
    const envelope = republish(verdict.header, verdict.payload, 0, nowMicros());
    if (this.waiting) this.drop('superseded', 'a newer frame replaced it while the previous one was being published');
    this.waiting = envelope;
    this.pump();
  }

  private pump(): void {
    if (this.inFlight || !this.waiting) return;
    const envelope = this.waiting;
    this.waiting = null;
    this.inFlight = true;
    envelope.writeUInt32BE(this.sequence, ENVELOPE_SEQUENCE_OFFSET);
    this.sequence = (this.sequence + 1) >>> 0;
    this.opts.bus.publish(this.room, envelope, this.opts.lastFrameTtlMs).then(
      () => {
        this.published++;
        this.opts.metrics.publishFrames.inc({ result: 'published' });
      },
      (err: Error) => this.drop('bus_down', `the frame bus refused it: ${err.message}`),
    ).finally(() => {
      this.inFlight = false;
      if (!this.gone) this.pump();
    });
  }

  private drop(reason: PublishDropReason, problem: string): void {
    this.opts.metrics.publishFrames.inc({ result: reason });
    if (this.gone) return;
    this.dropped[reason] = (this.dropped[reason] ?? 0) + 1;
    this.lastProblem = problem;
    const wait = this.lastNoteAt + NOTE_INTERVAL_MS - Date.now();
    if (wait <= 0) this.sendNote();
    else this.noteTimer ??= setTimeout(() => this.sendNote(), wait).unref();
  }

  /** One note for every drop since the last: how many, by reason, and why the newest was dropped. */
  private sendNote(): void {
    this.noteTimer = null;
    const counts = this.dropped;
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    if (total === 0 || this.closing || this.opts.ws.readyState !== this.opts.ws.OPEN) return;
    this.dropped = {};
    this.lastNoteAt = Date.now();
    this.opts.ws.send(rejectedMessage(`dropped ${total} frame${total === 1 ? '' : 's'}: ${this.lastProblem}`, counts));
  }

  /** Closes the publisher with a row of the close table: the error message, then the close frame. */
  close(error: ErrorName, message?: string): void {
    if (this.closing) return;
    this.closing = true;
    this.stopTimers();
    this.waiting = null;
    const { ws, logger } = this.opts;
    logger.info({ publisher: this.id, room: this.room, error, published: this.published }, 'closing publisher');
    if (ws.readyState === ws.OPEN) ws.send(errorMessage(error, message));
    ws.close(CLOSES[error].code, CLOSES[error].reason);
    setTimeout(() => ws.terminate(), CLOSE_HANDSHAKE_MS).unref();
  }

  /** Resolves once the socket has closed (at once if it has). */
  closed(): Promise<void> {
    const { ws } = this.opts;
    return ws.readyState === ws.CLOSED ? Promise.resolve() : new Promise((r) => ws.once('close', () => r()));
  }

  terminate(): void {
    this.opts.ws.terminate();
  }

  private onClosed(code: number): void {
    if (this.gone) return;
    this.gone = true;
    this.closing = true;
    this.stopTimers();
    this.waiting = null;
    this.opts.logger.info({ publisher: this.id, room: this.room, code, published: this.published, seconds: Math.round((Date.now() - this.since) / 1000) }, 'publisher left');
    this.opts.onGone(this);
  }

  private stopTimers(): void {
    clearInterval(this.pingTimer);
    if (this.leaseTimer) clearTimeout(this.leaseTimer);
    if (this.noteTimer) clearTimeout(this.noteTimer);
    this.leaseTimer = this.noteTimer = null;
  }
}
