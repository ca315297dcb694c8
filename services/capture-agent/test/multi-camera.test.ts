import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort, sleep, startTestRedis, stopAllServices, waitFor, type TestRedis } from '@framecast/testing';
import { childPids, FrameTap, getEndpoint, logLines, metricValue, startAgent } from './helpers.ts';
import { jpegFrames, makeClip, mediaDir } from './media.ts';
import { MjpegCamera } from './mjpeg-camera.ts';

let redis: TestRedis;
let dir: string;
let clip: string;
let cam: MjpegCamera;

beforeAll(async () => {
  redis = await startTestRedis();
  dir = mediaDir();
  clip = makeClip(dir, 'lobby', { codec: 'h264', width: 640, height: 360, fps: 25, seconds: 2 });
  cam = await MjpegCamera.start({ frames: jpegFrames(dir, { width: 320, height: 240, fps: 12, seconds: 1 }), fps: 12 });
});
afterAll(async () => {
  await stopAllServices();
  await cam?.close();
  await redis?.close();
});

it('runs three cameras from one YAML file: two stream while the broken one is retried with backoff and reported', async () => {
  const config = join(dir, 'agent.yaml');
  writeFileSync(
    config,
    `# three cameras on one box
defaults:
  fps: 10
cameras:
  - room: lobby
    source: file:${clip}
    size: 320x180
  - name: porch
    room: porch-cam
    source: ${cam.url}
    fps: 12
  - room: garage
    source: v4l2:/dev/framecast-no-such-camera
`,
  );
  const taps = { lobby: new FrameTap(redis.url, 'lobby'), porch: new FrameTap(redis.url, 'porch-cam') };
  await Promise.all(Object.values(taps).map((t) => t.ready));
  const port = await freePort();
  const agent = await startAgent(
    { REDIS_URL: redis.url, FRAMECAST_RESTART_DELAY_MS: '200', FRAMECAST_MAX_RESTART_DELAY_MS: '1600', FRAMECAST_METRICS_PORT: String(port) },
    ['--config', config],
  );
  try {
    await waitFor('both good cameras stream', () => taps.lobby.frames.length >= 20 && taps.porch.frames.length >= 20, 20_000);
    await waitFor('the broken camera retried 5 times', () => logLines(agent, 'camera garage: ').length >= 5, 15_000);
    const counts = [taps.lobby.frames.length, taps.porch.frames.length];
    await sleep(2000);
    // Still streaming, unaffected by the retries next to them.
    expect(taps.lobby.frames.length - counts[0]!).toBeGreaterThanOrEqual(15);
    expect(taps.porch.frames.length - counts[1]!).toBeGreaterThanOrEqual(18);
    expect(taps.lobby.frames.at(-1)!.header).toMatchObject({ width: 320, height: 180 });
    expect(taps.porch.frames.at(-1)!.header).toMatchObject({ width: 320, height: 240 });

    const garage = logLines(agent, 'camera garage: ');
    expect(garage[0]).toMatchObject({ level: 50, camera: 'garage', reason: 'failed', cause: expect.stringMatching(/framecast-no-such-camera: No such file or directory/) });
    expect(garage[0]!.msg).toMatch(/^camera garage: .*No such file or directory; restarting in 200 ms$/);
    expect(garage.slice(0, 5).map((l) => l.restartInMs)).toEqual([200, 400, 800, 1600, 1600]);

    const health = await getEndpoint(port, '/healthz');
    expect(health.status).toBe(503);
    const body = JSON.parse(health.text) as { status: string; cameras: Array<Record<string, unknown>> };
    expect(body.status).toBe('failing');
    expect(body.cameras).toEqual([
      expect.objectContaining({ camera: 'lobby', state: 'streaming', lastError: null, mode: 'encode' }),
      expect.objectContaining({ camera: 'porch', room: 'porch-cam', state: 'streaming', mode: 'passthrough' }),
      expect.objectContaining({ camera: 'garage', state: expect.stringMatching(/restarting|starting/), lastError: expect.stringMatching(/No such file or directory/) }),
    ]);

    const { text } = await getEndpoint(port, '/metrics');
    expect(metricValue(text, 'framecast_agent_source_restarts_total', { camera: 'garage', reason: 'failed' })).toBeGreaterThanOrEqual(5);
    expect(metricValue(text, 'framecast_agent_source_restarts_total', { camera: 'lobby', reason: 'failed' })).toBe(0);
    expect(metricValue(text, 'framecast_agent_source_up', { camera: 'garage' })).toBe(0);
    expect(metricValue(text, 'framecast_agent_source_up', { camera: 'porch' })).toBe(1);
    expect(metricValue(text, 'framecast_agent_frames_published_total', { camera: 'porch' })).toBeGreaterThan(20);
    expect(metricValue(text, 'framecast_agent_capture_to_publish_seconds_count', { camera: 'lobby' })).toBeGreaterThan(20);
    expect(metricValue(text, 'framecast_agent_frame_bytes_count', { camera: 'porch' })).toBeGreaterThan(20);
    expect(metricValue(text, 'framecast_agent_bus_up')).toBe(1);
    // One ffmpeg (the file); the HTTP camera needs none, the broken one has none running.
    expect(childPids(agent.proc.pid!, 'ffmpeg')).toHaveLength(1);
  } finally {
    Object.values(taps).forEach((t) => t.close());
    expect(await agent.stop()).toBe(0);
  }
});
