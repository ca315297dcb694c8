import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, scrapeMetric, startTestRedis, stopAllServices, TestViewer, waitFor, type ServiceProcess, type TestRedis } from '@framecast/testing';
import { Redis } from 'ioredis';
import { startAgent, startGateway, type GatewayProcess } from './helpers.ts';
import { jpegSize, MjpegReader } from './mjpeg-reader.ts';

// On-demand small variants against real processes: a capture agent (640x360 at 30 fps) makes its
// room's `small` variant only while a gateway is subscribed to `video_<room>~small`, learned from
// PUBSUB NUMSUB, and stops when nobody watches it any more.

const ROOM = 'yard';
let redis: TestRedis;
let gw: GatewayProcess;
let agent: ServiceProcess;
let agentPort: number;
/** The test's own Redis client: it looks, never subscribes (a subscriber would count as a watcher). */
let admin: Redis;

beforeAll(async () => {
  redis = await startTestRedis();
  // A short linger, so the variant's subscription goes soon after its last viewer.
  gw = await startGateway(redis.url, { FRAMECAST_SUBSCRIBE_LINGER_MS: '200' });
  agentPort = await freePort();
  agent = await startAgent(redis.url, ROOM, 'testsrc', {
    FRAMECAST_FPS: '30',
    FRAMECAST_SIZE: '640x360',
    FRAMECAST_VARIANT_CHECK_MS: '500',
    FRAMECAST_METRICS_PORT: String(agentPort),
    FRAMECAST_METRICS_HOST: '127.0.0.1',
  });
  admin = new Redis(redis.url);
});
afterAll(async () => {
  admin?.disconnect();
  await stopAllServices();
  await redis?.close();
});

const agentMetric = (name: string) => scrapeMetric(agentPort, name, { camera: 'yard', variant: 'small' });

/** CPU seconds (user + system) the agent process has used, from /proc. */
function agentCpuSeconds(): number {
  const fields = readFileSync(`/proc/${agent.proc.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function cpuOver(ms: number): Promise<number> {
  const before = agentCpuSeconds();
  const started = Date.now();
  await new Promise((r) => setTimeout(r, ms)); // the measurement window, not a wait for a result
  return (agentCpuSeconds() - before) / ((Date.now() - started) / 1000);
}

describe('the small variant', () => {
  it('is not made while nobody watches it: no channel subscriber, no frame, no encode', async () => {
    const main = new TestViewer(gw.wsUrl(ROOM), { hash: false });
    await waitFor('main frames', () => main.frames.length >= 10, 10_000);
    // Several checks' worth of time (checked every 500 ms) with a viewer of the room itself.
    await waitFor('four variant checks', async () => (await scrapeMetric(agentPort, 'framecast_agent_frames_published_total', { camera: 'yard' })) >= 90, 10_000);
    expect(await agentMetric('framecast_agent_variant_wanted')).toBe(0);
    expect(await agentMetric('framecast_agent_variant_frames_total')).toBe(0);
    expect(await agentMetric('framecast_agent_variant_encode_seconds_total')).toBe(0);
    expect(await admin.call('PUBSUB', 'NUMSUB', `video_${ROOM}~small`)).toEqual([`video_${ROOM}~small`, 0]);
    expect(await admin.exists(`video_${ROOM}~small:last`)).toBe(0);
    main.close();
  });

  it('?variant=small: frames of the smaller size within seconds, at most 2 a second; MJPEG and snapshot too; it stops when the viewer leaves', async () => {
    const cpuWithout = await cpuOver(3000);
    const viewer = new TestViewer(`${gw.wsUrl(ROOM)}?variant=small`, { hash: false });
    const joinedAt = Date.now();
    await waitFor('variant frames', () => viewer.frames.length >= 1, 10_000);
    const firstAfterMs = Date.now() - joinedAt;
    const hello = viewer.control[0];
    expect(hello).toMatchObject({ type: 'hello', room: ROOM });

    const reader = new MjpegReader(`http://127.0.0.1:${gw.port}/video/${ROOM}.mjpeg?variant=small`);
    expect(await reader.response).toBe(200);
    await waitFor('a variant MJPEG part', () => reader.parts.length >= 1, 10_000);
    expect(jpegSize(reader.parts[0]!.jpeg)).toEqual({ width: 320, height: 180 });
    const snap = await fetch(`http://127.0.0.1:${gw.port}/video/${ROOM}.jpg?variant=small`);
    expect(snap.status).toBe(200);
    expect(jpegSize(Buffer.from(await snap.arrayBuffer()))).toEqual({ width: 320, height: 180 });

    const cpuWith = await cpuOver(3000);
    await waitFor('6 variant frames', () => viewer.frames.length >= 6, 10_000);
    const span = (viewer.frames.at(-1)!.captureTimeUs - viewer.frames[0]!.captureTimeUs) / 1e6;
    const rate = (viewer.frames.length - 1) / span;
    expect(rate).toBeLessThanOrEqual(2.2);
    // The envelope says the variant's size.
    expect(viewer.frames.every((f) => f.width === 320 && f.height === 180)).toBe(true);
    const encodeSeconds = await agentMetric('framecast_agent_variant_encode_seconds_total');
    const made = await agentMetric('framecast_agent_variant_frames_total');
    console.log(
      `variant small: first frame ${firstAfterMs} ms after the viewer asked; ${rate.toFixed(2)} frames/s; agent CPU ${(cpuWithout * 100).toFixed(1)} % of a core ` +
        `without a variant viewer, ${(cpuWith * 100).toFixed(1)} % with one; ${made} variant frames took ${(encodeSeconds * 1000 / Math.max(1, made)).toFixed(1)} ms each to scale and encode`,
    );

    viewer.close();
    reader.close();
    await waitFor('the agent stops making the variant', async () => (await agentMetric('framecast_agent_variant_wanted')) === 0, 10_000);
    const stoppedAt = await agentMetric('framecast_agent_variant_frames_total');
    const published = await scrapeMetric(agentPort, 'framecast_agent_frames_published_total', { camera: 'yard' });
    await waitFor('30 more main frames', async () => (await scrapeMetric(agentPort, 'framecast_agent_frames_published_total', { camera: 'yard' })) >= published + 30, 10_000);
    // At most the one in flight when the check saw nobody.
    expect(await agentMetric('framecast_agent_variant_frames_total')).toBeLessThanOrEqual(stoppedAt + 1);
  });

  it('an unknown variant is refused: 4400 on the websocket, 400 over HTTP', async () => {
    const viewer = new TestViewer(`${gw.wsUrl(ROOM)}?variant=huge`);
    expect(await viewer.closed).toBe(4400);
    expect(viewer.control[0]).toMatchObject({ type: 'error', error: 'bad_request', message: expect.stringMatching(/unknown variant "huge"/) });
    for (const path of [`/video/${ROOM}.mjpeg?variant=huge`, `/video/${ROOM}.jpg?variant=huge`]) {
      const res = await fetch(`http://127.0.0.1:${gw.port}${path}`);
      expect(res.status, path).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'bad_request' });
    }
  });
});
