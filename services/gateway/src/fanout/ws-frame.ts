/**
 * Frames a payload as one unmasked, final, binary websocket message (RFC 6455 §5.2), once per
 * published frame. The same bytes are then written to every viewer's socket: the `ws` library
 * would build a header and issue a write pair per viewer, which dominates fan-out CPU.
 * Server-to-client frames are never masked, and permessage-deflate is off on the server, so the
 * framing is identical for every viewer.
 */
export function frameBinaryMessage(payload: Uint8Array): Buffer {
  return Buffer.concat([wsBinaryHeader(payload.byteLength), payload]);
}

/**
 * The header alone, for writing in front of a payload that stays where it is (a small room writes
 * header and envelope as one writev instead of copying the envelope into a joined message).
 */
export function wsBinaryHeader(len: number): Buffer {
  const headerLength = wsHeaderLength(len);
  const out = Buffer.allocUnsafe(headerLength);
  out[0] = 0x82; // FIN + opcode 2 (binary)
  if (headerLength === 2) {
    out[1] = len;
  } else if (headerLength === 4) {
    out[1] = 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = 127;
    out.writeUInt32BE(Math.floor(len / 0x1_0000_0000), 2);
    out.writeUInt32BE(len >>> 0, 6);
  }
  return out;
}

/** Bytes of the websocket header in front of a payload of `len` bytes (RFC 6455 §5.2). */
export function wsHeaderLength(len: number): number {
  return len < 126 ? 2 : len < 0x10000 ? 4 : 10;
}
