import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { JpegStreamSplitter } from './jpeg-splitter.ts';
import { readJpegSize } from './jpeg-size.ts';
import { boundaryOf, MultipartPartReader } from './multipart-parts.ts';

let a: Buffer;
let b: Buffer;
beforeAll(async () => {
  const img = (w: number, h: number, r: number) => sharp({ create: { width: w, height: h, channels: 3, background: { r, g: 90, b: 30 } } }).jpeg().toBuffer();
  [a, b] = await Promise.all([img(64, 48, 200), img(96, 32, 20)]);
});

const part = (boundary: string, jpeg: Buffer) =>
  Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`), jpeg, Buffer.from('\r\n')]);

function reader(boundary: string | null) {
  const frames: Buffer[] = [];
  const drops: string[] = [];
  const splitter = new JpegStreamSplitter({ maxFrameBytes: 1 << 20, onFrame: (f) => frames.push(Buffer.from(f)), onDrop: (r) => drops.push(r) });
  return { r: new MultipartPartReader(boundary, splitter), frames, drops };
}

/** Feeds `data` in chunks of every size from 1 to 40 bytes, so delimiters straddle chunks. */
function feedChunked(r: MultipartPartReader, data: Buffer, size: number) {
  for (let i = 0; i < data.length; i += size) r.push(data.subarray(i, i + size));
}

describe('MultipartPartReader', () => {
  it('yields each part\'s JPEG unchanged however the stream is chunked', () => {
    const stream = Buffer.concat([part('frame', a), part('frame', b), part('frame', a)]);
    for (const size of [1, 2, 3, 7, 40, stream.length]) {
      const { r, frames, drops } = reader('frame');
      feedChunked(r, stream, size);
      expect(frames.map((f) => f.equals(a) || f.equals(b))).toEqual([true, true, true]);
      expect(frames[1]!.equals(b)).toBe(true);
      expect(drops).toEqual([]);
    }
  });

  it('drops a part whose JPEG is cut short, and counts it as truncated, at its boundary', () => {
    const cut = a.subarray(0, Math.floor(a.length * 0.6));
    const stream = Buffer.concat([part('frame', a), part('frame', cut), part('frame', b)]);
    for (const size of [5, 64, stream.length]) {
      const { r, frames, drops } = reader('frame');
      feedChunked(r, stream, size);
      expect(frames).toHaveLength(2);
      expect(frames[0]!.equals(a) && frames[1]!.equals(b)).toBe(true);
      expect(drops).toEqual(['truncated']);
    }
  });

  it('still splits frames when the body uses another boundary than the header says', () => {
    const { r, frames } = reader('announced');
    r.push(Buffer.concat([part('actual', a), part('actual', b)]));
    expect(frames).toHaveLength(2);
  });

  it('reads the boundary parameter in its common spellings', () => {
    expect(boundaryOf('multipart/x-mixed-replace; boundary=frame')).toBe('frame');
    expect(boundaryOf('multipart/x-mixed-replace;boundary="my boundary"')).toBe('my boundary');
    expect(boundaryOf('multipart/x-mixed-replace; boundary=--myboundary')).toBe('myboundary');
    expect(boundaryOf('multipart/x-mixed-replace')).toBeNull();
  });
});

describe('readJpegSize', () => {
  it('reads width and height from the frame header', () => {
    expect(readJpegSize(a)).toEqual({ width: 64, height: 48 });
    expect(readJpegSize(b)).toEqual({ width: 96, height: 32 });
    expect(readJpegSize(a.subarray(0, 10))).toBeNull();
    expect(readJpegSize(Buffer.from('not a jpeg'))).toBeNull();
  });
});
