import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { percentile, startTestRedis, stopAllServices, TestViewer, waitFor, type TestRedis } from '@framecast/testing';
import { startGateway, TestPublisher, type GatewayProcess } from './helpers.ts';

// The camera shape under churn (issue 13): many rooms, viewers hopping between them. Correctness,
// not speed: every hop gets a first frame, the viewers who stay miss nothing and keep order, and
// once everyone has left no subscription is left behind (PUBSUB NUMSUB back to 0 after the linger).

const ROOMS = Array.from({ length: 24 }, (_, i) => `cam${i}`);
const LINGER_MS = 300;
let redis: TestRedis;
let gw: GatewayProcess;
let admin: Redis;
const publishers: TestPublisher[] = [];
let publishing = true;
let publishLoop: Promise<void>;

beforeAll(async () => {
  redis = await startTestRedis();
  gw = await startGateway(redis.url, { FRAMECAST_SUBSCRIBE_LINGER_MS: String(LINGER_MS) });
  admin = new Redis(redis.url);
  for (const room of ROOMS) publishers.push(new TestPublisher(redis.url, room));
  // Every room at 10 fps, small frames: 240 frames/s through the gateway's subscriptions.
  publishLoop = (async () => {
    while (publishing) {
      const tick = Date.now();
      await Promise.all(publishers.map((p) => p.frame(4000)));
      await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - tick))));
    }
  })();
});
afterAll(async () => {
  publishing = false;
  await publishLoop;
  for (const p of publishers) p.close();
  admin?.disconnect();
  await stopAllServices();
  await redis?.close();
});

describe('viewers hopping between 24 rooms', () => {
  it('each hop gets a first frame, viewers who stay miss nothing, and no subscription is left behind', async () => {
    const stay = [new TestViewer(gw.wsUrl('cam0'), { hash: false }), new TestViewer(gw.wsUrl('cam0'), { hash: false })];
    await waitFor('the staying viewers have frames', () => stay.every((v) => v.frames.length >= 3), 5000);

    const firstFrameMs: number[] = [];
    const hopper = async (seed: number) => {
      for (let hop = 0; hop < 12; hop++) {
        const room = ROOMS[1 + ((seed * 7 + hop * 5) % (ROOMS.length - 1))]!;
        const v = new TestViewer(gw.wsUrl(room), { hash: false });
        const opened = Date.now();
        await waitFor(`a first frame in ${room}`, () => v.frames.length > 0 || v.closeCode !== null, 5000, 2);
        expect(v.closeCode).toBeNull();
        firstFrameMs.push(Date.now() - opened);
        v.close();
        await v.closed;
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, i) => hopper(i)));
    console.log(`churn: ${firstFrameMs.length} hops, first frame p50 ${percentile(firstFrameMs, 50)} ms, p99 ${percentile(firstFrameMs, 99)} ms`);
    expect(firstFrameMs).toHaveLength(96);

    // The staying viewers: every frame of cam0 since they joined, in order, once.
    const seqs = stay.map((v) => v.frames.map((f) => f.sequence));
    for (const s of seqs) {
      for (let i = 1; i < s.length; i++) expect(s[i]).toBe(s[i - 1]! + 1);
    }
    for (const v of stay) v.close();

    // Everyone gone: after the linger every room is unsubscribed, on the gateway and in Redis.
    await waitFor('no room subscribed', async () => (await gw.metric('framecast_gateway_rooms_subscribed')) === 0, 5000);
    const counts = (await admin.call('PUBSUB', 'NUMSUB', ...ROOMS.map((r) => `video_${r}`))) as Array<string | number>;
    const subscribed = ROOMS.filter((_, i) => Number(counts[2 * i + 1]) !== 0);
    expect(subscribed).toEqual([]);
    expect(await gw.metric('framecast_gateway_viewers')).toBe(0);
  });
});
