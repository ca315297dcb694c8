import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, sleep, startTestRedis, stopAllServices, waitFor, type TestRedis } from '@framecast/testing';
import { FrameTap, getEndpoint, logLines, metricValue, startAgent } from './helpers.ts';
import { makeClip, mediaDir } from './media.ts';

let redis: TestRedis;
let h264: string;
let mjpeg: string;

beforeAll(async () => {
  redis = await startTestRedis();
  const dir = mediaDir();
  // 2 s clips: every test below runs longer, so they must loop.
  h264 = makeClip(dir, 'door', { codec: 'h264', width: 640, height: 360, fps: 25, seconds: 2 });
  mjpeg = makeClip(dir, 'webcam', { codec: 'mjpeg', width: 320, height: 240, fps: 20, seconds: 2 });
});
afterAll(async () => {
  await stopAllServices();
  await redis?.close();
});

/** Publishing rate measured on the capture times the agent stamped. */
const rateOf = (caps: number[]) => (caps.length - 1) / ((caps.at(-1)! - caps[0]!) / 1e6);

describe('file source', () => {
  it('plays an H.264 clip at its real rate, loops it, and publishes valid JPEGs of the requested size', async () => {
    const tap = new FrameTap(redis.url, 'file-real');
    await tap.ready;
    // fps above the clip's 25: nothing is capped, so the rate seen is the clip's own.
    const agent = await startAgent({ REDIS_URL: redis.url, FRAMECAST_ROOM: 'file-real', FRAMECAST_SOURCE: `file:${h264}`, FRAMECAST_SIZE: '320x180', FRAMECAST_FPS: '30' });
    try {
      await waitFor('first frame', () => tap.frames.length > 0, 15_000);
      await sleep(5500);
      const frames = tap.frames.slice();
      const caps = frames.map((f) => f.header.captureTimeUs);
      const spanS = (caps.at(-1)! - caps[0]!) / 1e6;
      const rate = rateOf(caps);
      console.log(`file (H.264 25 fps, 2 s clip): ${frames.length} frames over ${spanS.toFixed(1)} s, ${rate.toFixed(2)} fps`);
      expect(spanS).toBeGreaterThan(5); // more than two passes through the clip
      expect(rate).toBeGreaterThan(23);
      expect(rate).toBeLessThan(27);
      // Looping is ffmpeg's -stream_loop, not a restart: one run, sequences without a gap.
      expect(logLines(agent, 'camera file-real: ').filter((l) => l.restartInMs !== undefined)).toEqual([]);
      const seqs = frames.map((f) => f.header.sequence);
      for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(seqs[i - 1]! + 1);
      for (const f of frames) {
        expect(f.header).toMatchObject({ width: 320, height: 180, flags: 0 });
        expect(await sharp(f.payload).metadata()).toMatchObject({ format: 'jpeg', width: 320, height: 180 });
      }
      // Decodable for real, not just a header: libvips reads every pixel.
      const stats = await sharp(frames.at(-1)!.payload).stats();
      expect(stats.channels).toHaveLength(3);
    } finally {
      tap.close();
      await agent.stop();
    }
  });

  it('caps a faster source at --fps, counting the dropped frames in /metrics', async () => {
    const tap = new FrameTap(redis.url, 'file-capped');
    await tap.ready;
    const port = await freePort();
    const agent = await startAgent({
      REDIS_URL: redis.url,
      FRAMECAST_ROOM: 'file-capped',
      FRAMECAST_SOURCE: `file:${h264}`,
      FRAMECAST_SIZE: '320x180',
      FRAMECAST_FPS: '10',
      FRAMECAST_METRICS_PORT: String(port),
    });
    try {
      await waitFor('first frame', () => tap.frames.length > 0, 15_000);
      await sleep(3000);
      const rate = rateOf(tap.frames.map((f) => f.header.captureTimeUs));
      const { text } = await getEndpoint(port, '/metrics');
      const dropped = metricValue(text, 'framecast_agent_frames_dropped_total', { camera: 'file-capped', reason: 'rate' });
      const published = metricValue(text, 'framecast_agent_frames_published_total', { camera: 'file-capped' });
      console.log(`file capped at 10 fps: ${rate.toFixed(2)} fps published, ${published} published / ${dropped} dropped (rate) so far`);
      expect(rate).toBeGreaterThan(9);
      expect(rate).toBeLessThan(11);
      // 25 fps in, 10 out: about 1.5 dropped per published frame.
      expect(dropped / published).toBeGreaterThan(1.1);
      expect(dropped / published).toBeLessThan(1.9);
      expect(metricValue(text, 'framecast_agent_source_up', { camera: 'file-capped' })).toBe(1);
      expect(metricValue(text, 'framecast_agent_ffmpeg_up', { camera: 'file-capped' })).toBe(1);
    } finally {
      tap.close();
      await agent.stop();
    }
  });

  it('passes an MJPEG clip\'s own JPEGs through when it is already at the requested size', async () => {
    const tap = new FrameTap(redis.url, 'file-mjpeg');
    await tap.ready;
    const agent = await startAgent({ REDIS_URL: redis.url, FRAMECAST_ROOM: 'file-mjpeg', FRAMECAST_SOURCE: `file:${mjpeg}`, FRAMECAST_SIZE: '320x240', FRAMECAST_FPS: '30' });
    try {
      await waitFor('20 frames', () => tap.frames.length >= 20, 15_000);
      expect(logLines(agent, 'camera file-mjpeg: source opened (passthrough)')).toHaveLength(1);
      for (const f of tap.frames.slice(0, 20)) expect(await sharp(f.payload).metadata()).toMatchObject({ width: 320, height: 240 });
      expect(tap.frames[0]!.header).toMatchObject({ width: 320, height: 240 });
    } finally {
      tap.close();
      await agent.stop();
    }
  });
});
