import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { registryKeys } from '@framecast/protocol';
import { scrapeMetric, sleep, startAgent, startTestRedis, stopAllServices, TestViewer, waitFor, type ServiceProcess, type TestRedis } from '@framecast/testing';
import { startGateway, type GatewayProcess } from '../../gateway/test/helpers.ts';
import { startReceiver, startRegistry, type RegistryProcess } from './helpers.ts';

const SWEEP_MS = 500;
const HEARTBEAT_MS = 500;
const AGENT_TIMEOUT_MS = 2000;
const env = {
  FRAMECAST_SWEEP_INTERVAL_MS: String(SWEEP_MS),
  FRAMECAST_AGENT_TIMEOUT_MS: String(AGENT_TIMEOUT_MS),
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

/** The registry's events stream (what webhooks are made from): id, type and room of each entry. */
async function streamEvents(): Promise<Array<{ id: string; type: string; room: string }>> {
  const conn = new Redis(redis.url);
  try {
    return (await conn.xrange(registryKeys.events(), '-', '+')).map(([id, f]) => ({ id, type: f[f.indexOf('type') + 1]!, room: f[f.indexOf('room') + 1]! }));
  } finally {
    conn.disconnect();
  }
}

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

  it('after an outage past the agent timeout, a camera that streamed throughout fires nothing; one that stopped meanwhile goes offline once', async () => {
    const receiver = await startReceiver(() => 200);
    await reg.api('POST', '/webhooks', { url: receiver.url, events: ['room.online', 'room.offline'], room: null });
    const events = () => receiver.received.map((r) => JSON.parse(r.body) as { id: string; type: string; room: string });
    const goneKey = (await reg.api('POST', '/agent-keys', { name: 'box-2', rooms: ['gone'] })).body.key;
    const stopping = await startAgent(redis.url, 'gone', 'testsrc', {
      FRAMECAST_REGISTRY_URL: reg.url,
      FRAMECAST_AGENT_KEY: goneKey,
      FRAMECAST_AGENT_ID: 'box-2',
      FRAMECAST_HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS),
    });
    await waitFor('room gone online', () => events().some((e) => e.type === 'room.online' && e.room === 'gone'), 10_000);
    expect((await room()).live).toBe(true);

    await reg.stop('SIGKILL');
    await stopping.stop('SIGTERM'); // this camera really stops while the registry is away
    const heartbeatsBefore = count(agent, /registry heartbeats ok again/);
    await sleep(AGENT_TIMEOUT_MS + 1500); // the outage: well past the agent timeout, while box-1 keeps streaming
    const streamBefore = new Set((await streamEvents()).map((e) => e.id));

    reg = await startRegistry(redis.url, env, reg.port);
    const back = Date.now();
    // The streaming camera's room reads live at once: no sweep may take it offline before its
    // next heartbeat, which the agent sends within one interval.
    expect((await room()).live).toBe(true);
    expect((await reg.api('GET', '/rooms/gone')).body.live).toBe(true); // not expired yet either: the grace holds it
    await waitFor('box-1 heartbeats again', () => count(agent, /registry heartbeats ok again/) > heartbeatsBefore, 5000);
    await reg.waitForLine(/no registry replica was listening before/, 5000);

    // The camera that stopped goes offline once the grace (one agent timeout) is over.
    await waitFor('gone offline', async () => (await reg.api('GET', '/rooms/gone')).body.live === false, AGENT_TIMEOUT_MS + 5000);
    expect(Date.now() - back).toBeGreaterThanOrEqual(AGENT_TIMEOUT_MS - 1000);
    // Every event since the restart, as the events stream has it (the source of truth), and as
    // the receiver got it, once a few more sweeps have run; delivery order is not compared.
    const sweeps = await scrapeMetric(reg.url, 'framecast_registry_sweeps_total');
    await waitFor('three more sweeps', async () => (await scrapeMetric(reg.url, 'framecast_registry_sweeps_total')) >= sweeps + 3, 10_000);
    const since = (await streamEvents()).filter((e) => !streamBefore.has(e.id));
    expect(since.map((e) => `${e.type} ${e.room}`)).toEqual(['room.offline gone']);
    await waitFor('receiver has every event', () => since.every((s) => events().some((e) => e.id === s.id)), 10_000);
    const received = events().filter((e) => !streamBefore.has(e.id));
    expect(received.map((e) => `${e.type} ${e.room}`)).toEqual(['room.offline gone']);
    expect(events().filter((e) => e.room === 'live')).toEqual([]);
    expect((await room()).live).toBe(true);
    await receiver.close();
  });
});
