// The framecast wire format for browsers: frame envelope decoding and encoding (the publish page),
// the close-code table and the reconnect rule, as one plain ES module with no dependencies (browsers cannot run the .ts files).
// It mirrors packages/protocol/src (envelope.ts, close-codes.ts, control.ts) and README.md;
// src/browser-module.test.ts holds it to the TypeScript implementation, so the two cannot drift.
// The gateway serves it as /protocol.js; its viewer page imports it.

export const ENVELOPE_MAGIC = 0x46435354; // "FCST"
export const ENVELOPE_VERSION = 1;
export const ENVELOPE_HEADER_V1_BYTES = 32;
export const ENVELOPE_MAX_BYTES = 16 * 1024 * 1024;
export const CODEC_JPEG = 1;

export const VIEWER_SUBPROTOCOL = 'framecast.v1';
export const TOKEN_SUBPROTOCOL_PREFIX = 'framecast.token.';

export const CloseCode = Object.freeze({
  Normal: 1000,
  GoingAway: 1001,
  MessageTooBig: 1009,
  ServiceRestart: 1012,
  TryAgainLater: 1013,
  InvalidRoom: 4400,
  BadRequest: 4400,
  Unauthorized: 4401,
  Forbidden: 4403,
  RoomBusy: 4409,
  NotResponding: 4504,
  Stalled: 4508,
});

/** Every way the gateway refuses or closes a viewer, keyed by the `error` of the control message before the close. */
export const CLOSES = Object.freeze({
  invalid_room: Object.freeze({ code: 4400, reason: 'invalid room name', reconnect: false }),
  bad_request: Object.freeze({ code: 4400, reason: 'bad request: a query parameter is out of range', reconnect: false }),
  unauthorized: Object.freeze({ code: 4401, reason: 'a valid viewer token is required', reconnect: false }),
  token_expired: Object.freeze({ code: 4401, reason: 'viewer token expired', reconnect: false }),
  room_private: Object.freeze({ code: 4401, reason: 'this room is private: a viewer token is required', reconnect: false }),
  forbidden: Object.freeze({ code: 4403, reason: 'this token does not open this room', reconnect: false }),
  origin_forbidden: Object.freeze({ code: 4403, reason: 'websocket connections from this origin are not allowed', reconnect: false }),
  message_too_big: Object.freeze({ code: 1009, reason: 'message too big', reconnect: false }),
  publish_unauthorized: Object.freeze({ code: 4401, reason: 'a valid publish token for this room is required', reconnect: false }),
  publish_token_expired: Object.freeze({ code: 4401, reason: 'publish token expired', reconnect: false }),
  room_busy: Object.freeze({ code: 4409, reason: 'another publisher is live in this room', reconnect: false }),
  stalled: Object.freeze({ code: 4508, reason: 'viewer stalled: not reading frames', reconnect: true }),
  not_responding: Object.freeze({ code: 4504, reason: 'viewer not answering pings', reconnect: true }),
  shutting_down: Object.freeze({ code: 1012, reason: 'gateway restarting, reconnect', reconnect: true }),
  overloaded: Object.freeze({ code: 1013, reason: 'gateway at its viewer limit, try again later', reconnect: true }),
  not_ready: Object.freeze({ code: 1013, reason: 'room access cannot be checked yet, try again', reconnect: true }),
});

/** Whether a client seeing this close code should reconnect (with backoff). 4000–4499: never; 4500–4999: always. */
export function shouldReconnect(code) {
  if (code >= 4000 && code < 4500) return false;
  if (code >= 4500 && code < 5000) return true;
  return code !== CloseCode.Normal && code !== CloseCode.MessageTooBig;
}

export class EnvelopeError extends Error {
  /** @param {string} code one of the README's decoding error codes */
  constructor(code, message) {
    super(message);
    this.name = 'EnvelopeError';
    this.code = code;
  }
}

const TWO_POW_32 = 0x1_0000_0000;

/** Bytes of an ArrayBuffer or a view, as a Uint8Array over the same memory (no copy). */
function bytesOf(buf) {
  return buf instanceof Uint8Array ? buf : ArrayBuffer.isView(buf) ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) : new Uint8Array(buf);
}

/** Reads and checks the header of an envelope (ArrayBuffer or view); returns the header or an EnvelopeError. */
export function readHeader(buf, maxBytes = ENVELOPE_MAX_BYTES) {
  const bytes = bytesOf(buf);
  if (bytes.byteLength > maxBytes) {
    return new EnvelopeError('oversized', `envelope of ${bytes.byteLength} bytes exceeds the limit of ${maxBytes}`);
  }
  if (bytes.byteLength < 10) {
    return new EnvelopeError('truncated', `envelope of ${bytes.byteLength} bytes is shorter than any header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0) !== ENVELOPE_MAGIC) return new EnvelopeError('bad_magic', 'not a framecast envelope (bad magic)');
  const version = view.getUint8(4);
  if (version !== ENVELOPE_VERSION) {
    return new EnvelopeError('unsupported_version', `envelope version ${version} is not supported (expected ${ENVELOPE_VERSION})`);
  }
  const headerLength = view.getUint16(8);
  if (headerLength < ENVELOPE_HEADER_V1_BYTES) {
    return new EnvelopeError('bad_header_length', `header length ${headerLength} is below ${ENVELOPE_HEADER_V1_BYTES}`);
  }
  if (bytes.byteLength < headerLength) {
    return new EnvelopeError('truncated', `envelope of ${bytes.byteLength} bytes is shorter than its ${headerLength}-byte header`);
  }
  const codec = view.getUint8(5);
  if (codec !== CODEC_JPEG) return new EnvelopeError('unknown_codec', `codec ${codec} is not known`);
  const payloadLength = view.getUint32(28);
  const actual = bytes.byteLength - headerLength;
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

/**
 * An envelope around `payload` (the JPEG bytes, an ArrayBuffer or a view): `init` is
 * `{ sequence, captureTimeUs, width, height, codec?, flags? }`, as encodeEnvelope in envelope.ts.
 * Returns a Uint8Array of exactly the envelope, ready for WebSocket.send.
 */
export function encodeEnvelope(init, payload) {
  const body = bytesOf(payload);
  const out = new Uint8Array(ENVELOPE_HEADER_V1_BYTES + body.byteLength);
  const view = new DataView(out.buffer, 0, ENVELOPE_HEADER_V1_BYTES);
  view.setUint32(0, ENVELOPE_MAGIC);
  view.setUint8(4, ENVELOPE_VERSION);
  view.setUint8(5, init.codec ?? CODEC_JPEG);
  view.setUint16(6, init.flags ?? 0);
  view.setUint16(8, ENVELOPE_HEADER_V1_BYTES);
  view.setUint16(10, 0);
  view.setUint32(12, init.sequence >>> 0);
  const t = Math.max(0, Math.floor(init.captureTimeUs));
  view.setUint32(16, Math.floor(t / TWO_POW_32));
  view.setUint32(20, t % TWO_POW_32);
  view.setUint16(24, init.width);
  view.setUint16(26, init.height);
  view.setUint32(28, body.byteLength);
  out.set(body, ENVELOPE_HEADER_V1_BYTES);
  return out;
}

/** Header and payload (a Uint8Array view into the input, no copy); throws EnvelopeError on anything malformed. */
export function decodeEnvelope(buf, maxBytes = ENVELOPE_MAX_BYTES) {
  const header = readHeader(buf, maxBytes);
  if (header instanceof EnvelopeError) throw header;
  const bytes = bytesOf(buf);
  return { header, payload: bytes.subarray(header.headerLength, header.headerLength + header.payloadLength) };
}
