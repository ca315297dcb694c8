import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, sleep, startTestRedis, stopAllServices, TestViewer, waitFor, type ServiceProcess, type TestRedis } from '@framecast/testing';
import { startGateway, type GatewayProcess } from '../../gateway/test/helpers.ts';
import { callApi, heartbeat, startRegistry, type RegistryProcess } from '../../registry/test/helpers.ts';
import { getEndpoint, logLines, metricValue, startAgent } from './helpers.ts';

// A full Redis (maxmemory reached, noeviction) refuses writes with OOM but still takes PUBLISH:
// viewers keep getting live frames. Seen before: the agent declared the bus down on the failed
// last-frame SET, counted delivered frames as dropped and reported 0.4 fps; the registry answered
// heartbeats with 500 internal and a stack trace every 2 s.

const room = 'full';
let redis: TestRedis;
let admin: Redis;
let reg: RegistryProcess;
let gw: GatewayProcess;
let agent: ServiceProcess;
let agentPort: number;

beforeAll(async () => {
  redis = await startTestRedis({ needsControl: true });
  admin = new Redis(redis.url);
  reg = await startRegistry(redis.url, { FRAMECAST_AUTH: 'off' });
  gw = await startGateway(redis.url, { FRAMECAST_PRESENCE_HEARTBEAT_MS: '500' });
  agentPort = await freePort();
  agent = await startAgent({
    REDIS_URL: redis.url,
    FRAMECAST_ROOM: room,
    // Large-ish frames (tens of KB and more): each last-frame SET needs more than the headroom left.
    FRAMECAST_SIZE: '1280x720',
    FRAMECAST_QUALITY: '90',
    FRAMECAST_FPS: '10',
    // The stored frame must not expire mid-test and hand its memory back (the full state would flap).
    FRAMECAST_LAST_FRAME_TTL_MS: '600000',
    FRAMECAST_METRICS_PORT: String(agentPort),
    FRAMECAST_METRICS_HOST: '127.0.0.1',
    FRAMECAST_REGISTRY_URL: reg.url,
    FRAMECAST_AUTH: 'off',
    FRAMECAST_AGENT_ID: 'box-full',
    FRAMECAST_HEARTBEAT_INTERVAL_MS: '500',
  });
});
afterAll(async () => {
  await admin?.config('SET', 'maxmemory', '0').catch(() => {});
  admin?.disconnect();
  await stopAllServices();
  await redis?.close();
});

const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1]);
const oomFailures = async () => metricValue((await getEndpoint(agentPort, '/metrics')).text, 'framecast_agent_last_frame_store_failures_total', { camera: room, reason: 'oom' });
const agentMetric = async (name: string, labels: Record<string, string> = {}) => metricValue((await getEndpoint(agentPort, '/metrics')).text, name, labels);
const linesOf = (svc: ServiceProcess, re: RegExp) => svc.lines.filter((l) => re.test(l));

describe('Redis at maxmemory with noeviction', () => {
  it('viewers keep their frames, the agent stays healthy and counts the failed last-frame SETs apart; the registry answers 503 with the reason; both recover', async () => {
    const viewer = new TestViewer(gw.wsUrl(room), { hash: false });
    await waitFor('frames and heartbeats', () => viewer.frames.length >= 10 && logLines(agent, 'registry heartbeats started').length === 1, 20_000);
    const frameBytes = viewer.frames.at(-1)!.bytes;

    // Full: maxmemory under what Redis uses now (the lowest of samples over half a second, less
    // 256 KB: client buffers come and go by a frame or more). Set just above, a frame's SET fails
    // but a small write slips through whenever the buffers are low, and the registry's answer to a
    // heartbeat would be a coin toss (seen: 503 for the agent's beat, 200 for the next).
    const samples: number[] = [];
    for (let i = 0; i < 10; i++) {
      samples.push(await usedMemory());
      await sleep(50);
    }
    const used = Math.min(...samples);
    const maxmemory = used - 256 * 1024;
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await admin.config('SET', 'maxmemory', String(maxmemory));
    const fullAt = Date.now();
    await waitFor('last-frame SETs refused', async () => (await oomFailures()) > 0, 5000);
    const noticedMs = Date.now() - fullAt;

    // Over the next 30 frames: live video at the configured rate, nothing dropped, the bus up.
    const droppedBefore = await agentMetric('framecast_agent_frames_dropped_total', { camera: room, reason: 'bus_down' });
    const failuresBefore = await oomFailures();
    const publishedBefore = await agentMetric('framecast_agent_frames_published_total', { camera: room });
    const framesBefore = viewer.frames.length;
    const windowStart = Date.now();
    await waitFor('30 frames while Redis is full', () => viewer.frames.length >= framesBefore + 30, 10_000);
    const viewerFps = (30 * 1000) / (Date.now() - windowStart);
    const published = (await agentMetric('framecast_agent_frames_published_total', { camera: room })) - publishedBefore;
    const failuresAfter = await oomFailures();
    // The agent's fps is over its last 5 s; once those are all "full" seconds it must show the real rate.
    let body: any;
    await waitFor('the agent reports the real frame rate', async () => {
      const health = await getEndpoint(agentPort, '/healthz');
      body = health.status === 200 ? JSON.parse(health.text) : null;
      return body !== null && body.cameras[0].fps > 5;
    }, 10_000, 250);
    console.log(
      `redis full: used ${used} B, maxmemory ${maxmemory} B, frames ~${frameBytes} B; first refused SET counted after ${noticedMs} ms; ` +
        `viewer ${viewerFps.toFixed(1)} fps meanwhile, ${published} frames counted published, ${failuresAfter - failuresBefore} SETs refused (oom) in the window; ` +
        `agent /healthz 200 with ${body.cameras[0].fps} fps`,
    );
    expect(viewerFps).toBeGreaterThan(6);
    expect(published).toBeGreaterThanOrEqual(29);
    expect(body).toMatchObject({ busUp: true, busProblem: null, warnings: [expect.stringMatching(/last-frame store failing: .*OOM/)] });
    expect(body.cameras[0].lastFrameStoreProblem).toMatch(/OOM/);
    expect(failuresAfter).toBeGreaterThan(failuresBefore);
    expect(await agentMetric('framecast_agent_frames_dropped_total', { camera: room, reason: 'bus_down' })).toBe(droppedBefore);
    expect(await agentMetric('framecast_agent_bus_up')).toBe(1);
    // One line for the episode, at error level, naming the cause; never "bus down".
    const failing = logLines(agent, 'last-frame store failing');
    expect(failing).toHaveLength(1);
    expect(failing[0]).toMatchObject({ level: 50, reason: 'oom', msg: expect.stringMatching(/OOM/) });
    expect(logLines(agent, 'frame bus down')).toHaveLength(0);

    // The registry: heartbeats are refused with 503 and the reason, once logged, never a stack.
    const refused = await callApi(reg.url, 'POST', '/agents/box-probe/heartbeat', heartbeat([room]), null);
    expect(refused).toMatchObject({ status: 503, body: { error: 'store_unavailable', message: expect.stringMatching(/^Redis refuses writes: OOM/) } });
    await waitFor('agent heartbeat names the cause', () => linesOf(agent, /registry unreachable/).some((l) => /store_unavailable: Redis refuses writes: OOM/.test(l)), 5000);
    // Several heartbeats later still one line, and no 500s or stack traces.
    const beatsAt = linesOf(agent, /"msg":"registry unreachable/).length;
    await waitFor('more refused heartbeats', async () => (await callApi(reg.url, 'POST', '/agents/box-probe/heartbeat', heartbeat([room]), null)).status === 503 && Date.now() - windowStart > 3000, 10_000);
    expect(linesOf(agent, /"msg":"registry unreachable/)).toHaveLength(beatsAt);
    expect(linesOf(reg, /"reason":"oom"/)).toHaveLength(1);
    expect(linesOf(reg, /request failed|"stack"|\n\s+at /)).toEqual([]);
    // The gateway: presence writes are refused too; one error line naming it.
    await waitFor('gateway names the cause', () => linesOf(gw, /presence report failed/).length > 0, 5000);
    expect(linesOf(gw, /presence report failed/)).toEqual([expect.stringMatching(/"level":50.*OOM/)]);

    // Room again: the SETs work, the counter stops, one recovery line each.
    await admin.config('SET', 'maxmemory', '0');
    const roomAt = Date.now();
    await waitFor('last-frame store working again', () => logLines(agent, 'last-frame store working again').length === 1, 5000);
    const recoveredMs = Date.now() - roomAt;
    const stopped = await oomFailures();
    const framesNow = viewer.frames.length;
    await waitFor('10 more frames', () => viewer.frames.length >= framesNow + 10, 5000);
    expect(await oomFailures()).toBe(stopped);
    expect(logLines(agent, 'last-frame store failing')).toHaveLength(1);
    expect(logLines(agent, 'last-frame store working again')[0]).toMatchObject({ level: 30, failures: expect.any(Number) });
    expect((await callApi(reg.url, 'POST', '/agents/box-probe/heartbeat', heartbeat([room]), null)).status).toBe(200);
    await waitFor('agent heartbeats ok again', () => logLines(agent, 'registry heartbeats ok again').length === 1, 5000);
    const healthAfter = JSON.parse((await getEndpoint(agentPort, '/healthz')).text);
    expect(healthAfter).toMatchObject({ busUp: true, warnings: [] });
    expect((await admin.getBuffer(`video_${room}:last`))?.length).toBeGreaterThan(1000);
    console.log(`redis full: maxmemory raised, last-frame store working again after ${recoveredMs} ms (${stopped} SETs refused in all)`);
    expect(viewer.closeCode).toBeNull();
    viewer.close();
  });
});
