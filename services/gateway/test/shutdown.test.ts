import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode } from '@framecast/protocol';
import { startTestRedis, stopAllServices, TestViewer, waitFor, type TestRedis } from '@framecast/testing';
import { startGateway, TestPublisher } from './helpers.ts';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await stopAllServices();
  await redis?.close();
});

describe('SIGTERM', () => {
  it('closes every viewer with 1012 and exits 0 within the shutdown bound', async () => {
    const bound = 3000;
    const gw = await startGateway(redis.url, { FRAMECAST_SHUTDOWN_TIMEOUT_MS: String(bound) });
    const pub = new TestPublisher(redis.url, 'bye');
    const viewers = Array.from({ length: 5 }, () => new TestViewer(gw.wsUrl('bye')));
    await Promise.all(viewers.map((v) => v.opened));
    await waitFor('subscribed', async () => (await gw.metric('framecast_gateway_rooms_subscribed')) === 1);
    await pub.frame();
    await waitFor('frames', () => viewers.every((v) => v.frames.length === 1));

    const t0 = Date.now();
    gw.proc.kill('SIGTERM');
    const codes = await Promise.all(viewers.map((v) => v.closed));
    const exit = await gw.exited;
    const took = Date.now() - t0;
    expect(codes).toEqual(viewers.map(() => CloseCode.ServiceRestart));
    expect(exit).toBe(0);
    expect(took).toBeLessThan(bound);
    expect(gw.lines.some((l) => l.includes('gateway stopped'))).toBe(true);
    pub.close();
  });

  it('exits within the bound even when a viewer never completes the close handshake', async () => {
    const bound = 3000;
    const gw = await startGateway(redis.url, { FRAMECAST_SHUTDOWN_TIMEOUT_MS: String(bound) });
    const stuck = new TestViewer(gw.wsUrl('stuck'));
    await stuck.opened;
    stuck.pause();
    const t0 = Date.now();
    gw.proc.kill('SIGTERM');
    await gw.exited;
    expect(Date.now() - t0).toBeLessThan(bound + 500);
  });
});
