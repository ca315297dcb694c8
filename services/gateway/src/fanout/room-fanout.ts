import type { FrameHeader } from '@framecast/protocol';
import { frameBinaryMessage } from './ws-frame.ts';
import type { Viewer } from './viewer.ts';

/** A frame as the gateway keeps and sends it: the published envelope, framed once for websockets. */
export interface KeptFrame {
  header: FrameHeader;
  /** The websocket message (header + the exact published envelope bytes). */
  wire: Buffer;
  envelopeBytes: number;
  /** Gateway clock (ms) when the frame arrived, for the first-frame age check. */
  receivedAt: number;
}

export function keepFrame(header: FrameHeader, envelope: Buffer): KeptFrame {
  return { header, wire: frameBinaryMessage(envelope), envelopeBytes: envelope.byteLength, receivedAt: Date.now() };
}

export interface DeliveryResult {
  sent: number;
  skipped: number;
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
    const wire = frame.wire;
    const size = wire.byteLength;
    const now = frame.receivedAt;
    let sent = 0;
    let skipped = 0;
    for (const v of this.viewers) {
      if (v.closing) continue;
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
      v.socket.write(wire);
      sent++;
    }
    return { sent, skipped };
  }

  /** Sends the kept frame to one (new) viewer, if there is one fresh enough. */
  sendLatestTo(viewer: Viewer, maxAgeMs: number): boolean {
    const l = this.latest;
    if (!l || viewer.closing || Date.now() - l.receivedAt > maxAgeMs) return false;
    viewer.framesSent++;
    viewer.socket.write(l.wire);
    return true;
  }
}
