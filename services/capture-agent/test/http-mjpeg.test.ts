import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort, startTestRedis, stopAllServices, waitFor, type TestRedis } from '@framecast/testing';
import { FrameTap, getEndpoint, logLines, metricValue, startAgent } from './helpers.ts';
import { jpegFrames, mediaDir } from './media.ts';
import { MjpegCamera } from './mjpeg-camera.ts';

let redis: TestRedis;
let frames: Buffer[];

beforeAll(async () => {
  redis = await startTestRedis();
  frames = jpegFrames(mediaDir(), { width: 320, height: 240, fps: 15, seconds: 2 });
});
afterAll(async () => {
  await stopAllServices();
  await redis?.close();
});

it('publishes an HTTP MJPEG camera\'s JPEGs unchanged, drops truncated ones (counted), and reconnects after the camera cuts the connection', async () => {
  // A camera at 20 fps that mangles every 7th JPEG and cuts each connection after 30 parts.
  const cam = await MjpegCamera.start({ frames, fps: 20, truncateEvery: 7, dropAfter: 30 });
  const tap = new FrameTap(redis.url, 'mjpeg');
  await tap.ready;
  const port = await freePort();
  const agent = await startAgent({
    REDIS_URL: redis.url,
    FRAMECAST_ROOM: 'mjpeg',
    FRAMECAST_SOURCE: cam.url,
    FRAMECAST_FPS: '30',
    FRAMECAST_RESTART_DELAY_MS: '200',
    FRAMECAST_METRICS_PORT: String(port),
  });
  try {
    await waitFor('three connections cut', () => cam.sent.drops >= 3, 20_000);
    const beforeLast = tap.frames.length;
    await waitFor('frames after the last reconnect', () => tap.frames.length >= beforeLast + 10, 10_000);

    // Never a bad frame: every payload is byte for byte one the camera sent whole.
    expect(tap.frames.every((f) => MjpegCamera.isOneOf(frames, f.payload))).toBe(true);
    expect(tap.frames.every((f) => f.header.width === 320 && f.header.height === 240)).toBe(true);
    const { text } = await getEndpoint(port, '/metrics');
    const truncated = metricValue(text, 'framecast_agent_frames_dropped_total', { camera: 'mjpeg', reason: 'truncated' });
    const restarts =
      metricValue(text, 'framecast_agent_source_restarts_total', { camera: 'mjpeg', reason: 'failed' }) +
      metricValue(text, 'framecast_agent_source_restarts_total', { camera: 'mjpeg', reason: 'ended' });
    console.log(
      `mjpeg: camera sent ${cam.sent.parts} parts (${cam.sent.truncated} truncated) over ${cam.sent.connections} connections; ` +
        `agent published ${tap.frames.length}, dropped ${truncated} truncated, restarted ${restarts} times`,
    );
    // A part cut mid-JPEG as the connection drops may also count as truncated; none is published.
    expect(truncated).toBeGreaterThanOrEqual(cam.sent.truncated - 1);
    expect(restarts).toBeGreaterThanOrEqual(3);
    const restartLines = logLines(agent, 'camera mjpeg: ').filter((l) => l.restartInMs !== undefined);
    expect(restartLines.length).toBeGreaterThanOrEqual(3);
    expect(String(restartLines[0]!.cause)).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?action=stream: /);
    expect(logLines(agent, 'camera mjpeg: streaming again').length).toBeGreaterThanOrEqual(3);
  } finally {
    tap.close();
    await agent.stop();
    await cam.close();
  }
});

it('reports a URL that answers a web page instead of video in one line, and keeps retrying with backoff', async () => {
  const cam = await MjpegCamera.start({ frames, fps: 10, answer: { status: 200, contentType: 'text/html', body: '<html>Please log in</html>' } });
  const port = await freePort();
  const agent = await startAgent({
    REDIS_URL: redis.url,
    FRAMECAST_ROOM: 'not-video',
    FRAMECAST_SOURCE: cam.url,
    FRAMECAST_RESTART_DELAY_MS: '100',
    FRAMECAST_METRICS_PORT: String(port),
  });
  try {
    await waitFor('3 attempts', () => cam.sent.connections >= 3, 10_000);
    const lines = logLines(agent, 'camera not-video: ');
    expect(lines[0]).toMatchObject({
      level: 50,
      camera: 'not-video',
      reason: 'failed',
      cause: `${cam.url}: answered text/html, not an MJPEG stream (expected multipart/x-mixed-replace)`,
      restartInMs: 100,
    });
    expect(lines.slice(0, 3).map((l) => l.restartInMs)).toEqual([100, 200, 400]);
    const health = await getEndpoint(port, '/healthz');
    expect(health.status).toBe(503);
    expect(JSON.parse(health.text)).toMatchObject({ status: 'failing', service: 'capture-agent', cameras: [{ camera: 'not-video', state: expect.stringMatching(/restarting|starting/) }] });
  } finally {
    await agent.stop();
    await cam.close();
  }
});
