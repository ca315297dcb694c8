import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkJpeg } from './jpeg-check.ts';

// The publish path's JPEG check against a real encoder's output (ffmpeg, as on the camera boxes)
// and hand-made marker layouts for what an encoder rarely writes.

let real: Buffer;

beforeAll(async () => {
  const { stdout } = await promisify(execFile)('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=96x54', '-frames:v', '1', '-f', 'mjpeg', 'pipe:1'], {
    encoding: 'buffer',
    timeout: 20_000,
  });
  real = stdout;
});

const segment = (marker: number, body: number[]) => [0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body];
const sof = (marker: number, width: number, height: number) => segment(marker, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0]);
const jpeg = (...parts: number[][]) => Uint8Array.from([0xff, 0xd8, ...parts.flat(), 0xff, 0xd9]);
const app0 = segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
const sos = [...segment(0xda, [1, 1, 0, 0, 0x3f, 0]), 0x12, 0x34];

describe('checkJpeg', () => {
  it("reads a real encoder's picture size", () => {
    expect(checkJpeg(real)).toEqual({ ok: true, width: 96, height: 54 });
  });

  it('finds the size past other segments and fill bytes, baseline or progressive', () => {
    expect(checkJpeg(jpeg(app0, segment(0xdb, new Array(65).fill(1)), sof(0xc0, 640, 360), sos))).toEqual({ ok: true, width: 640, height: 360 });
    expect(checkJpeg(jpeg(app0, [0xff, 0xff], sof(0xc2, 1280, 720), sos))).toEqual({ ok: true, width: 1280, height: 720 });
    // DHT (C4) sits in the SOF range and is no frame.
    expect(checkJpeg(jpeg(segment(0xc4, [0, 1, 2]), sof(0xc1, 320, 240), sos))).toEqual({ ok: true, width: 320, height: 240 });
  });

  const bad: Array<[string, Uint8Array, RegExp]> = [
    ['empty', new Uint8Array(0), /no SOI/],
    ['text', new TextEncoder().encode('hello, this is not a picture'), /no SOI/],
    ['PNG', Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0xd9]), /no SOI/],
    ['no EOI', jpeg(app0, sof(0xc0, 64, 48), sos).subarray(0, 40), /truncated/],
    ['image data before any SOF', jpeg(app0, sos), /no start-of-frame/],
    ['garbage between segments', jpeg(app0, [0x00, 0x11], sof(0xc0, 64, 48), sos), /malformed/],
    ['segment length below 2', jpeg([0xff, 0xe1, 0x00, 0x01], sof(0xc0, 64, 48), sos), /malformed/],
    ['only SOI and EOI', jpeg(), /no start-of-frame/],
  ];
  it.each(bad)('refuses %s, saying why', (_what, data, problem) => {
    const check = checkJpeg(data);
    expect(check.ok).toBe(false);
    expect(check.ok ? '' : check.problem).toMatch(problem);
  });

  it('refuses a real JPEG cut short', () => {
    expect(checkJpeg(real.subarray(0, real.byteLength - 100))).toMatchObject({ ok: false, problem: expect.stringMatching(/truncated/) });
  });
});
