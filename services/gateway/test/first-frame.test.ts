import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, stopAllServices, TestViewer, waitFor, sleep, type TestRedis } from '@framecast/testing';
import { startGateway, TestPublisher, type GatewayProcess } from './helpers.ts';

let redis: TestRedis;
let gw: GatewayProcess;

beforeAll(async () => {
  redis = await startTestRedis();
  gw = await startGateway(redis.url);
});
afterAll(async () => {
  await stopAllServices();
  await redis?.close();
});

describe('instant first frame', () => {
  it('a viewer joining a room this gateway already serves gets the latest frame at once', async () => {
    const pub = new TestPublisher(redis.url, 'warm');
    const first = new TestViewer(gw.wsUrl('warm'));
    await first.opened;
    await waitFor('subscribed', async () => (await gw.metric('framecast_gateway_rooms_subscribed')) >= 1);
    await pub.frame();
    const last = await pub.frame();
    await waitFor('first viewer frames', () => first.frames.length === 2);
    // The next publish is far away: whatever the joiner gets now came from the kept frame.
    const joiner = new TestViewer(gw.wsUrl('warm'));
    await waitFor('joiner first frame', () => joiner.frames.length === 1, 1000);
    expect(joiner.frames[0]!.sequence).toBe(last);
    expect(joiner.firstFrameAt! - joiner.connectedAt).toBeLessThan(1000);
    const next = await pub.frame();
    await waitFor('next frame', () => joiner.frames.length === 2);
    expect(joiner.frames.map((f) => f.sequence)).toEqual([last, next]);
    first.close();
    joiner.close();
    pub.close();
  });

  it('a viewer of a room no gateway watched yet gets the last frame stored in Redis', async () => {
    const pub = new TestPublisher(redis.url, 'cold');
    await pub.frame();
    const last = await pub.frame();
    await sleep(50);
    const joiner = new TestViewer(gw.wsUrl('cold'));
    await waitFor('stored first frame', () => joiner.frames.length === 1, 1000);
    expect(joiner.frames[0]!.sequence).toBe(last);
    const next = await pub.frame();
    await waitFor('live frame', () => joiner.frames.length === 2);
    expect(joiner.frames.map((f) => f.sequence)).toEqual([last, next]);
    joiner.close();
    pub.close();
  });

  it('a room with no stored frame sends nothing until the first publish, then that frame once', async () => {
    const pub = new TestPublisher(redis.url, 'empty');
    const v = new TestViewer(gw.wsUrl('empty'));
    await v.opened;
    await sleep(300);
    expect(v.frames).toHaveLength(0);
    const s = await pub.frame();
    await waitFor('frame', () => v.frames.length === 1);
    await sleep(100);
    expect(v.frames.map((f) => f.sequence)).toEqual([s]);
    v.close();
    pub.close();
  });
});
