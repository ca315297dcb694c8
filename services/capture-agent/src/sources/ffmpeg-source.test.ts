import { Writable } from 'node:stream';
import { pino } from 'pino';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { waitFor } from '@framecast/testing';
import { FfmpegSource, ffmpegTestsrcArgs, qscaleForQuality } from './ffmpeg-source.ts';
import type { CapturedFrame } from './frame-source.ts';

function captureLogs() {
  const lines: Array<Record<string, unknown> & { msg: string }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as { msg: string });
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

describe('FfmpegSource', () => {
  it('maps JPEG quality onto the qscale range and builds the testsrc2 command line', () => {
    expect(qscaleForQuality(100)).toBe(2);
    expect(qscaleForQuality(1)).toBe(31);
    expect(qscaleForQuality(80)).toBeGreaterThan(2);
    expect(ffmpegTestsrcArgs({ width: 320, height: 240, fps: 12, quality: 100 }).join(' ')).toMatch(
      /-re -f lavfi -i testsrc2=size=320x240:rate=12 .*-f mjpeg -q:v 2 .*pipe:1$/,
    );
  });

  it('produces JPEG frames of the requested size from a real ffmpeg, and stop() reaps it', async () => {
    const { logger } = captureLogs();
    const src = new FfmpegSource({ width: 192, height: 108, fps: 25, quality: 70, maxFrameBytes: 1 << 20, ffmpegPath: 'ffmpeg', logger });
    const frames: CapturedFrame[] = [];
    src.start((f) => frames.push(f));
    await waitFor('3 frames', () => frames.length >= 3, 15_000);
    const pid = src.pid!;
    await src.stop();
    expect(() => process.kill(pid, 0)).toThrow(); // gone, not orphaned
    for (const f of frames.slice(0, 3)) expect(await sharp(f.jpeg).metadata()).toMatchObject({ format: 'jpeg', width: 192, height: 108 });
    expect(frames[1]!.captureTimeUs).toBeGreaterThan(frames[0]!.captureTimeUs);
    expect(src.stats()).toMatchObject({ starts: 1, restarts: 0, corrupt: 0, garbageBytes: 0 });
  });

  it('says clearly that ffmpeg is missing and keeps retrying with growing, capped delays', async () => {
    const { logger, lines } = captureLogs();
    const src = new FfmpegSource({
      width: 64,
      height: 64,
      fps: 5,
      quality: 50,
      maxFrameBytes: 1 << 20,
      ffmpegPath: '/nonexistent/ffmpeg',
      logger,
      restartDelayMs: 10,
      maxRestartDelayMs: 40,
    });
    src.start(() => {});
    await waitFor('5 attempts', () => lines.length >= 5, 5_000);
    await src.stop();
    expect(lines[0]!.err).toMatch(/\/nonexistent\/ffmpeg not found/);
    expect(lines.slice(0, 5).map((l) => l.restartInMs)).toEqual([10, 20, 40, 40, 40]);
  });
});
