import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, stopAllServices, TestViewer, waitFor, type TestRedis } from '@framecast/testing';
import { startGateway, TestPublisher, type GatewayProcess } from './helpers.ts';

let redis: TestRedis;
let gw: GatewayProcess;

beforeAll(async () => {
  redis = await startTestRedis();
  gw = await startGateway(redis.url, { FRAMECAST_HTTP_HEADERS_TIMEOUT_MS: '1000', FRAMECAST_HTTP_REQUEST_TIMEOUT_MS: '1500' });
});
afterAll(async () => {
  await stopAllServices();
  await redis?.close();
});

/** Opens a raw TCP connection, writes `send`, and resolves with the ms until the server closed it and what it answered. */
function heldFor(port: number, send: string): Promise<{ ms: number; answer: string }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1', () => socket.write(send));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => (answer += c));
    socket.on('error', reject);
    socket.on('close', () => resolve({ ms: Date.now() - started, answer }));
  });
}

describe('gateway HTTP timeouts', () => {
  it('a request whose headers never end is closed after FRAMECAST_HTTP_HEADERS_TIMEOUT_MS (1 s here)', async () => {
    const [partial, upgrade, silent] = await Promise.all([
      heldFor(gw.port, 'GET /rooms/lobby HTTP/1.1\r\nHost: x\r\n'),
      heldFor(gw.port, 'GET /ws/video/lobby HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n'),
      heldFor(gw.port, ''),
    ]);
    console.log(`gateway: partial header cut after ${partial.ms} ms, partial upgrade ${upgrade.ms} ms, silent connection ${silent.ms} ms (headers timeout 1000 ms)`);
    for (const held of [partial, upgrade, silent]) {
      expect(held.ms).toBeGreaterThanOrEqual(900);
      expect(held.ms).toBeLessThan(2500);
      expect(held.answer).toMatch(/^HTTP\/1\.1 408/);
    }
  });

  it('an upgraded viewer websocket is not a request: it outlives the request timeout, with and without frames', async () => {
    const pub = new TestPublisher(redis.url, 'lobby');
    const busy = new TestViewer(gw.wsUrl('lobby'));
    const idle = new TestViewer(gw.wsUrl('quiet'));
    await Promise.all([busy.opened, idle.opened]);
    const openedAt = Date.now();
    // Frames until well past the 1.5 s request timeout (and the 1 s headers timeout).
    const timer = setInterval(() => void pub.frame(2_000), 100);
    try {
      await waitFor('3 s of viewing', () => Date.now() - openedAt >= 3_000, 5_000, 50);
      const before = busy.frames.length;
      await waitFor('frames after the request timeout', () => busy.frames.length > before + 3, 3_000);
    } finally {
      clearInterval(timer);
    }
    expect(busy.closeCode).toBeNull();
    expect(idle.closeCode).toBeNull();
    busy.close();
    idle.close();
    pub.close();
  });
});
