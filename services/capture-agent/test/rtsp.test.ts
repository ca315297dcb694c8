import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort, sleep, startTestRedis, stopAllServices, waitFor, type TestRedis } from '@framecast/testing';
import { FrameTap, logLines, startAgent } from './helpers.ts';
import { makeClip, mediaDir } from './media.ts';
import { RtspCamera } from './rtsp-camera.ts';

let redis: TestRedis;
let cam: RtspCamera;

beforeAll(async () => {
  redis = await startTestRedis();
  const dir = mediaDir();
  // H.264 as IP cameras send it, a keyframe every second so a (re)connecting client starts soon.
  const clip = makeClip(dir, 'ipcam', { codec: 'h264', width: 640, height: 360, fps: 25, seconds: 4, gop: 25 });
  cam = await RtspCamera.start(clip, dir, await freePort());
});
afterAll(async () => {
  await stopAllServices();
  await cam?.close();
  await redis?.close();
});

it('streams an RTSP camera over TCP, notices it going away and hanging within seconds, and resumes when it is back', async () => {
  const tap = new FrameTap(redis.url, 'rtsp');
  await tap.ready;
  const agent = await startAgent({
    REDIS_URL: redis.url,
    FRAMECAST_ROOM: 'rtsp',
    FRAMECAST_SOURCE: cam.url,
    FRAMECAST_SIZE: '320x180',
    FRAMECAST_FPS: '10',
    FRAMECAST_RESTART_DELAY_MS: '250',
    FRAMECAST_MAX_RESTART_DELAY_MS: '1000',
    FRAMECAST_SOURCE_STALL_TIMEOUT_MS: '4000',
  });
  const restarts = () => logLines(agent, 'camera rtsp: ').filter((l) => l.restartInMs !== undefined);
  try {
    await waitFor('frames', () => tap.frames.length >= 20, 20_000);
    expect(tap.frames.at(-1)!.header).toMatchObject({ width: 320, height: 180 });
    expect(logLines(agent, 'camera rtsp: source opened (encode)')[0]).toMatchObject({ input: { codec: 'h264', width: 640, height: 360, fps: 25 } });

    expect(restarts()).toEqual([]);

    // Unplugged: connection cut, port closed.
    await cam.goAway();
    const goneAt = Date.now();
    await waitFor('the agent notices', () => restarts().length >= 1, 10_000);
    const noticedMs = Date.now() - goneAt;
    await waitFor('a reconnect refused', () => restarts().some((l) => /Connection refused/.test(String(l.cause))), 10_000);
    const countWhileAway = tap.frames.length;
    await sleep(1500);
    expect(tap.frames.length).toBe(countWhileAway);

    // Back on the same address.
    await cam.comeBack();
    const backAt = Date.now();
    await waitFor('frames again', () => tap.frames.length >= countWhileAway + 10, 20_000);
    const resumedMs = Date.now() - backAt;
    expect(logLines(agent, 'camera rtsp: streaming again').length).toBe(1);

    // Hung: the connection stays up, no packets. Noticed by ffmpeg's socket timeout or the stall watchdog.
    const before = restarts().length;
    cam.mute();
    const mutedAt = Date.now();
    await waitFor('the agent notices the hang', () => restarts().length > before, 15_000);
    const hangNoticedMs = Date.now() - mutedAt;
    const hang = restarts()[before]!;
    cam.unmute();
    const countAtUnmute = tap.frames.length;
    await waitFor('frames after the hang', () => tap.frames.length >= countAtUnmute + 10, 20_000);

    console.log(
      `rtsp: unplug noticed in ${noticedMs} ms (${restarts()[0]!.cause}); frames again ${resumedMs} ms after it came back; ` +
        `hang noticed in ${hangNoticedMs} ms (${hang.reason}: ${hang.cause})`,
    );
    expect(noticedMs).toBeLessThan(6000);
    expect(hangNoticedMs).toBeLessThan(8000);
    // Sequences keep counting across restarts: viewers see one stream.
    const seqs = tap.frames.map((f) => f.header.sequence);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(seqs[i - 1]! + 1);
  } finally {
    tap.close();
    await agent.stop();
  }
});
