import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as browser from '../browser/viewer-protocol.js';
import { CLOSES, CloseCode, shouldReconnect } from './close-codes.ts';
import { TOKEN_SUBPROTOCOL_PREFIX, VIEWER_SUBPROTOCOL } from './control.ts';
import {
  ENVELOPE_HEADER_V1_BYTES,
  ENVELOPE_MAGIC,
  ENVELOPE_MAX_BYTES,
  ENVELOPE_VERSION,
  Codec,
  EnvelopeError,
  decodeEnvelope,
  encodeEnvelope,
  readHeader,
} from './envelope.ts';

// browser/viewer-protocol.js is the browser's copy of this package (browsers cannot run the .ts
// files). These tests hold it to the TypeScript implementation, so the two cannot drift apart.

const frameInit = fc.record({
  sequence: fc.nat({ max: 0xffffffff }),
  captureTimeUs: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  width: fc.integer({ min: 0, max: 0xffff }),
  height: fc.integer({ min: 0, max: 0xffff }),
  flags: fc.integer({ min: 0, max: 0xffff }),
});

/** What a decoder says about an input: the header and payload bytes, or the error code. */
function verdictTs(buf: Uint8Array, max?: number) {
  const h = readHeader(buf, max);
  if (h instanceof EnvelopeError) return { error: h.code };
  const { header, payload } = decodeEnvelope(buf, max);
  return { header, payload: Buffer.from(payload).toString('hex') };
}

function verdictJs(buf: ArrayBuffer | Uint8Array, max?: number) {
  const h = browser.readHeader(buf, max);
  if (h instanceof browser.EnvelopeError) {
    expect(() => browser.decodeEnvelope(buf, max)).toThrow(browser.EnvelopeError);
    return { error: h.code };
  }
  const { header, payload } = browser.decodeEnvelope(buf, max);
  expect(header).toEqual(h);
  return { header, payload: Buffer.from(payload).toString('hex') };
}

/** The envelope's bytes as the browser gets them: an ArrayBuffer of exactly that length. */
function arrayBufferOf(buf: Uint8Array): ArrayBuffer {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

function agree(buf: Uint8Array, max?: number) {
  const want = verdictTs(buf, max);
  expect(verdictJs(arrayBufferOf(buf), max)).toEqual(want);
  expect(verdictJs(buf, max)).toEqual(want);
  return want;
}

describe('browser/viewer-protocol.js against the TypeScript implementation', () => {
  it('has the same close table, close codes and subprotocol names', () => {
    expect(browser.CLOSES).toEqual(CLOSES);
    expect(browser.CloseCode).toEqual(CloseCode);
    expect(browser.VIEWER_SUBPROTOCOL).toBe(VIEWER_SUBPROTOCOL);
    expect(browser.TOKEN_SUBPROTOCOL_PREFIX).toBe(TOKEN_SUBPROTOCOL_PREFIX);
    expect([browser.ENVELOPE_MAGIC, browser.ENVELOPE_VERSION, browser.ENVELOPE_HEADER_V1_BYTES, browser.ENVELOPE_MAX_BYTES, browser.CODEC_JPEG]).toEqual([
      ENVELOPE_MAGIC,
      ENVELOPE_VERSION,
      ENVELOPE_HEADER_V1_BYTES,
      ENVELOPE_MAX_BYTES,
      Codec.Jpeg,
    ]);
  });

  it('gives the same reconnect advice for every close code 1000–4999', () => {
    for (let code = 1000; code < 5000; code++) expect(browser.shouldReconnect(code), String(code)).toBe(shouldReconnect(code));
  });

  it('decodes every well-formed envelope to the same header and payload', () => {
    fc.assert(
      fc.property(frameInit, fc.uint8Array({ maxLength: 2048 }), (init, payload) => {
        const env = encodeEnvelope(init, payload);
        expect(agree(env)).not.toHaveProperty('error');
        // At an offset inside a larger buffer, as Node hands out pooled Buffers.
        const padded = new Uint8Array(env.byteLength + 16);
        padded.set(env, 7);
        expect(agree(padded.subarray(7, 7 + env.byteLength))).not.toHaveProperty('error');
      }),
    );
  });

  it('decodes a longer header (a later version appending fields) the same way', () => {
    fc.assert(
      fc.property(frameInit, fc.integer({ min: 33, max: 200 }), fc.uint8Array({ maxLength: 256 }), (init, headerLength, payload) => {
        const base = encodeEnvelope(init, payload);
        const env = new Uint8Array(headerLength + payload.byteLength);
        env.set(base.subarray(0, ENVELOPE_HEADER_V1_BYTES));
        new DataView(env.buffer).setUint16(8, headerLength);
        env.set(payload, headerLength);
        expect(agree(env)).not.toHaveProperty('error');
      }),
    );
  });

  it('rejects the same malformed inputs with the same error code', () => {
    const mutation = fc.record({
      init: frameInit,
      payload: fc.uint8Array({ maxLength: 128 }),
      // Overwrite one header byte, cut or extend the envelope, or lower the size limit.
      at: fc.nat({ max: ENVELOPE_HEADER_V1_BYTES - 1 }),
      byte: fc.nat({ max: 255 }),
      cut: fc.integer({ min: -200, max: 8 }),
      max: fc.option(fc.integer({ min: 0, max: 256 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(mutation, ({ init, payload, at, byte, cut, max }) => {
        const env = new Uint8Array(encodeEnvelope(init, payload));
        env[at] = byte;
        const length = Math.max(0, env.byteLength + cut);
        const input = new Uint8Array(length);
        input.set(env.subarray(0, Math.min(length, env.byteLength)));
        agree(input, max);
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects one input of every kind of malformed envelope with the same error code', () => {
    const good = () => new Uint8Array(encodeEnvelope({ sequence: 7, captureTimeUs: 1_700_000_000_000_000, width: 320, height: 180 }, new Uint8Array(64).fill(9)));
    const set = (write: (v: DataView) => void) => {
      const b = good();
      write(new DataView(b.buffer, b.byteOffset, b.byteLength));
      return b;
    };
    const cases: Array<[string, Uint8Array, number?]> = [
      ['oversized', good(), 64],
      ['truncated', new Uint8Array(9)],
      ['truncated', good().subarray(0, 20)],
      ['truncated', good().subarray(0, 90)],
      ['bad_magic', set((v) => v.setUint8(0, 0x47))],
      ['unsupported_version', set((v) => v.setUint8(4, 2))],
      ['bad_header_length', set((v) => v.setUint16(8, 31))],
      ['truncated', set((v) => v.setUint16(8, 200))],
      ['unknown_codec', set((v) => v.setUint8(5, 2))],
      ['length_mismatch', set((v) => v.setUint32(28, 10))],
      ['truncated', set((v) => v.setUint32(28, 1000))],
    ];
    for (const [code, input, max] of cases) expect(agree(input, max), code).toEqual({ error: code });
  });

  it('encodes every frame to the same bytes as encodeEnvelope (the publish page sends them)', () => {
    const init = fc.record({
      sequence: fc.integer({ min: -1, max: 0x1_0000_0001 }),
      captureTimeUs: fc.oneof(fc.integer({ min: -5, max: Number.MAX_SAFE_INTEGER }), fc.double({ min: 0, max: 2e15, noNaN: true })),
      width: fc.integer({ min: 0, max: 0xffff }),
      height: fc.integer({ min: 0, max: 0xffff }),
      flags: fc.option(fc.integer({ min: 0, max: 0xffff }), { nil: undefined }),
    });
    fc.assert(
      fc.property(init, fc.uint8Array({ maxLength: 2048 }), fc.nat({ max: 9 }), (frame, payload, offset) => {
        const want = encodeEnvelope(frame, payload);
        // The payload as a page has it: an ArrayBuffer (Blob.arrayBuffer()), or a view at an offset.
        const padded = new Uint8Array(payload.byteLength + offset);
        padded.set(payload, offset);
        const got = browser.encodeEnvelope(frame, arrayBufferOf(payload));
        expect(got).toBeInstanceOf(Uint8Array);
        expect(Buffer.from(got).equals(want)).toBe(true);
        expect(Buffer.from(browser.encodeEnvelope(frame, padded.subarray(offset))).equals(want)).toBe(true);
        // And it decodes, on both sides, to what was put in.
        expect(agree(got)).not.toHaveProperty('error');
      }),
    );
  });

  it('agrees on arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => void agree(bytes)));
  });
});
