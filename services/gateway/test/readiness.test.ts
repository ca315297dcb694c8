import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode } from '@framecast/protocol';
import { freePort, startService, startTestRedis, stopAllServices, TestViewer, waitFor, type TestRedis } from '@framecast/testing';
import { startRegistry, TOKEN_SECRET, type RegistryProcess } from '../../registry/test/helpers.ts';

// Readiness means admission works: a load balancer sends viewers to a gateway the moment its
// /readyz says 200, so from then on no viewer may be refused for what the gateway has not loaded.
// Seen before: 1 of 4 pairs of gateways started together refused every viewer with 1013.

// The race showed in 1 of 4 pairs; issue 8 holds it to 20 repetitions (a miss chance of 0.3 %).
const REPETITIONS = 20;
const TOGETHER = 2;
let redis: TestRedis;
let reg: RegistryProcess;

beforeAll(async () => {
  redis = await startTestRedis();
  reg = await startRegistry(redis.url);
  expect((await reg.api('POST', '/rooms', { name: 'open', visibility: 'public' })).status).toBe(201);
  expect((await reg.api('POST', '/rooms', { name: 'shut', visibility: 'private' })).status).toBe(201);
});
afterAll(async () => {
  await stopAllServices();
  await redis?.close();
});

/** Starts a gateway without waiting for anything, polls /readyz, and connects viewers at its first 200. */
async function startAndJoinAtReady(): Promise<{ open: TestViewer; shut: TestViewer; stop: () => void }> {
  const port = await freePort();
  const svc = await startService(`gateway:${port}`, {
    entry: 'services/gateway/src/main.ts',
    env: { REDIS_URL: redis.url, PORT: String(port), HOST: '127.0.0.1', FRAMECAST_GATEWAY_ID: `gw-${port}`, FRAMECAST_AUTH: 'on', FRAMECAST_TOKEN_SECRET: TOKEN_SECRET },
  });
  await waitFor(
    `gateway :${port} ready`,
    async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.status === 200,
    30_000,
    5,
  );
  const open = new TestViewer(`ws://127.0.0.1:${port}/ws/video/open`);
  const shut = new TestViewer(`ws://127.0.0.1:${port}/ws/video/shut`);
  return { open, shut, stop: () => void svc.stop('SIGKILL', 1000) };
}

describe('gateway readiness', () => {
  it(`${TOGETHER} gateways started together: viewers joining the instant /readyz is 200 are judged, never told to retry (${REPETITIONS} times)`, async () => {
    for (let i = 0; i < REPETITIONS; i++) {
      const pair = await Promise.all(Array.from({ length: TOGETHER }, () => startAndJoinAtReady()));
      for (const { open, shut, stop } of pair) {
        await waitFor('open viewer greeted', () => open.control.length > 0 || open.closeCode !== null, 5000);
        expect(open.control[0], `repetition ${i}`).toMatchObject({ type: 'hello', room: 'open' });
        expect(await shut.closed, `repetition ${i}`).toBe(CloseCode.Unauthorized);
        expect(shut.control[0], `repetition ${i}`).toMatchObject({ type: 'error', error: 'room_private' });
        open.close();
        stop();
      }
    }
    // Forty gateway start-ups on two cores: minutes under load, not the default 90 s.
  }, 360_000);
});
