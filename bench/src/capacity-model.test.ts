import { describe, expect, it } from 'vitest';
import { type CapacityInputs, DEFAULT_CONSTANTS, DEFAULT_INPUTS, expectedSubscriptions, MEASURED, planCapacity, type Routing, zipfShares } from './capacity-model.ts';

const inputs = (over: Partial<CapacityInputs>): CapacityInputs => ({ ...DEFAULT_INPUTS, ...over });
const c = DEFAULT_CONSTANTS;

describe('zipfShares', () => {
  it('is 1/r^s normalised', () => {
    const s = zipfShares(3, 1);
    expect([...s]).toEqual([6 / 11, 3 / 11, 2 / 11].map((x) => expect.closeTo(x, 12)));
  });
  it('is uniform at exponent 0 and always sums to 1', () => {
    expect([...zipfShares(4, 0)]).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(zipfShares(10_000, 1.2).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });
});

describe('expectedSubscriptions', () => {
  const twoRooms = zipfShares(2, 0);
  it('random: each gateway subscribes to the rooms its own viewers picked', () => {
    // One gateway, two viewers, two equally popular rooms: both rooms unless both viewers picked
    // the same one: 2 × (1 − 0.5²) = 1.5.
    expect(expectedSubscriptions(twoRooms, 2, 1, 'random')).toBeCloseTo(1.5, 12);
    // Two gateways with one viewer each: each subscribes to exactly one room.
    expect(expectedSubscriptions(twoRooms, 2, 2, 'random')).toBeCloseTo(2, 12);
  });
  it('affinity: a room is subscribed once, on the gateway its hash picks', () => {
    // Same two viewers over two gateways: a room is subscribed if anyone watches it, 1 − 0.5² each.
    expect(expectedSubscriptions(twoRooms, 2, 2, 'affinity')).toBeCloseTo(1.5, 12);
  });
  it('affinity: a room bigger than one gateway is spread over ceil(share × gateways) buckets', () => {
    // One room, 10,000 viewers, 4 gateways of 2,500: 4 buckets, each surely watched.
    expect(expectedSubscriptions(zipfShares(1, 1), 10_000, 4, 'affinity')).toBeCloseTo(4, 9);
  });
  it('nothing without viewers', () => {
    expect(expectedSubscriptions(twoRooms, 0, 0, 'random')).toBe(0);
    expect(expectedSubscriptions(twoRooms, 0, 3, 'affinity')).toBe(0);
  });
});

describe('planCapacity', () => {
  it('one camera, one viewer: one of everything, figures by hand', () => {
    for (const routing of ['random', 'affinity'] as Routing[]) {
      const p = planCapacity(inputs({ cameras: 1, viewers: 1, fps: 15, frameBytes: 30_000, routing, replicasPerShard: 0 }));
      expect(p.gateways).toBe(1);
      expect(p.watchedRooms).toBe(1);
      expect(p.subscriptions).toBe(1);
      expect(p.roomsPerGateway).toBe(1);
      // 15 frames/s × (19.1 µs per delivered frame + 264 µs per Redis message)
      expect(p.gatewayCore).toBeCloseTo((15 * (19.1 + 264)) / 1e6, 12);
      expect(p.gatewayMemoryGB).toBeCloseTo((95.1e6 + 12985) / 1e9, 12);
      expect(p.redis.framesInPerSec).toBe(15);
      expect(p.redis.deliveriesPerSec).toBe(15);
      expect(p.redis.egressGBps).toBeCloseTo(15 * 30_000 / 1e9, 15); // 450 KB/s
      expect(p.redis.ingressGBps).toBeCloseTo(2 * 15 * 30_000 / 1e9, 15); // PUBLISH and SET
      expect(p.redis.replicationGBps).toBe(0);
      expect(p.redis.ingressCores).toBeCloseTo((15 * 19.4) / 1e6, 12);
      expect(p.redis.egressCores).toBeCloseTo((15 * 6.1) / 1e6, 12);
      expect(p.redis.shards).toBe(1);
      expect(p.viewerBandwidthGBps).toBeCloseTo(15 * 30_000 / 1e9, 15);
      expect(p.agents.agentCores).toBeCloseTo((15 * 1329) / 1e6, 12);
      expect(p.agents.encoderCores).toBeCloseTo((15 * 4835) / 1e6, 12);
      expect(p.agents.boxes).toBe(1);
      expect(p.gatewayHosts).toBe(1);
      expect(p.warnings).toEqual([]);
    }
  });

  it('a replica receives every frame twice more (its SET and its SPUBLISH)', () => {
    const p = planCapacity(inputs({ cameras: 1, viewers: 1, routing: 'random', replicasPerShard: 2 }));
    expect(p.redis.replicationGBps).toBeCloseTo((2 * 2 * 15 * 30_000) / 1e9, 15);
  });

  it('no viewers: no gateways and no egress, but agents still publish', () => {
    const p = planCapacity(inputs({ cameras: 10, viewers: 0, routing: 'random' }));
    expect(p.gateways).toBe(0);
    expect(p.redis.egressGBps).toBe(0);
    expect(p.redis.framesInPerSec).toBe(150);
  });

  it('gateways follow the per-viewer cost alone when a Redis message costs nothing', () => {
    const free = { ...c, gatewayUsPerRedisMessage: 0 };
    for (const routing of ['random', 'affinity'] as Routing[]) {
      const p = planCapacity(inputs({ cameras: 1000, viewers: 100_000, fps: 15, routing }), free);
      // 100,000 viewers × 15 fps × 19.1 µs = 28.65 cores, at 0.7 of a core each: 41 gateways.
      expect(p.gateways).toBe(41);
    }
  });

  it('caps viewers per gateway at gatewayMaxViewers', () => {
    const p = planCapacity(inputs({ cameras: 10, viewers: 10_000, fps: 1, gatewayMaxViewers: 1000, routing: 'affinity' }));
    expect(p.gateways).toBe(10);
  });

  const grid: CapacityInputs[] = [];
  for (const cameras of [1, 10, 100, 3000])
    for (const viewers of [1, 7, 100, 5000, 200_000])
      for (const zipf of [0, 0.8, 1, 1.5])
        for (const fps of [5, 15, 30]) grid.push(inputs({ cameras, viewers, zipf, fps }));

  it('room affinity never needs more Redis egress, gateways or shards than random routing', () => {
    for (const inp of grid) {
      const random = planCapacity({ ...inp, routing: 'random' });
      const affinity = planCapacity({ ...inp, routing: 'affinity' });
      const at = JSON.stringify({ ...inp, routing: undefined });
      expect(affinity.redis.egressGBps, at).toBeLessThanOrEqual(random.redis.egressGBps * (1 + 1e-12));
      expect(affinity.gateways, at).toBeLessThanOrEqual(random.gateways);
      expect(affinity.redis.shards, at).toBeLessThanOrEqual(random.redis.shards);
    }
  });

  it('is monotonic in viewers: more viewers never need less', () => {
    for (const routing of ['random', 'affinity'] as Routing[])
      for (const cameras of [1, 50, 2000])
        for (const zipf of [0, 1]) {
          let prev = planCapacity(inputs({ cameras, zipf, routing, viewers: 0 }));
          for (const viewers of [1, 2, 5, 10, 30, 100, 300, 1000, 3000, 10_000, 30_000, 100_000, 300_000]) {
            const p = planCapacity(inputs({ cameras, zipf, routing, viewers }));
            const at = `${routing} cameras=${cameras} zipf=${zipf} viewers=${viewers}`;
            expect(p.gateways, at).toBeGreaterThanOrEqual(prev.gateways);
            expect(p.subscriptions, at).toBeGreaterThanOrEqual(prev.subscriptions * (1 - 1e-12));
            expect(p.redis.egressGBps, at).toBeGreaterThanOrEqual(prev.redis.egressGBps * (1 - 1e-12));
            expect(p.redis.shards, at).toBeGreaterThanOrEqual(prev.redis.shards);
            expect(p.viewerBandwidthGBps, at).toBeGreaterThan(prev.viewerBandwidthGBps);
            expect(p.gatewayCore, at).toBeLessThanOrEqual(DEFAULT_INPUTS.coreTarget + 1e-12);
            prev = p;
          }
        }
  });

  it('an uneven hash needs gateways for its busiest one, barely more Redis egress', () => {
    const even = planCapacity(inputs({ routing: 'affinity' }));
    const uneven = planCapacity(inputs({ routing: 'affinity', affinityPeakToMean: 2 }));
    expect(uneven.gateways / even.gateways).toBeGreaterThan(1.9);
    expect(uneven.gateways / even.gateways).toBeLessThan(2.1);
    expect(uneven.gatewayCore).toBeLessThanOrEqual(DEFAULT_INPUTS.coreTarget);
    expect(uneven.redis.egressGBps / even.redis.egressGBps).toBeLessThan(1.1);
    // Random routing balances connections by itself: the factor does not apply to it.
    expect(planCapacity(inputs({ routing: 'random', affinityPeakToMean: 2 })).gateways).toBe(planCapacity(inputs({ routing: 'random' })).gateways);
  });

  it('one room everybody watches: affinity cannot help, and the model says the shard is the wall', () => {
    // 4,000,000 viewers × 30 fps × 19.1 µs need ~3,300 gateways, each sent 30 × 30 KB/s: ~3 GB/s
    // from one channel, more than one shard's 25 Gbit/s NIC at 0.7.
    const inp = inputs({ cameras: 1, viewers: 4_000_000, fps: 30 });
    const random = planCapacity({ ...inp, routing: 'random' });
    const affinity = planCapacity({ ...inp, routing: 'affinity' });
    expect(affinity.subscriptions).toBeCloseTo(random.subscriptions, 6);
    expect(random.warnings.some((w) => w.includes('most watched room'))).toBe(true);
  });

  it('10,000 cameras and 1,000,000 viewers: affinity cuts Redis egress by more than an order of magnitude', () => {
    const random = planCapacity(inputs({ routing: 'random' }));
    const affinity = planCapacity(inputs({ routing: 'affinity' }));
    expect(random.redis.egressGBps / affinity.redis.egressGBps).toBeGreaterThan(10);
    // Every room is watched, most by one gateway: subscriptions barely above the room count.
    expect(affinity.subscriptions).toBeGreaterThanOrEqual(10_000);
    expect(affinity.subscriptions).toBeLessThan(10_500);
    expect(affinity.redis.shards).toBeLessThan(random.redis.shards);
  });

  it('refuses inputs it cannot mean', () => {
    expect(() => planCapacity(inputs({ cameras: 0 }))).toThrow(RangeError);
    expect(() => planCapacity(inputs({ coreTarget: 0 }))).toThrow(RangeError);
    expect(() => planCapacity(inputs({ viewers: -1 }))).toThrow(RangeError);
    expect(() => planCapacity(inputs({ affinityPeakToMean: 0.5 }))).toThrow(RangeError);
    expect(() => planCapacity(inputs({ fps: 5000, viewers: 1, cameras: 1 }))).toThrow(/more than/);
  });
});

describe('MEASURED', () => {
  it('says where every figure comes from', () => {
    for (const [name, m] of Object.entries(MEASURED)) {
      expect(m.value, name).toBeGreaterThan(0);
      expect(m.source.length, name).toBeGreaterThan(20);
      expect(c[name as keyof typeof c]).toBe(m.value);
    }
  });
});
