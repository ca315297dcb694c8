import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@framecast/logging';
import { waitFor } from '@framecast/testing';
import { makeClip, mediaDir } from '../../../test/media.ts';
import type { CapturedFrame, DeliveryMode, RunContext, RunEnd } from '../frame-source.ts';
import type { FfmpegSpec } from './ffmpeg-plan.ts';
import { startFfmpegRun } from './ffmpeg-run.ts';

const logger = createLogger('test', 'silent');
let dir: string;
let h264: string;
let mjpeg: string;
beforeAll(() => {
  dir = mediaDir();
  h264 = makeClip(dir, 'h264', { codec: 'h264', width: 640, height: 360, fps: 30, seconds: 2 });
  mjpeg = makeClip(dir, 'mjpeg', { codec: 'mjpeg', width: 320, height: 240, fps: 10, seconds: 2 });
});

function recorder() {
  const frames: CapturedFrame[] = [];
  const dropped: Record<string, number> = {};
  const pids: Array<number | null> = [];
  let mode: DeliveryMode | null = null;
  const ctx: RunContext = {
    logger,
    frame: (f) => frames.push(f),
    dropped: (r, n = 1) => void (dropped[r] = (dropped[r] ?? 0) + n),
    describe: (m) => void (mode = m),
    process: (pid) => void pids.push(pid),
  };
  return { ctx, frames, dropped, pids, mode: () => mode };
}

const run = (ctx: RunContext, spec: FfmpegSpec, o: { width: number; height: number; fps: number }, extra: { ffmpegPath?: string; mjpegPassthrough?: boolean } = {}) =>
  startFfmpegRun(ctx, {
    spec,
    output: { ...o, quality: 80 },
    mjpegPassthrough: extra.mjpegPassthrough ?? true,
    ffmpegPath: extra.ffmpegPath ?? 'ffmpeg',
    ffprobePath: 'ffprobe',
    probeTimeoutMs: 10_000,
    maxFrameBytes: 1 << 22,
  });

describe('ffmpeg runs (real ffmpeg)', () => {
  it('re-encodes an H.264 file to JPEGs of the set size, and counts frames dropped by the fps cap', async () => {
    const r = recorder();
    const source = run(r.ctx, { kind: 'file', path: h264 }, { width: 320, height: 180, fps: 10 });
    await waitFor('12 frames', () => r.frames.length >= 12, 15_000);
    await waitFor('rate drops reported', () => (r.dropped.rate ?? 0) > 0, 5000);
    await source.stop();
    expect(r.mode()).toBe('encode');
    expect(r.pids.at(-1)).toBeNull();
    expect(await sharp(r.frames[5]!.jpeg).metadata()).toMatchObject({ format: 'jpeg', width: 320, height: 180 });
    expect(r.frames.every((f) => f.width === 320 && f.height === 180 && f.flags === 0)).toBe(true);
  });

  it('passes an MJPEG file\'s own JPEGs through when it is at the set size, otherwise encodes', async () => {
    const pass = recorder();
    const a = run(pass.ctx, { kind: 'file', path: mjpeg }, { width: 320, height: 240, fps: 10 });
    await waitFor('passthrough frames', () => pass.frames.length >= 3, 15_000);
    await a.stop();
    expect(pass.mode()).toBe('passthrough');
    expect(await sharp(pass.frames[1]!.jpeg).metadata()).toMatchObject({ width: 320, height: 240 });

    const enc = recorder();
    const b = run(enc.ctx, { kind: 'file', path: mjpeg }, { width: 160, height: 120, fps: 10 });
    await waitFor('encoded frames', () => enc.frames.length >= 3, 15_000);
    await b.stop();
    expect(enc.mode()).toBe('encode');
    expect(await sharp(enc.frames[1]!.jpeg).metadata()).toMatchObject({ width: 160, height: 120 });
  });

  it.each([
    ['a file that does not exist', () => join(dir, 'nope.mp4'), /nope\.mp4: No such file or directory/],
    ['a corrupt file', () => (writeFileSync(join(dir, 'junk.mp4'), Buffer.alloc(50_000, 7)), join(dir, 'junk.mp4')), /junk\.mp4: Invalid data found when processing input/],
  ])('fails %s with a one-line cause, before spawning ffmpeg', async (_what, path, cause) => {
    const r = recorder();
    const end: RunEnd = await run(r.ctx, { kind: 'file', path: path() }, { width: 320, height: 180, fps: 10 }).ended;
    expect(end.reason).toBe('failed');
    expect(end.cause).toMatch(cause);
    expect(end.cause).not.toContain('\n');
    expect(r.pids).toEqual([]);
  });

  it('names a missing ffmpeg binary', async () => {
    const end = await run(recorder().ctx, { kind: 'ffmpeg-testsrc' }, { width: 64, height: 64, fps: 5 }, { ffmpegPath: '/nonexistent/ffmpeg' }).ended;
    expect(end).toEqual({ reason: 'failed', cause: '/nonexistent/ffmpeg not found: install ffmpeg or set FRAMECAST_FFMPEG_PATH' });
  });

  it('reports ffmpeg killed from outside as a failure with its signal', async () => {
    const r = recorder();
    const source = run(r.ctx, { kind: 'ffmpeg-testsrc' }, { width: 64, height: 64, fps: 15 });
    await waitFor('frames', () => r.frames.length >= 2, 15_000);
    process.kill(r.pids[0]!, 'SIGKILL');
    expect(await source.ended).toEqual({ reason: 'failed', cause: 'ffmpeg exited with SIGKILL' });
    expect(r.mode()).toBe('generate');
  });
});
