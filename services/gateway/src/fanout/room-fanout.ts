import type { FrameHeader } from '@framecast/protocol';
import { mjpegPart } from './mjpeg-part.ts';
import { frameBinaryMessage, wsHeaderLength } from './ws-frame.ts';
import type { Viewer } from './viewer.ts';

/** A frame as the gateway keeps and sends it: the published envelope, framed once for websockets. */
export interface KeptFrame {
  header: FrameHeader;
  /** The websocket message (header + the exact published envelope bytes). */
  wire: Buffer;
  envelopeBytes: number;
  /** Gateway clock (ms) when the frame arrived, for the first-frame age check. */
  receivedAt: number;
  /** The frame as one MJPEG part, built on first use (a room with no MJPEG viewer never builds it). */
  mjpeg: Buffer | null;
}

export function keepFrame(header: FrameHeader, envelope: Buffer): KeptFrame {
  return { header, wire: frameBinaryMessage(envelope), envelopeBytes: envelope.byteLength, receivedAt: Date.now(), mjpeg: null };
}

/** The frame's image (the envelope's payload: a JPEG), a view into the kept bytes. */
export function imageOf(frame: KeptFrame): Buffer {
  return frame.wire.subarray(wsHeaderLength(frame.envelopeBytes) + frame.header.headerLength);
}

/** The bytes `viewer` is sent for `frame`: the websocket message, or the MJPEG part. */
function bytesFor(viewer: Viewer, frame: KeptFrame): Buffer {
  return viewer.mjpeg ? (frame.mjpeg ??= mjpegPart(imageOf(frame), frame.header)) : frame.wire;
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
 * one pass over the viewers, one socket write of shared bytes per viewer that keeps up, nothing
 * allocated per viewer.
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

  /** True if `header` is the frame already kept (the same frame seen via pub/sub and the store). */
  isDuplicate(header: FrameHeader): boolean {
    const l = this.latest?.header;
    return l !== undefined && l.sequence === header.sequence && l.captureTimeUs === header.captureTimeUs;
  }

  deliver(frame: KeptFrame): DeliveryResult {
    this.latest = frame;
    const { maxBufferedBytes, stallTimeoutMs } = this.limits;
    const size = frame.wire.byteLength;
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
      v.socket.write(bytesFor(v, frame));
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
    viewer.socket.write(bytesFor(viewer, l));
    return true;
  }
}
