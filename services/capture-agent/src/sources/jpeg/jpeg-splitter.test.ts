import fc from 'fast-check';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENVELOPE_HEADER_V1_BYTES } from '@framecast/protocol';
import { JpegStreamSplitter } from './jpeg-splitter.ts';

/** Real JPEGs from libvips: different sizes and content so frames are told apart. */
async function makeJpegs(): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const [w, h, q] of [
    [64, 48, 80],
    [160, 90, 90],
    [32, 32, 50],
    [320, 180, 75],
  ] as const) {
    const raw = Buffer.alloc(w * h * 3);
    for (let i = 0; i < raw.length; i++) raw[i] = (i * 7 + w * 13 + ((i / 3) | 0) * q) & 0xff;
    out.push(await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: q, mozjpeg: false }).toBuffer());
  }
  return out;
}

/** Offset just past the SOS segment header: where entropy-coded data begins. */
function entropyStart(jpeg: Buffer): number {
  let pos = 2;
  for (;;) {
    const marker = jpeg[pos + 1]!;
    const len = jpeg.readUInt16BE(pos + 2);
    pos += 2 + len;
    if (marker === 0xda) return pos;
  }
}

/** Inserts an APP1 segment holding a whole JPEG (as an EXIF thumbnail would) after the SOI. */
function withThumbnail(jpeg: Buffer, thumb: Buffer): Buffer {
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), thumb]);
  const header = Buffer.from([0xff, 0xe1, 0, 0]);
  header.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), header, payload, jpeg.subarray(2)]);
}

function split(stream: Buffer, cuts: number[], maxFrameBytes = 1 << 20) {
  const frames: Buffer[] = [];
  const splitter = new JpegStreamSplitter({ maxFrameBytes, onFrame: (f) => frames.push(Buffer.from(f)) });
  let prev = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    if (cut <= prev || cut >= stream.length) continue;
    splitter.push(stream.subarray(prev, cut));
    prev = cut;
  }
  splitter.push(stream.subarray(prev));
  return { frames, stats: splitter.stats };
}

/** Garbage that cannot contain an SOI (0xFF 0xD8), so it must never start a frame. */
const garbageArb = fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a.map((b) => (b === 0xd8 ? 0xd7 : b))));

/** Byte-exact comparison; far faster than a deep toEqual over Buffers inside property runs. */
function expectFrames(got: Buffer[], want: Buffer[], label = ''): void {
  expect(got.map((b) => b.length), label).toEqual(want.map((b) => b.length));
  got.forEach((b, i) => expect(b.equals(want[i]!), `${label} frame ${i}`).toBe(true));
}

let jpegs: Buffer[] = [];
beforeAll(async () => {
  jpegs = await makeJpegs();
});

describe('JpegStreamSplitter', () => {
  it('returns each frame of a stream fed in one piece', () => {
    const { frames, stats } = split(Buffer.concat(jpegs), []);
    expectFrames(frames, jpegs);
    expect(stats).toMatchObject({ frames: 4, truncated: 0, corrupt: 0, oversized: 0, garbageBytes: 0 });
  });

  it('returns the same frames for any chunking, with garbage between frames', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ frame: fc.nat(jpegs.length - 1), garbage: garbageArb }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (plan, rawCuts) => {
          const parts = plan.flatMap(({ frame, garbage }) => [garbage, jpegs[frame]!]);
          const stream = Buffer.concat(parts);
          const { frames, stats } = split(
            stream,
            rawCuts.map((c) => c % stream.length),
          );
          expectFrames(frames, plan.map(({ frame }) => jpegs[frame]!));
          expect(stats.garbageBytes).toBe(plan.reduce((n, p) => n + p.garbage.length, 0));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('handles one byte at a time', () => {
    const stream = Buffer.concat([Buffer.from([0xff, 0xff, 0x00]), jpegs[0]!, Buffer.from([0xff]), jpegs[1]!]);
    const { frames } = split(
      stream,
      Array.from({ length: stream.length }, (_, i) => i),
    );
    expectFrames(frames, [jpegs[0]!, jpegs[1]!]);
  });

  it('does not end a frame at an FFD9 inside an APP1 segment holding a thumbnail JPEG', () => {
    const big = withThumbnail(jpegs[3]!, jpegs[2]!);
    expect(big.includes(Buffer.from([0xff, 0xd9]))).toBe(true);
    fc.assert(
      fc.property(fc.array(fc.nat(big.length * 2), { maxLength: 10 }), (cuts) => {
        const { frames } = split(Buffer.concat([big, jpegs[0]!]), cuts);
        expectFrames(frames, [big, jpegs[0]!]);
      }),
    );
  });

  it('drops a frame truncated in its entropy data and keeps the good one after it', () => {
    const a = jpegs[3]!;
    const start = entropyStart(a);
    fc.assert(
      fc.property(fc.integer({ min: start, max: a.length - 3 }), fc.array(fc.nat(), { maxLength: 10 }), (cutAt, cuts) => {
        const stream = Buffer.concat([a.subarray(0, cutAt), jpegs[1]!, jpegs[0]!]);
        const { frames, stats } = split(
          stream,
          cuts.map((c) => c % stream.length),
        );
        expectFrames(frames, [jpegs[1]!, jpegs[0]!]);
        expect(stats.truncated).toBe(1);
      }),
      { numRuns: 200 },
    );
  });

  it('resynchronises after a frame truncated anywhere in its header', async () => {
    // Segment lengths read from the next frame's bytes can swallow data; the splitter notices the
    // broken structure (implausible SOS/SOF length, a second SOF, a missing marker) and re-parses.
    // One case is structurally undetectable: a cut 2 bytes before a table segment's end makes the
    // next frame's SOI the segment's last bytes, so that frame arrives with the truncated frame's
    // table bytes in front. It still decodes as the next frame, which is what the test requires.
    const a = jpegs[3]!;
    const b = jpegs[1]!;
    const tail = [jpegs[0]!, a, a, a, a, a, a, a, a, a, a, a, b, jpegs[2]!];
    const want = await sharp(b).metadata();
    for (let cutAt = 2; cutAt < entropyStart(a); cutAt++) {
      const { frames } = split(Buffer.concat([a.subarray(0, cutAt), b, ...tail]), []);
      expectFrames(frames.slice(1), tail, `cut at ${cutAt}`);
      if (!frames[0]!.equals(b)) {
        expect(frames[0]!.subarray(-(b.length - 2)).equals(b.subarray(2)), `cut at ${cutAt}`).toBe(true);
        const got = await sharp(frames[0]!).metadata();
        expect([got.width, got.height], `cut at ${cutAt}`).toEqual([want.width, want.height]);
      }
    }
  });

  it('drops an oversized frame, counts it and resynchronises on the next one', () => {
    const big = jpegs[3]!;
    const small = jpegs[0]!;
    const limit = small.length + 10;
    expect(big.length).toBeGreaterThan(limit);
    for (const chunk of [7, 100, 1 << 20]) {
      const stream = Buffer.concat([small, big, small]);
      const cuts = Array.from({ length: Math.ceil(stream.length / chunk) }, (_, i) => i * chunk);
      const { frames, stats } = split(stream, cuts, limit);
      expectFrames(frames, [small, small]);
      expect(stats.oversized).toBe(1);
    }
  });

  it('never throws on arbitrary bytes and only emits SOI…EOI frames within the size cap', () => {
    // Bytes biased towards marker codes so the fuzzing reaches every parser state.
    const byte = fc.oneof(fc.constantFrom(0xff, 0xd8, 0xd9, 0xda, 0xc0, 0xc4, 0xe1, 0xd0, 0x00, 0x01, 0x08, 0x0c), fc.integer({ min: 0, max: 255 }));
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 400 }), fc.array(fc.nat(400), { maxLength: 8 }), (bytes, cuts) => {
        const stream = Buffer.concat([Buffer.from(bytes), jpegs[0]!]);
        const { frames } = split(stream, cuts, 4096);
        for (const f of frames) {
          expect(f.subarray(0, 2).equals(Buffer.from([0xff, 0xd8]))).toBe(true);
          expect(f.subarray(-2).equals(Buffer.from([0xff, 0xd9]))).toBe(true);
          expect(f.length).toBeLessThanOrEqual(4096);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('hands a frame that spanned chunks over with free room for the envelope header in front (one copy in all)', () => {
    const jpeg = jpegs[0]!;
    const got: Array<{ frame: Buffer; envelope?: Buffer }> = [];
    const splitter = new JpegStreamSplitter({ maxFrameBytes: 1 << 20, onFrame: (frame, envelope) => got.push({ frame, envelope }) });
    const whole = Buffer.concat([jpeg, jpeg]);
    splitter.push(whole.subarray(0, jpeg.length)); // first frame inside one chunk: a view, no copy
    splitter.push(whole.subarray(jpeg.length, jpeg.length + 100));
    splitter.push(whole.subarray(jpeg.length + 100)); // second frame spans two chunks
    expect(got).toHaveLength(2);
    expect(got[0]!.envelope).toBeUndefined();
    expect(got[0]!.frame.buffer).toBe(whole.buffer);
    const { frame, envelope } = got[1]!;
    expect(envelope!.length).toBe(ENVELOPE_HEADER_V1_BYTES + jpeg.length);
    expect(frame.buffer).toBe(envelope!.buffer);
    expect(frame.byteOffset - envelope!.byteOffset).toBe(ENVELOPE_HEADER_V1_BYTES);
    expect(frame.equals(jpeg)).toBe(true);
  });

  it('reset() discards a partial frame', () => {
    const frames: Buffer[] = [];
    const splitter = new JpegStreamSplitter({ maxFrameBytes: 1 << 20, onFrame: (f) => frames.push(f) });
    splitter.push(jpegs[1]!.subarray(0, 500));
    splitter.reset();
    splitter.push(jpegs[1]!.subarray(500));
    splitter.push(jpegs[0]!);
    expectFrames(frames, [jpegs[0]!]);
    expect(splitter.stats.truncated).toBe(1);
  });
});
