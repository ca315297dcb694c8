import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, startTestRedis, stopAllServices, TestViewer, waitFor, type ServiceProcess, type TestRedis } from '@framecast/testing';
import { startAgent, startGateway, type GatewayProcess } from '../../gateway/test/helpers.ts';
import { startReceiver, startRegistry, type RegistryProcess } from './helpers.ts';

const SWEEP_MS = 500;
const HEARTBEAT_MS = 500;
const env = {
  FRAMECAST_SWEEP_INTERVAL_MS: String(SWEEP_MS),
  FRAMECAST_AGENT_TIMEOUT_MS: '2000',
  FRAMECAST_GATEWAY_TIMEOUT_MS: '2000',
  FRAMECAST_WEBHOOK_ALLOW_HOSTS: '127.0.0.1', // the webhook receiver listens on loopback
};

let redis: TestRedis;
let reg: RegistryProcess;
let gw: GatewayProcess;
let agent: ServiceProcess;
let agentKey: string;

beforeAll(async () => {
  redis = await startTestRedis();
  reg = await startRegistry(redis.url, env);
  await reg.api('POST', '/rooms', { name: 'live' });
  agentKey = (await reg.api('POST', '/agent-keys', { name: 'box', rooms: ['live'] })).body.key;
  gw = await startGateway(redis.url, { FRAMECAST_PRESENCE_FLUSH_MS: '200', FRAMECAST_PRESENCE_HEARTBEAT_MS: '500' });
  agent = await startAgent(redis.url, 'live', 'testsrc', {
    FRAMECAST_REGISTRY_URL: reg.url,
    FRAMECAST_AGENT_KEY: agentKey,
    FRAMECAST_AGENT_ID: 'box-1',
    FRAMECAST_HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS),
  });
});
afterAll(async () => {
  await stopAllServices();
  await redis?.close();
});

const room = async () => (await reg.api('GET', '/rooms/live')).body;
const count = (svc: ServiceProcess, re: RegExp) => svc.lines.filter((l) => re.test(l)).length;

describe('registry restarted mid-stream', () => {
  it('viewers keep watching while it is down; live status and presence are right again within a sweep of its return', async () => {
    const viewer = new TestViewer(gw.wsUrl('live'));
    await waitFor('live with one viewer', async () => {
      const r = await room();
      return r.live && r.viewers.total === 1 && r.cameras[0]?.agentId === 'box-1' && r.cameras[0].fps > 0;
    }, 10_000);
    const camera = (await room()).cameras[0];
    expect(camera).toMatchObject({ width: 320, height: 180, busUp: true });
    expect(camera.bitrateBps).toBeGreaterThan(0);
    expect(camera.frameBytes).toBeGreaterThan(0);

    await reg.stop('SIGKILL');
    const framesAtKill = viewer.frames.length;
    await sleep(3000); // longer than the agent timeout: nothing may depend on the registry for frames
    expect(viewer.frames.length - framesAtKill).toBeGreaterThan(20);
    expect(viewer.closeCode).toBeNull();
    // Heartbeat failures are logged once for the outage, not once per beat.
    expect(count(agent, /registry unreachable/)).toBe(1);

    reg = await startRegistry(redis.url, env, reg.port);
    const back = Date.now();
    await waitFor('live again with its viewer', async () => {
      const r = await room();
      return r.live && r.viewers.total === 1;
    }, 5000);
    expect(Date.now() - back).toBeLessThan(SWEEP_MS + HEARTBEAT_MS + 1000);
    const presence = (await reg.api('GET', '/rooms/live/viewers')).body;
    expect(presence.viewers).toHaveLength(1);
    expect(presence.viewers[0].gateway).toBe(`gw-${gw.port}`);
    await waitFor('agent saw the registry again', () => count(agent, /registry heartbeats ok again/) === 1, 3000);
    viewer.close();
  });

  it('a camera that stopped while the registry was down is offline within one sweep of its return, with one room.offline', async () => {
    const receiver = await startReceiver(() => 200);
    await reg.api('POST', '/webhooks', { url: receiver.url, events: ['room.offline'], room: 'live' });
    await reg.stop('SIGKILL');
    await agent.stop('SIGTERM');
    await sleep(2500); // past the agent timeout, with no registry to notice
    reg = await startRegistry(redis.url, env, reg.port);
    const back = Date.now();
    await waitFor('offline', async () => (await room()).live === false, 5000);
    expect(Date.now() - back).toBeLessThan(SWEEP_MS + 1000);
    await waitFor('offline webhook', () => receiver.received.length === 1, 5000);
    await sleep(SWEEP_MS * 3);
    expect(receiver.received.map((r) => JSON.parse(r.body).type)).toEqual(['room.offline']);
    await receiver.close();
  });
});
