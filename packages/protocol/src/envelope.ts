/**
 * Frame envelope v1: a fixed big-endian header followed by the codec payload (a JPEG).
 *
 *   off size field
 *   0   4    magic "FCST" (0x46 0x43 0x53 0x54)
 *   4   1    version (1)
 *   5   1    codec (1 = JPEG)
 *   6   2    flags (bit field, unknown bits ignored)
 *   8   2    header length in bytes (>= 32; later versions append fields, readers skip them)
 *   10  2    reserved, 0
 *   12  4    sequence number (uint32, wraps)
 *   16  8    capture time, microseconds since the Unix epoch (uint64)
 *   24  2    width in pixels
 *   26  2    height in pixels
 *   28  4    payload length in bytes
 *   32  ...  payload
 *
 * Decoding reads the header only; the payload is a view into the same buffer, never a copy.
 */

export const ENVELOPE_MAGIC = 0x46435354; // "FCST"
export const ENVELOPE_VERSION = 1;
export const ENVELOPE_HEADER_V1_BYTES = 32;
/** Upper bound any decoder accepts; services set a lower one from their config. */
export const ENVELOPE_MAX_BYTES = 16 * 1024 * 1024;

/** Payload codecs (byte 5). A const object rather than an enum: Node runs this file as is. */
export const Codec = {
  Jpeg: 1,
} as const;
export type Codec = (typeof Codec)[keyof typeof Codec];

export const FrameFlags = {
  /** The frame was synthesised (test pattern), not captured from a camera. */
  Synthetic: 1 << 0,
} as const;

export interface FrameHeader {
  version: number;
  codec: Codec;
  flags: number;
  headerLength: number;
  sequence: number;
  /** Microseconds since the Unix epoch; exact up to year 2255 as a double. */
  captureTimeUs: number;
  width: number;
  height: number;
  payloadLength: number;
}

export interface FrameInit {
  codec?: Codec;
  flags?: number;
  sequence: number;
  captureTimeUs: number;
  width: number;
  height: number;
}

/** Why bytes are not a valid envelope; also the `reason` label of the gateway's invalid-frames metric. */
export const ENVELOPE_ERROR_CODES = ['truncated', 'oversized', 'bad_magic', 'unsupported_version', 'bad_header_length', 'length_mismatch', 'unknown_codec'] as const;

export type EnvelopeErrorCode = (typeof ENVELOPE_ERROR_CODES)[number];

export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';
  readonly code: EnvelopeErrorCode;

  constructor(code: EnvelopeErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

const TWO_POW_32 = 0x1_0000_0000;

/** Writes the v1 header into `target` at `offset`; returns the header length. */
export function writeHeader(target: Uint8Array, offset: number, init: FrameInit, payloadLength: number): number {
  const view = new DataView(target.buffer, target.byteOffset + offset, ENVELOPE_HEADER_V1_BYTES);
  view.setUint32(0, ENVELOPE_MAGIC);
  view.setUint8(4, ENVELOPE_VERSION);
  view.setUint8(5, init.codec ?? Codec.Jpeg);
  view.setUint16(6, init.flags ?? 0);
  view.setUint16(8, ENVELOPE_HEADER_V1_BYTES);
  view.setUint16(10, 0);
  view.setUint32(12, init.sequence >>> 0);
  const t = Math.max(0, Math.floor(init.captureTimeUs));
  view.setUint32(16, Math.floor(t / TWO_POW_32));
  view.setUint32(20, t % TWO_POW_32);
  view.setUint16(24, init.width);
  view.setUint16(26, init.height);
  view.setUint32(28, payloadLength);
  return ENVELOPE_HEADER_V1_BYTES;
}

/**
 * Builds an envelope around `payload` with exactly one allocation: the returned Buffer.
 * Callers that already own a buffer with room for the header use `writeHeader` instead.
 */
export function encodeEnvelope(init: FrameInit, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(ENVELOPE_HEADER_V1_BYTES + payload.byteLength);
  writeHeader(out, 0, init, payload.byteLength);
  out.set(payload, ENVELOPE_HEADER_V1_BYTES);
  return out;
}

/**
 * Reads and checks the header. Returns an EnvelopeError instead of throwing so the gateway's
 * per-frame path pays nothing for exceptions when a publisher misbehaves.
 */
export function readHeader(buf: Uint8Array, maxBytes: number = ENVELOPE_MAX_BYTES): FrameHeader | EnvelopeError {
  if (buf.byteLength > maxBytes) {
    return new EnvelopeError('oversized', `envelope of ${buf.byteLength} bytes exceeds the limit of ${maxBytes}`);
  }
  if (buf.byteLength < 10) {
    return new EnvelopeError('truncated', `envelope of ${buf.byteLength} bytes is shorter than any header`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (view.getUint32(0) !== ENVELOPE_MAGIC) return new EnvelopeError('bad_magic', 'not a framecast envelope (bad magic)');
  const version = view.getUint8(4);
  if (version !== ENVELOPE_VERSION) {
    return new EnvelopeError('unsupported_version', `envelope version ${version} is not supported (expected ${ENVELOPE_VERSION})`);
  }
  const headerLength = view.getUint16(8);
  if (headerLength < ENVELOPE_HEADER_V1_BYTES) {
    return new EnvelopeError('bad_header_length', `header length ${headerLength} is below ${ENVELOPE_HEADER_V1_BYTES}`);
  }
  if (buf.byteLength < headerLength) {
    return new EnvelopeError('truncated', `envelope of ${buf.byteLength} bytes is shorter than its ${headerLength}-byte header`);
  }
  const codec = view.getUint8(5);
  if (codec !== Codec.Jpeg) return new EnvelopeError('unknown_codec', `codec ${codec} is not known`);
  const payloadLength = view.getUint32(28);
  const actual = buf.byteLength - headerLength;
  if (payloadLength !== actual) {
    return new EnvelopeError(
      payloadLength > actual ? 'truncated' : 'length_mismatch',
      `header announces ${payloadLength} payload bytes, envelope carries ${actual}`,
    );
  }
  return {
    version,
    codec,
    flags: view.getUint16(6),
    headerLength,
    sequence: view.getUint32(12),
    captureTimeUs: view.getUint32(16) * TWO_POW_32 + view.getUint32(20),
    width: view.getUint16(24),
    height: view.getUint16(26),
    payloadLength,
  };
}

export interface DecodedEnvelope {
  header: FrameHeader;
  /** A view into the envelope's bytes (no copy). */
  payload: Uint8Array;
}

/** Header and payload view; throws EnvelopeError on anything malformed. */
export function decodeEnvelope(buf: Uint8Array, maxBytes: number = ENVELOPE_MAX_BYTES): DecodedEnvelope {
  const header = readHeader(buf, maxBytes);
  if (header instanceof EnvelopeError) throw header;
  return { header, payload: buf.subarray(header.headerLength, header.headerLength + header.payloadLength) };
}

/** Microseconds since the Unix epoch, with sub-millisecond resolution. */
export function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}
