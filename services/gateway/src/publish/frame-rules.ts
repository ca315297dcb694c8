import {
  Codec,
  encodeEnvelope,
  EnvelopeError,
  FrameFlags,
  PUBLISH_MAX_CAPTURE_AGE_MS,
  PUBLISH_MAX_DIMENSION,
  readHeader,
  type FrameHeader,
  type PublishDropReason,
} from '@framecast/protocol';
import { checkJpeg } from './jpeg-check.ts';

/**
 * The rules every message from a browser publisher passes before it reaches the bus, as pure
 * functions (the publisher applies them in this order: size, shape, rate). A publisher is a
 * client: nothing it sends is trusted, so the gateway writes the envelope the bus carries itself.
 */

export type FrameVerdict = { ok: true; header: FrameHeader; payload: Uint8Array } | { ok: false; reason: Extract<PublishDropReason, 'invalid' | 'oversized'>; problem: string };

/** Checks one binary message: an envelope within `maxBytes`, codec JPEG, a whole JPEG whose size is the header's, 1–4096 px each way. */
export function checkPublishedFrame(data: Uint8Array, maxBytes: number): FrameVerdict {
  const header = readHeader(data, maxBytes);
  if (header instanceof EnvelopeError) return { ok: false, reason: header.code === 'oversized' ? 'oversized' : 'invalid', problem: header.message };
  if (header.codec !== Codec.Jpeg) return { ok: false, reason: 'invalid', problem: `codec ${header.codec} is not JPEG` };
  const { width, height } = header;
  if (width < 1 || height < 1 || width > PUBLISH_MAX_DIMENSION || height > PUBLISH_MAX_DIMENSION) {
    return { ok: false, reason: 'invalid', problem: `a ${width}x${height} frame is outside 1-${PUBLISH_MAX_DIMENSION} pixels each way` };
  }
  const payload = data.subarray(header.headerLength, header.headerLength + header.payloadLength);
  const jpeg = checkJpeg(payload);
  if (!jpeg.ok) return { ok: false, reason: 'invalid', problem: jpeg.problem };
  if (jpeg.width !== width || jpeg.height !== height) {
    return { ok: false, reason: 'invalid', problem: `the envelope says ${width}x${height}, the JPEG is ${jpeg.width}x${jpeg.height}` };
  }
  return { ok: true, header, payload };
}

/**
 * The capture time the gateway publishes: the publisher's own, unless it is in the future or more
 * than PUBLISH_MAX_CAPTURE_AGE_MS old (a browser's clock may be anything), then the gateway's now.
 */
export function clampCaptureTime(captureTimeUs: number, nowUs: number): number {
  return captureTimeUs > nowUs || captureTimeUs < nowUs - PUBLISH_MAX_CAPTURE_AGE_MS * 1000 ? nowUs : captureTimeUs;
}

/**
 * The envelope the bus gets: the publisher's JPEG under a header the gateway writes (v1, its own
 * sequence, the clamped capture time, known flags only), so viewers see the same header layout
 * and a sequence that only ever counts up, whatever the publisher put in its own.
 */
export function republish(header: FrameHeader, payload: Uint8Array, sequence: number, nowUs: number): Buffer {
  return encodeEnvelope(
    { codec: Codec.Jpeg, flags: header.flags & FrameFlags.Synthetic, sequence, captureTimeUs: clampCaptureTime(header.captureTimeUs, nowUs), width: header.width, height: header.height },
    payload,
  );
}

/**
 * At most `fps` frames a second on average, with a burst of a quarter second's worth (at least 2)
 * so a page whose timer fires late and then early is not punished; a token bucket.
 */
export class PublishRate {
  private readonly perMs: number;
  private readonly burst: number;
  private tokens: number;
  private last: number;

  constructor(fps: number, now: number = performance.now()) {
    this.perMs = fps / 1000;
    this.burst = Math.max(2, Math.ceil(fps / 4));
    this.tokens = this.burst;
    this.last = now;
  }

  /** Whether a frame arriving now may pass (taking its token if so). */
  take(now: number = performance.now()): boolean {
    this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * this.perMs);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
