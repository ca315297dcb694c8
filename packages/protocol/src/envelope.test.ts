import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  Codec,
  ENVELOPE_HEADER_V1_BYTES,
  EnvelopeError,
  decodeEnvelope,
  encodeEnvelope,
  readHeader,
  type FrameInit,
} from './envelope.ts';

const frameInit = fc.record({
  sequence: fc.nat({ max: 0xffffffff }),
  captureTimeUs: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  width: fc.integer({ min: 0, max: 0xffff }),
  height: fc.integer({ min: 0, max: 0xffff }),
  flags: fc.integer({ min: 0, max: 0xffff }),
});

function decodeError(buf: Uint8Array, max?: number): EnvelopeError {
  const r = readHeader(buf, max);
  if (!(r instanceof EnvelopeError)) throw new Error('expected an EnvelopeError');
  return r;
}

describe('frame envelope v1', () => {
  it('round-trips every header field and the payload bytes', () => {
    fc.assert(
      fc.property(frameInit, fc.uint8Array({ maxLength: 2048 }), (init: FrameInit, payload) => {
        const env = encodeEnvelope(init, payload);
        const { header, payload: out } = decodeEnvelope(env);
        expect(header).toEqual({ ...init, version: 1, codec: Codec.Jpeg, headerLength: 32, payloadLength: payload.length });
        expect(Buffer.from(out).equals(Buffer.from(payload))).toBe(true);
        // The payload is a view into the envelope, not a copy.
        expect(out.buffer).toBe(env.buffer);
      }),
    );
  });

  it('never throws or reads out of bounds on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        const r = readHeader(bytes);
        if (!(r instanceof EnvelopeError)) {
          expect(r.headerLength + r.payloadLength).toBe(bytes.length);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('never accepts random bytes behind a valid magic and version unless the lengths agree', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), (tail) => {
        const bytes = Buffer.concat([Buffer.from('FCST'), Buffer.from([1]), Buffer.from(tail)]);
        const r = readHeader(bytes);
        if (!(r instanceof EnvelopeError)) {
          expect(r.headerLength).toBeGreaterThanOrEqual(ENVELOPE_HEADER_V1_BYTES);
          expect(r.headerLength + r.payloadLength).toBe(bytes.length);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('rejects every truncation of a valid envelope as truncated', () => {
    const env = encodeEnvelope({ sequence: 7, captureTimeUs: 1, width: 2, height: 3 }, Buffer.alloc(100, 0xab));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: env.length - 1 }), (n) => {
        const code = decodeError(env.subarray(0, n)).code;
        expect(code).toBe('truncated');
      }),
    );
  });

  it('names what is wrong', () => {
    const good = encodeEnvelope({ sequence: 1, captureTimeUs: 1, width: 1, height: 1 }, Buffer.alloc(10));
    const badMagic = Buffer.from(good);
    badMagic[0] = 0;
    expect(decodeError(badMagic).code).toBe('bad_magic');
    const v2 = Buffer.from(good);
    v2[4] = 2;
    expect(decodeError(v2).code).toBe('unsupported_version');
    const codec = Buffer.from(good);
    codec[5] = 9;
    expect(decodeError(codec).code).toBe('unknown_codec');
    const shortHeader = Buffer.from(good);
    shortHeader.writeUInt16BE(8, 8);
    expect(decodeError(shortHeader).code).toBe('bad_header_length');
    expect(decodeError(Buffer.concat([good, Buffer.alloc(1)])).code).toBe('length_mismatch');
    expect(decodeError(good, 20).code).toBe('oversized');
    expect(() => decodeEnvelope(badMagic)).toThrow(EnvelopeError);
  });

  it('lets a later version append header fields that v1 readers skip', () => {
    const payload = Buffer.from([0xff, 0xd8, 0xff, 0xd9]);
    const longer = Buffer.alloc(40 + payload.length);
    encodeEnvelope({ sequence: 5, captureTimeUs: 9, width: 4, height: 4 }, Buffer.alloc(0)).copy(longer);
    longer.writeUInt16BE(40, 8);
    longer.writeUInt32BE(payload.length, 28);
    payload.copy(longer, 40);
    const { header, payload: out } = decodeEnvelope(longer);
    expect(header.headerLength).toBe(40);
    expect(Buffer.from(out)).toEqual(payload);
  });
});
