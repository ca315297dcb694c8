import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, waitFor, type TestRedis } from '@framecast/testing';
import { MemoryBroker, MemoryFrameBus, RedisFrameBus, type FrameBus } from '../src/index.ts';

// One contract, both buses: the gateway, the agent and the embedded runner are written against
// FrameBus, so what one implementation does and the other does not (order, binary safety,
// idempotent subscribe, last-frame expiry, refusing after close) is a bug waiting in the embedded
// default or in production. Redis is a private redis-server (or REDIS_URL).

interface BusPair {
  /** The publishing side (the agent's bus). */
  publisher: FrameBus;
  /** A second client on the same broker (a gateway's bus). */
  subscriber: FrameBus;
}

interface Implementation {
  name: 'memory' | 'redis';
  pair(): Promise<BusPair>;
}

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis?.close();
});

const open: FrameBus[] = [];
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((b) => b.close()));
});

async function ready(bus: FrameBus): Promise<FrameBus> {
  open.push(bus);
  await waitFor(`${bus.kind} bus ready`, () => bus.isReady(), 5000, 5);
  return bus;
}

const implementations: Implementation[] = [
  {
    name: 'memory',
    async pair() {
      const broker = new MemoryBroker();
      return { publisher: await ready(new MemoryFrameBus(broker)), subscriber: await ready(new MemoryFrameBus(broker)) };
    },
  },
  {
    name: 'redis',
    async pair() {
      const client = () => ready(new RedisFrameBus({ redis: redis.url, connectionName: 'framecast-contract', commandTimeoutMs: 2000 }));
      return { publisher: await client(), subscriber: await client() };
    },
  },
];

let roomSeq = 0;
/** A room no earlier test touched (Redis keeps last frames between tests). */
const freshRoom = () => `contract-${process.pid}-${++roomSeq}`;

/** Collects what the subscriber's frame listener receives, per room. */
function collect(bus: FrameBus): Map<string, Buffer[]> {
  const got = new Map<string, Buffer[]>();
  bus.onFrame((room, envelope) => {
    let list = got.get(room);
    if (!list) got.set(room, (list = []));
    list.push(envelope);
  });
  return got;
}

/** Publishes a marker to `room` and waits until the subscriber has it: everything sent before has arrived or never will. */
async function barrier(pub: FrameBus, got: Map<string, Buffer[]>, room: string): Promise<void> {
  const marker = Buffer.from(`barrier-${++roomSeq}`);
  await pub.publish(room, marker, 10_000);
  await waitFor(`barrier in ${room}`, () => (got.get(room) ?? []).some((b) => b.equals(marker)), 5000, 2);
}

const without = (list: Buffer[] | undefined) => (list ?? []).filter((b) => !b.toString('latin1').startsWith('barrier-'));

describe.each(implementations)('FrameBus contract: $name', (impl) => {
  it('is ready once connected and names its kind', async () => {
    const { publisher } = await impl.pair();
    expect(publisher.kind).toBe(impl.name);
    expect(publisher.isReady()).toBe(true);
    expect(publisher.problem()).toBeNull();
  });

  it('delivers every envelope of a subscribed room once, in publish order, byte for byte', async () => {
    const { publisher, subscriber } = await impl.pair();
    const got = collect(subscriber);
    const room = freshRoom();
    await subscriber.subscribe(room);
    // Every byte value, sizes up to a large JPEG: the bus must not treat envelopes as text.
    const sent = Array.from({ length: 200 }, (_, i) => {
      const b = Buffer.alloc(i === 199 ? 2 * 1024 * 1024 : 1 + i * 37);
      for (let j = 0; j < b.length; j++) b[j] = (i + j) & 0xff;
      return b;
    });
    for (const envelope of sent) await publisher.publish(room, envelope, 10_000);
    await waitFor('all 200 envelopes', () => (got.get(room)?.length ?? 0) >= sent.length, 10_000, 5);
    const received = got.get(room)!;
    expect(received.length).toBe(sent.length);
    received.forEach((b, i) => expect(b.equals(sent[i]!), `envelope ${i}`).toBe(true));
  });

  it('does not deliver rooms nobody subscribed, and stops after unsubscribe', async () => {
    const { publisher, subscriber } = await impl.pair();
    const got = collect(subscriber);
    const [watched, other] = [freshRoom(), freshRoom()];
    await subscriber.subscribe(watched);
    await publisher.publish(other, Buffer.from('not for you'), 10_000);
    await publisher.publish(watched, Buffer.from('first'), 10_000);
    await barrier(publisher, got, watched);
    expect(got.has(other)).toBe(false);
    expect(without(got.get(watched)).map(String)).toEqual(['first']);

    await subscriber.unsubscribe(watched);
    await publisher.publish(watched, Buffer.from('after'), 10_000);
    // A room the subscriber is still on: its barrier arrives after anything 'after' could have.
    await subscriber.subscribe(other);
    await barrier(publisher, got, other);
    expect(without(got.get(watched)).map(String)).toEqual(['first']);
  });

  it('subscribing twice delivers once', async () => {
    const { publisher, subscriber } = await impl.pair();
    const got = collect(subscriber);
    const room = freshRoom();
    await subscriber.subscribe(room);
    await subscriber.subscribe(room);
    await publisher.publish(room, Buffer.from('once'), 10_000);
    await barrier(publisher, got, room);
    expect(without(got.get(room)).map(String)).toEqual(['once']);
  });

  it('keeps the newest envelope as the last frame until its TTL passes', async () => {
    const { publisher, subscriber } = await impl.pair();
    const room = freshRoom();
    expect(await subscriber.lastFrame(room)).toBeNull();
    expect(await publisher.publish(room, Buffer.from([0, 1, 2]), 10_000)).toEqual({ lastFrameStored: true });
    expect(await publisher.publish(room, Buffer.from([0, 1, 2, 3]), 10_000)).toEqual({ lastFrameStored: true });
    // Any client of the broker reads it, not only the publisher.
    expect(await subscriber.lastFrame(room)).toEqual(Buffer.from([0, 1, 2, 3]));

    const short = freshRoom();
    await publisher.publish(short, Buffer.from('brief'), 150);
    expect(await subscriber.lastFrame(short)).toEqual(Buffer.from('brief'));
    await waitFor('the last frame to expire', async () => (await subscriber.lastFrame(short)) === null, 5000, 20);
  });

  it('refuses room names outside the protocol rule instead of inventing channels', async () => {
    const { publisher, subscriber } = await impl.pair();
    for (const bad of ['', 'a b', 'x'.repeat(200), '../etc', 'video_*']) {
      await expect(publisher.publish(bad, Buffer.from('x'), 1000), JSON.stringify(bad)).rejects.toThrow();
      await expect(subscriber.subscribe(bad), JSON.stringify(bad)).rejects.toThrow();
    }
  });

  it('carries a variant stream (`<room>~small`) apart from its room, and counts who subscribes to it', async () => {
    const { publisher, subscriber } = await impl.pair();
    const got = collect(subscriber);
    const room = freshRoom();
    const small = `${room}~small`;
    expect(await publisher.subscriberCount(small)).toBe(0);
    await subscriber.subscribe(small);
    expect(await publisher.subscriberCount(small)).toBe(1);
    expect(await publisher.subscriberCount(room)).toBe(0);
    await publisher.publish(room, Buffer.from('full'), 10_000);
    await publisher.publish(small, Buffer.from('small'), 10_000);
    expect(await subscriber.lastFrame(small)).toEqual(Buffer.from('small'));
    expect(await subscriber.lastFrame(room)).toEqual(Buffer.from('full'));
    await barrier(publisher, got, small);
    expect(got.has(room)).toBe(false);
    expect(without(got.get(small)).map(String)).toEqual(['small']);
    await subscriber.unsubscribe(small);
    expect(await publisher.subscriberCount(small)).toBe(0);
    await expect(publisher.subscriberCount(`${room}~huge`)).rejects.toThrow();
  });

  it('after close(): not ready, says why, and publish rejects rather than queueing', async () => {
    const { publisher } = await impl.pair();
    await publisher.close();
    expect(publisher.isReady()).toBe(false);
    expect(publisher.problem()).toBe('bus closed');
    await expect(publisher.publish(freshRoom(), Buffer.from('late'), 1000)).rejects.toThrow();
  });
});
