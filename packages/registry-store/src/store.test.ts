import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { registryKeys, type CameraReport } from '@framecast/protocol';
import { startTestRedis, waitFor, type TestRedis } from '@framecast/testing';
import { MemoryRegistryStore } from './memory-store.ts';
import { RedisRegistryStore } from './redis-store.ts';
import type { RegistryStore } from './types.ts';

// One contract, two stores: the embedded in-memory store must behave like the Redis one.
let redis: TestRedis;
let admin: Redis;
beforeAll(async () => {
  redis = await startTestRedis();
  admin = new Redis(redis.url);
});
afterAll(async () => {
  admin?.disconnect();
  await redis?.close();
});

const liveness = { agentTimeoutMs: 10_000, gatewayTimeoutMs: 10_000 };
const camera = (room: string, fps = 15): CameraReport => ({
  room,
  fps,
  width: 640,
  height: 360,
  bitrateBps: 2_000_000,
  frameBytes: 17_000,
  captureToPublishMs: 2,
  droppedFrames: 0,
  lastFrameAgeMs: 10,
  busUp: true,
});
const room = (name: string, visibility: 'public' | 'private' = 'public') => ({ name, title: name, description: '', visibility, createdAt: 1, updatedAt: 1 });

/**
 * These tests drive the stores with made-up clocks; the Redis store's restart grace runs on Redis'
 * real clock. Start them as a registry that has been listening all along (no grace), and keep it
 * listening (a registry replica refreshes the mark every quarter of its TTL).
 */
async function listeningAllAlong(store: RegistryStore): Promise<void> {
  await store.noteListening(Date.now(), liveness);
  await admin.del(registryKeys.registryResumed());
  await admin.pexpire(registryKeys.registryListening(), 600_000);
}

const stores: Array<[string, () => RegistryStore]> = [
  ['memory', () => new MemoryRegistryStore()],
  ['redis', () => new RedisRegistryStore({ redis: redis.url, connectionName: 'store-test' })],
];

describe.each(stores)('%s registry store', (kind, make) => {
  let store: RegistryStore;
  beforeEach(async () => {
    if (kind === 'redis') await admin.flushall();
    store = make();
    if (store instanceof RedisRegistryStore) {
      await new Promise((r) => store instanceof RedisRegistryStore && store.connection.once('ready', r));
      await listeningAllAlong(store);
    }
    return () => store.close();
  });

  it('creates once, updates, lists and deletes rooms, keeping the public set in step', async () => {
    expect(await store.createRoom(room('a', 'private'))).toBe(true);
    expect(await store.createRoom(room('a'))).toBe(false);
    expect(await store.createRoom(room('b'))).toBe(true);
    expect([...(await store.publicRooms())]).toEqual(['b']);
    const updated = await store.updateRoom('a', { visibility: 'public', title: 'A' }, 5);
    expect(updated).toMatchObject({ name: 'a', title: 'A', visibility: 'public', updatedAt: 5, createdAt: 1 });
    expect(await store.publicRooms()).toEqual(new Set(['a', 'b']));
    expect(await store.updateRoom('nope', { title: 'x' }, 5)).toBeNull();
    expect((await store.listRooms()).map((r) => r.name)).toEqual(['a', 'b']);
    expect(await store.deleteRoom('a')).toBe(true);
    expect(await store.deleteRoom('a')).toBe(false);
    expect(await store.getRoom('a')).toBeNull();
    // A deleted room is not public any more, whatever still publishes it.
    expect(await store.publicRooms()).toEqual(new Set(['b']));
  });

  it('makes heartbeat-created rooms private unless told otherwise, and never changes an existing record', async () => {
    await store.heartbeat('agent1', [camera('quiet')], 1000);
    expect(await store.getRoom('quiet')).toMatchObject({ visibility: 'private', title: 'quiet' });
    await store.heartbeat('agent1', [camera('open')], 1000, 'public');
    expect(await store.getRoom('open')).toMatchObject({ visibility: 'public' });
    expect(await store.publicRooms()).toEqual(new Set(['open']));
    await store.updateRoom('open', { visibility: 'private' }, 2000);
    await store.heartbeat('agent1', [camera('open')], 3000, 'public');
    expect(await store.getRoom('open')).toMatchObject({ visibility: 'private' });
    expect(await store.publicRooms()).toEqual(new Set());
  });

  it('goes online once per transition and offline when the last camera expires', async () => {
    expect(await store.heartbeat('agent1', [camera('cam')], 1000)).toEqual(['cam']);
    expect(await store.heartbeat('agent2', [camera('cam')], 1500)).toEqual([]);
    expect(await store.getRoom('cam')).toMatchObject({ visibility: 'private', title: 'cam' });
    let status = (await store.roomStatus(['cam'], 2000, liveness)).get('cam')!;
    expect(status.live).toBe(true);
    expect(status.cameras.map((c) => c.agentId)).toEqual(['agent1', 'agent2']);
    expect(await store.heartbeat('agent2', [camera('cam')], 9000)).toEqual([]);
    // agent1 is stale at 11 001, agent2 is not: the room stays live.
    expect(await store.sweep(11_001, liveness)).toMatchObject({ camerasExpired: 1, roomsOffline: [] });
    const [a, b] = await Promise.all([store.sweep(19_001, liveness), store.sweep(19_001, liveness)]);
    // Two sweeps at once: exactly one sees the transition.
    expect([...a.roomsOffline, ...b.roomsOffline]).toEqual(['cam']);
    status = (await store.roomStatus(['cam'], 19_001, liveness)).get('cam')!;
    expect(status).toMatchObject({ live: false, cameras: [] });
    expect(await store.heartbeat('agent1', [camera('cam')], 20_000)).toEqual(['cam']);
  });

  it('applies presence deltas, counts only live gateways, and expires a dead gateway with leaves', async () => {
    expect(await store.reportPresence('gw1', { mode: 'delta', joins: [], leaves: [] }, 1000)).toBe('resync');
    expect(await store.reportPresence('gw1', { mode: 'sync', viewers: [{ id: '1', room: 'r', user: 'ann', since: 900 }] }, 1000)).toBe('ok');
    await store.reportPresence('gw1', { mode: 'delta', joins: [{ id: '2', room: 'r', user: null, since: 1100 }], leaves: [] }, 1200);
    await store.reportPresence('gw2', { mode: 'sync', viewers: [{ id: '1', room: 'r', user: 'bob', since: 1300 }] }, 1300);
    let status = (await store.roomStatus(['r'], 2000, liveness)).get('r')!;
    expect(status.viewers).toEqual({ total: 3, byGateway: { gw1: 2, gw2: 1 } });
    expect((await store.presence('r', 2000, liveness)).map((v) => [v.id, v.user])).toEqual([
      ['gw1/1', 'ann'],
      ['gw1/2', null],
      ['gw2/1', 'bob'],
    ]);
    await store.reportPresence('gw1', { mode: 'delta', joins: [], leaves: [{ id: '1', room: 'r' }] }, 5000);
    // gw2 has not reported for longer than the timeout: its viewer stops counting before any sweep.
    status = (await store.roomStatus(['r'], 11_500, liveness)).get('r')!;
    expect(status.viewers).toEqual({ total: 1, byGateway: { gw1: 1 } });
    const swept = await store.sweep(11_500, liveness);
    expect(swept).toMatchObject({ gatewaysExpired: ['gw2'], viewersExpired: 1 });
    // A swept gateway's next delta is refused until it syncs again.
    expect(await store.reportPresence('gw2', { mode: 'delta', joins: [], leaves: [] }, 12_000)).toBe('resync');
    // A sync converges: the viewer gw1 no longer has leaves, the new one joins, the kept one stays.
    await store.reportPresence('gw1', { mode: 'sync', viewers: [{ id: '3', room: 'r', user: null, since: 12_000 }] }, 12_000);
    expect((await store.presence('r', 12_000, liveness)).map((v) => v.id)).toEqual(['gw1/3']);
    const events = (await store.history('r', 0)).map((e) => `${e.event} ${e.viewer}${e.reason ? ` ${e.reason}` : ''}`);
    expect(events).toEqual(['joined gw1/1', 'joined gw1/2', 'joined gw2/1', 'left gw1/1', 'left gw2/1 gateway_timeout', 'left gw1/2 resync', 'joined gw1/3']);
  });

  it('counts rooms, live rooms, live cameras, viewers and gateways with the same liveness as roomStatus', async () => {
    expect(await store.counts(1000, liveness)).toEqual({ rooms: 0, roomsLive: 0, cameras: 0, viewers: 0, gateways: 0 });
    await store.createRoom(room('empty'));
    await store.heartbeat('agent1', [camera('cam'), camera('yard')], 1000);
    await store.heartbeat('agent2', [camera('cam')], 5000);
    await store.reportPresence('gw1', { mode: 'sync', viewers: [{ id: '1', room: 'cam', user: null, since: 900 }, { id: '2', room: 'yard', user: null, since: 900 }] }, 1000);
    await store.reportPresence('gw2', { mode: 'sync', viewers: [{ id: '1', room: 'cam', user: null, since: 900 }] }, 5000);
    expect(await store.counts(6000, liveness)).toEqual({ rooms: 3, roomsLive: 2, cameras: 3, viewers: 3, gateways: 2 });
    // At 12 000 agent1 and gw1 are past their timeouts (no sweep yet): they stop counting, as in roomStatus.
    expect(await store.counts(12_000, liveness)).toEqual({ rooms: 3, roomsLive: 1, cameras: 1, viewers: 1, gateways: 1 });
  });

  it('keeps agent keys, webhooks and a capped delivery log', async () => {
    await store.putAgentKey({ id: 'k1', name: 'box', rooms: ['a'], sha256: 'ff', createdAt: 1 });
    expect((await store.agentKeyByHash('ff'))?.id).toBe('k1');
    expect(await store.deleteAgentKey('k1')).toBe(true);
    expect(await store.agentKeyByHash('ff')).toBeNull();
    await store.putWebhook({ id: 'w1', url: 'http://x/', events: ['viewer.joined'], room: null, secret: 's', createdAt: 1 });
    if (kind === 'redis') expect(await admin.exists(registryKeys.viewerEventsWanted())).toBe(1);
    const d = { deliveryId: 'd', eventId: 'e', event: 'viewer.joined' as const, room: 'a', ok: true, status: 200, error: null, durationMs: 1, at: 1 };
    for (let i = 0; i < 205; i++) await store.appendDelivery('w1', { ...d, attempt: i });
    const log = await store.deliveries('w1', 500);
    expect(log).toHaveLength(200);
    expect(log[0]!.attempt).toBe(204);
    expect(await store.deleteWebhook('w1')).toBe(true);
    if (kind === 'redis') expect(await admin.exists(registryKeys.viewerEventsWanted())).toBe(0);
  });
});

describe('redis registry store after the registry was away', () => {
  const short = { agentTimeoutMs: 1_000, gatewayTimeoutMs: 1_000 };
  let store: RedisRegistryStore;
  beforeEach(async () => {
    await admin.flushall();
    store = new RedisRegistryStore({ redis: redis.url, connectionName: 'store-test-grace' });
    await new Promise((r) => store.connection.once('ready', r));
    return () => store.close();
  });

  it('begins a grace on the first start and whenever no replica marked itself listening', async () => {
    expect(await store.noteListening(Date.now(), short)).toBe(true); // first start
    expect(await store.noteListening(Date.now(), short)).toBe(false);
    // The mark expires on Redis' clock after registryListeningTtlMs (1 s here) without a refresh.
    expect(await admin.pttl(registryKeys.registryListening())).toBeGreaterThan(500);
    expect(await admin.pttl(registryKeys.registryResumed())).toBeGreaterThan(500);
    await admin.del(registryKeys.registryListening()); // every replica gone that long
    expect(await store.noteListening(Date.now(), short)).toBe(true);
  });

  it('expires no camera for one agent timeout after the return, then only the silent one, once', async () => {
    const t0 = 1_000_000;
    await listeningAllAlong(store);
    await store.heartbeat('a', [camera('steady')], t0);
    await store.heartbeat('b', [camera('gone')], t0);
    // The registry is away (its mark lapses) for longer than the agent timeout; camera b stops meanwhile.
    await admin.del(registryKeys.registryListening());
    const first = await store.sweep(t0 + 5_000, short);
    expect(first).toMatchObject({ graceBegan: true, cameraGrace: true, camerasExpired: 0, roomsOffline: [] });
    // Reads agree with the sweep: both rooms are still live, with their last figures.
    const during = await store.roomStatus(['steady', 'gone'], t0 + 5_000, short);
    expect([during.get('steady')!.live, during.get('gone')!.live]).toEqual([true, true]);
    expect(await store.heartbeat('a', [camera('steady')], t0 + 5_000)).toEqual([]); // still online: no event
    // The grace lasts one agent timeout of Redis' clock; the registry keeps marking itself meanwhile.
    await waitFor('grace over', async () => {
      await store.noteListening(Date.now(), short);
      return (await admin.exists(registryKeys.registryResumed())) === 0;
    }, 5_000);
    const after = await store.sweep(t0 + 5_500, short);
    expect(after).toMatchObject({ graceBegan: false, cameraGrace: false, camerasExpired: 1, roomsOffline: ['gone'] });
    expect((await store.sweep(t0 + 5_600, short)).roomsOffline).toEqual([]);
    const events = (await admin.xrange(registryKeys.events(), '-', '+')).map(([, f]) => `${f[1]} ${f[3]}`);
    expect(events).toEqual(['room.online steady', 'room.online gone', 'room.offline gone']);
  });
});
