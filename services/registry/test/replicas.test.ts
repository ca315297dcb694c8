import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, startTestRedis, stopAllServices, waitFor, type TestRedis } from '@framecast/testing';
import { heartbeat, startReceiver, startRegistry, type RegistryProcess } from './helpers.ts';

let redis: TestRedis;
let a: RegistryProcess;
let b: RegistryProcess;
const env = {
  FRAMECAST_SWEEP_INTERVAL_MS: '300',
  FRAMECAST_AGENT_TIMEOUT_MS: '1500',
  FRAMECAST_WEBHOOK_BACKOFF_MS: '200',
  FRAMECAST_WEBHOOK_ALLOW_HOSTS: '127.0.0.1', // the webhook receiver listens on loopback
};

beforeAll(async () => {
  redis = await startTestRedis();
  [a, b] = await Promise.all([startRegistry(redis.url, env), startRegistry(redis.url, env)]);
});
afterAll(async () => {
  await stopAllServices();
  await redis?.close();
});

describe('two registry replicas on one Redis', () => {
  it('give the same room list whichever one wrote', async () => {
    await a.api('POST', '/rooms', { name: 'one', title: 'One' });
    await b.api('POST', '/rooms', { name: 'two', visibility: 'private' });
    await a.api('PATCH', '/rooms/two', { title: 'Two' });
    const strip = (rooms: Array<Record<string, unknown>>) => rooms.map(({ name, title, visibility, createdAt, updatedAt, live }) => ({ name, title, visibility, createdAt, updatedAt, live }));
    const [la, lb] = await Promise.all([a.api('GET', '/rooms'), b.api('GET', '/rooms')]);
    expect(strip(la.body.rooms)).toEqual(strip(lb.body.rooms));
    expect(strip(la.body.rooms).map((r) => [r.name, r.title])).toEqual([
      ['one', 'One'],
      ['two', 'Two'],
    ]);
    // Both refuse the same duplicate, whichever gets it.
    expect((await b.api('POST', '/rooms', { name: 'one' })).status).toBe(409);
  });

  it('fire room.online and room.offline exactly once while both take heartbeats and both sweep', async () => {
    const receiver = await startReceiver(() => 200);
    await a.api('POST', '/webhooks', { url: receiver.url, events: ['room.online', 'room.offline'], room: 'dual' });
    const key = (await b.api('POST', '/agent-keys', { name: 'k', rooms: ['dual'] })).body.key;
    // Two agents heartbeat to both replicas at once, for longer than several sweeps.
    for (let i = 0; i < 10; i++) {
      await Promise.all(
        [a, b].flatMap((reg) => ['cam-1', 'cam-2'].map((agent) => reg.api('POST', `/agents/${agent}/heartbeat`, heartbeat(['dual']), key))),
      );
      await sleep(150);
    }
    const [va, vb] = await Promise.all([a.api('GET', '/rooms/dual'), b.api('GET', '/rooms/dual')]);
    expect(va.body).toMatchObject({ live: true });
    expect(va.body.cameras.map((c: { agentId: string }) => c.agentId)).toEqual(['cam-1', 'cam-2']);
    expect(vb.body.cameras.map((c: { agentId: string }) => c.agentId)).toEqual(['cam-1', 'cam-2']);
    // Heartbeats stop: after the agent timeout one of the replicas' sweeps takes the room offline.
    await waitFor('offline', async () => (await b.api('GET', '/rooms/dual')).body.live === false, 5000);
    await waitFor('offline webhook', () => receiver.received.some((r) => JSON.parse(r.body).type === 'room.offline'), 5000);
    await sleep(1500); // several more sweeps on both replicas
    const types = receiver.received.map((r) => JSON.parse(r.body).type);
    expect(types).toEqual(['room.online', 'room.offline']);
    await receiver.close();
  });
});
