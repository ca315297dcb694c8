import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@framecast/logging';
import { freePort, waitFor } from '@framecast/testing';
import { jpegFrames, mediaDir } from '../../test/media.ts';
import { MjpegCamera } from '../../test/mjpeg-camera.ts';
import type { CapturedFrame, RunContext } from './frame-source.ts';
import { startHttpMjpegRun } from './http-mjpeg-run.ts';

const logger = createLogger('test', 'silent');
let frames: Buffer[];
const cameras: MjpegCamera[] = [];
beforeAll(() => {
  frames = jpegFrames(mediaDir(), { width: 320, height: 240, fps: 10, seconds: 1 });
});
afterEach(async () => {
  await Promise.all(cameras.splice(0).map((c) => c.close()));
});

async function camera(o: Partial<Parameters<typeof MjpegCamera.start>[0]> = {}) {
  const c = await MjpegCamera.start({ frames, fps: 50, ...o });
  cameras.push(c);
  return c;
}

function recorder() {
  const got: CapturedFrame[] = [];
  const dropped: Record<string, number> = {};
  const ctx: RunContext = {
    logger,
    frame: (f) => got.push({ ...f, jpeg: Buffer.from(f.jpeg) }),
    dropped: (r, n = 1) => void (dropped[r] = (dropped[r] ?? 0) + n),
    describe: () => {},
    process: () => {},
  };
  return { ctx, got, dropped };
}

const run = (ctx: RunContext, url: string) => startHttpMjpegRun(ctx, { url, maxFrameBytes: 1 << 20, idleTimeoutMs: 3000 });

describe('HTTP MJPEG runs', () => {
  it('delivers the camera\'s JPEGs byte for byte, sized from their headers', async () => {
    const cam = await camera();
    const r = recorder();
    const source = run(r.ctx, cam.url);
    await waitFor('20 frames', () => r.got.length >= 20, 10_000);
    await source.stop();
    expect(r.got.every((f) => MjpegCamera.isOneOf(frames, f.jpeg) && f.width === 320 && f.height === 240)).toBe(true);
    expect(r.dropped).toEqual({});
  });

  it('drops and counts truncated JPEGs, never delivering one', async () => {
    const cam = await camera({ truncateEvery: 4 });
    const r = recorder();
    const source = run(r.ctx, cam.url);
    await waitFor('5 truncated parts', () => cam.sent.truncated >= 5, 10_000);
    await source.stop();
    expect(r.got.length).toBeGreaterThan(10);
    expect(r.got.every((f) => MjpegCamera.isOneOf(frames, f.jpeg))).toBe(true);
    expect(r.dropped.truncated).toBeGreaterThanOrEqual(4);
  });

  it('ends when the camera cuts the connection', async () => {
    const cam = await camera({ dropAfter: 5 });
    const r = recorder();
    const end = await run(r.ctx, cam.url).ended;
    expect(end.cause).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?action=stream: (the connection was cut|the camera closed the stream|aborted)/);
    expect(r.got.length).toBeGreaterThanOrEqual(4);
  });

  it.each([
    [{ status: 200, contentType: 'text/html; charset=utf-8', body: '<html>login</html>' }, /: answered text\/html, not an MJPEG stream \(expected multipart\/x-mixed-replace\)$/],
    [{ status: 200, contentType: 'image/jpeg', body: 'x' }, /a snapshot URL/],
    [{ status: 404, contentType: 'text/plain', body: 'no' }, /: HTTP 404 Not Found$/],
    [{ status: 401, contentType: 'text/plain', body: 'no' }, /: HTTP 401 Unauthorized/],
  ])('fails with one line when the URL answers %j', async (answer, cause) => {
    const cam = await camera({ answer });
    const end = await run(recorder().ctx, cam.url).ended;
    expect(end.reason).toBe('failed');
    expect(end.cause).toMatch(cause);
  });

  it('fails when nothing listens, and hides the URL\'s password', async () => {
    const port = await freePort();
    const end = await run(recorder().ctx, `http://admin:secret@127.0.0.1:${port}/video`).ended;
    expect(end).toEqual({ reason: 'failed', cause: `http://admin:***@127.0.0.1:${port}/video: connect ECONNREFUSED 127.0.0.1:${port}` });
  });
});
