import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode, encodeEnvelope, nowMicros } from '@framecast/protocol';
import { startService, startTestRedis, stopAllServices, TestViewer, waitFor, type TestRedis } from '@framecast/testing';
import { startGateway, TestPublisher, type GatewayProcess } from './helpers.ts';

let redis: TestRedis;
let gw: GatewayProcess;

beforeAll(async () => {
  redis = await startTestRedis();
  gw = await startGateway(redis.url, { FRAMECAST_MAX_ENVELOPE_BYTES: String(256 * 1024) });
});
afterAll(async () => {
  await stopAllServices();
  await redis?.close();
});

describe('gateway bad input', () => {
  it('drops and counts garbage on the frame channel while good frames around it still arrive', async () => {
    const pub = new TestPublisher(redis.url, 'badbus');
    const viewer = new TestViewer(gw.wsUrl('badbus'));
    await viewer.opened;
    await waitFor('subscription', async () => (await gw.metric('framecast_gateway_rooms_subscribed')) >= 1);
    await new Promise((r) => setTimeout(r, 100));
    const good = encodeEnvelope({ sequence: 0, captureTimeUs: nowMicros(), width: 1, height: 1 }, Buffer.alloc(1000, 1));
    const badVersion = Buffer.from(good);
    badVersion[4] = 9;
    const garbage = [
      randomBytes(5),
      randomBytes(5000),
      good.subarray(0, 20), // truncated header
      good.subarray(0, good.length - 1), // truncated payload
      badVersion,
      encodeEnvelope({ sequence: 1, captureTimeUs: nowMicros(), width: 1, height: 1 }, Buffer.alloc(300 * 1024)), // oversized
      Buffer.alloc(0),
    ];
    const sent: number[] = [];
    for (const bad of garbage) {
      sent.push(await pub.frame(2000));
      await pub.raw(bad);
    }
    sent.push(await pub.frame(2000));
    await waitFor('good frames', () => viewer.frames.length >= sent.length, 5000);
    expect(viewer.frames.map((f) => f.sequence)).toEqual(sent);
    await waitFor('invalid counted', async () => (await gw.metric('framecast_gateway_frames_invalid_total')) === garbage.length, 3000);
    expect(await gw.metric('framecast_gateway_frames_invalid_total', 'reason="oversized"')).toBe(1);
    expect(await gw.metric('framecast_gateway_frames_invalid_total', 'reason="unsupported_version"')).toBe(1);
    expect(viewer.closeCode).toBeNull();
    viewer.close();
    pub.close();
  });

  it('refuses an invalid room name with an error message and close code 4400', async () => {
    for (const room of ['bad%20room', '-x', 'a'.repeat(65), '%E2%9C%93']) {
      const v = new TestViewer(gw.wsUrl(room));
      expect(await v.closed).toBe(CloseCode.InvalidRoom);
      expect(v.control[0]).toMatchObject({ type: 'error', code: CloseCode.InvalidRoom, error: 'invalid_room' });
    }
    expect(await gw.metric('framecast_gateway_viewers_refused_total', 'reason="invalid_room"')).toBe(4);
  });

  it('answers a plain HTTP request on the websocket route with 426', async () => {
    const res = await fetch(`http://127.0.0.1:${gw.port}/ws/video/lobby`);
    expect(res.status).toBe(426);
  });

  it('survives a viewer that sends oversized messages, closing only that viewer (1009)', async () => {
    const { default: WebSocket } = await import('ws');
    const ws = new WebSocket(gw.wsUrl('lobby'));
    await new Promise((r) => ws.once('open', r));
    const code = new Promise<number>((r) => ws.once('close', (c) => r(c)));
    ws.send(Buffer.alloc(100_000));
    expect(await code).toBe(CloseCode.MessageTooBig);
    expect((await fetch(`http://127.0.0.1:${gw.port}/healthz`)).status).toBe(200);
  });
});

describe('gateway configuration', () => {
  // Every rule is held in process by src/config.test.ts; a process shows how a refusal looks.
  it('a bad variable stops the gateway: exit 2, one line naming it', async () => {
    const svc = await startService('gateway-badconfig', {
      entry: 'services/gateway/src/main.ts',
      env: { REDIS_URL: redis.url, PORT: '0', FRAMECAST_VIEWER_STALL_TIMEOUT_MS: '5' },
    });
    expect(await svc.exited).toBe(2);
    const line = svc.lines.find((l) => l.includes('FRAMECAST_VIEWER_STALL_TIMEOUT_MS'));
    expect(line, svc.lines.join('\n')).toMatch(/^framecast-gateway: invalid configuration: FRAMECAST_VIEWER_STALL_TIMEOUT_MS: must be >= 100/);
  });
});
