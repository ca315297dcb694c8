import type { FrameHeader } from '@framecast/protocol';
import { mjpegPart } from './mjpeg-part.ts';
import { wsBinaryHeader } from './ws-frame.ts';
import type { Viewer } from './viewer.ts';

/**
 * Rooms with at most this many websocket viewers get each frame as two writes (the 2–10-byte
 * websocket header, then the envelope exactly as Redis delivered it) in one corked writev per
 * viewer: nothing is copied or allocated per frame beyond the header. Busier rooms get one joined
 * message, built once per frame and shared, because one write per viewer costs less than two once
 * enough viewers share the copy. The camera shape (many rooms, a viewer or two each) paid a 30 KB
 * copy and its garbage per Redis message for every frame (issue 13).
 */
export const SPLIT_WRITE_MAX_VIEWERS = 4;

/** A frame as the gateway keeps and sends it: the published envelope, and its websocket header. */
export interface KeptFrame {
  header: FrameHeader;
  /** The envelope exactly as the bus delivered it (never copied). */
  envelope: Buffer;
  /** The websocket frame header for a binary message of the envelope's length. */
  wsHeader: Buffer;
  /** wsHeader + envelope in one buffer, built on first use by a busy room (see SPLIT_WRITE_MAX_VIEWERS). */
  wire: Buffer | null;
  envelopeBytes: number;
  /** Gateway clock (ms) when the frame arrived, for the first-frame age check. */
  receivedAt: number;
  /** The frame as one MJPEG part, built on first use (a room with no MJPEG viewer never builds it). */
  mjpeg: Buffer | null;
}

export function keepFrame(header: FrameHeader, envelope: Buffer, receivedAt = Date.now()): KeptFrame {
  return { header, envelope, wsHeader: wsBinaryHeader(envelope.byteLength), wire: null, envelopeBytes: envelope.byteLength, receivedAt, mjpeg: null };
}

/** The whole websocket message of a frame, built once and then shared. */
export function wireOf(frame: KeptFrame): Buffer {
  return (frame.wire ??= Buffer.concat([frame.wsHeader, frame.envelope]));
}

/** Bytes a websocket viewer is sent for the frame. */
export function wireBytes(frame: KeptFrame): number {
  return frame.wsHeader.byteLength + frame.envelopeBytes;
}

/** The frame's image (the envelope's payload: a JPEG), a view into the kept bytes. */
export function imageOf(frame: KeptFrame): Buffer {
  return frame.envelope.subarray(frame.header.headerLength, frame.header.headerLength + frame.header.payloadLength);
}

/** Writes `frame` to one viewer: the MJPEG part, the shared joined message, or header and envelope in one writev. */
function writeTo(viewer: Viewer, frame: KeptFrame, joined: boolean): void {
  const socket = viewer.socket;
  if (viewer.mjpeg) socket.write((frame.mjpeg ??= mjpegPart(imageOf(frame), frame.header)));
  else if (joined) socket.write(wireOf(frame));
  else {
    socket.cork();
    socket.write(frame.wsHeader);
    socket.write(frame.envelope);
    socket.uncork();
  }
}

/**
 * A frame older than this (gateway clock) no longer judges what comes next: whatever arrives is
 * taken. A publisher that restarted (its sequence from 0) with a clock set back would otherwise
 * freeze its room until its clock caught up; this bounds that freeze.
 */
export const LATE_FRAME_WINDOW_MS = 5000;

/**
 * `same`: the kept frame again (pub/sub and the last-frame store both gave it). `late`: older than
 * the kept frame, by sequence and by capture time both, so a viewer would see video go backwards:
 * a publish that a Redis client sent again after a failover lands after the frames published
 * since. `new`: anything else. Both measures must say older: a publisher's sequence restarts at
 * 0 (a new agent, a new browser publisher) and clocks are stepped, but not both at once.
 */
export type FrameOrder = 'new' | 'same' | 'late';

export function frameOrder(header: FrameHeader, kept: FrameHeader, keptAgeMs: number): FrameOrder {
  if (header.sequence === kept.sequence && header.captureTimeUs === kept.captureTimeUs) return 'same';
  if (keptAgeMs > LATE_FRAME_WINDOW_MS) return 'new';
  // Serial-number arithmetic (RFC 1982): the sequence is a wrapping uint32.
  const ahead = (header.sequence - kept.sequence) >>> 0;
  const sequenceBehind = ahead === 0 || ahead >= 0x8000_0000;
  return sequenceBehind && header.captureTimeUs <= kept.captureTimeUs ? 'late' : 'new';
}

export interface DeliveryResult {
  sent: number;
  /** Not sent: the viewer's socket held more than the byte bound (backpressure). */
  skipped: number;
  /** Not sent: the viewer's frame-rate cap (it gets a newer frame at its next slot). */
  thinned: number;
}

export interface FanoutLimits {
  maxBufferedBytes: number;
  stallTimeoutMs: number;
}

/**
 * The viewers of one room on this gateway and the room's latest frame. `deliver` is the hot path:
 * one pass over the viewers, one socket write (or one corked writev) of shared bytes per viewer
 * that keeps up, nothing allocated per viewer.
 */
export class RoomFanout {
  readonly viewers = new Set<Viewer>();
  latest: KeptFrame | null = null;
  lingerTimer: NodeJS.Timeout | null = null;

  readonly room: string;
  private readonly limits: FanoutLimits;
  private readonly onStalled: (viewer: Viewer) => void;

  constructor(room: string, limits: FanoutLimits, onStalled: (viewer: Viewer) => void) {
    this.room = room;
    this.limits = limits;
    this.onStalled = onStalled;
  }

  /** How `header` compares with the frame the room already has: see `frameOrder`. */
  orderOf(header: FrameHeader, nowMs: number): FrameOrder {
    const l = this.latest;
    return l === null ? 'new' : frameOrder(header, l.header, nowMs - l.receivedAt);
  }

  deliver(frame: KeptFrame): DeliveryResult {
    this.latest = frame;
    const { maxBufferedBytes, stallTimeoutMs } = this.limits;
    const size = wireBytes(frame);
    const joined = this.viewers.size > SPLIT_WRITE_MAX_VIEWERS;
    const now = frame.receivedAt;
    const captureMs = frame.header.captureTimeUs / 1000;
    let sent = 0;
    let skipped = 0;
    let thinned = 0;
    for (const v of this.viewers) {
      if (v.closing) continue;
      if (v.frameIntervalMs !== 0 && !v.takeSlot(captureMs)) {
        thinned++;
        continue;
      }
      const buffered = v.socket.writableLength;
      // Latest frame wins: a viewer whose socket still holds bytes past the bound skips this
      // frame. An empty socket always takes one frame, however large.
      if (buffered > 0 && buffered + size > maxBufferedBytes) {
        skipped++;
        v.framesSkipped++;
        if (v.stalledSince === 0) v.stalledSince = now;
        else if (now - v.stalledSince >= stallTimeoutMs) this.onStalled(v);
        continue;
      }
      v.stalledSince = 0;
      v.framesSent++;
      writeTo(v, frame, joined);
      sent++;
    }
    return { sent, skipped, thinned };
  }

  /** Sends the kept frame to one (new) viewer, if there is one fresh enough. */
  sendLatestTo(viewer: Viewer, maxAgeMs: number): boolean {
    const l = this.latest;
    const now = Date.now();
    if (!l || viewer.closing || now - l.receivedAt > maxAgeMs) return false;
    if (viewer.frameIntervalMs !== 0) viewer.takeSlot(l.header.captureTimeUs / 1000);
    viewer.framesSent++;
    writeTo(viewer, l, false);
    return true;
  }
}
