import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode } from '@framecast/protocol';
import { percentile, startTestRedis, stopAllServices, TestViewer, waitFor, sleep, type TestRedis } from '@framecast/testing';
import { startGateway, TestPublisher, type GatewayProcess } from './helpers.ts';

let redis: TestRedis;
let gw: GatewayProcess;
const STALL_TIMEOUT_MS = 4000;
const FRAME_BYTES = 200_000;
const MAX_BUFFERED = 512 * 1024;

beforeAll(async () => {
  redis = await startTestRedis();
  gw = await startGateway(redis.url, { FRAMECAST_VIEWER_STALL_TIMEOUT_MS: String(STALL_TIMEOUT_MS), FRAMECAST_MAX_BUFFERED_BYTES: String(MAX_BUFFERED) });
});
afterAll(async () => {
  await stopAllServices();
  await redis?.close();
});

describe('a viewer that stops reading', () => {
  it('does not slow the others, keeps what the gateway buffers bounded, and is closed with 4508 after the stall timeout', async () => {
    const room = 'slow';
    const pub = new TestPublisher(redis.url, room);
    const others = Array.from({ length: 10 }, () => new TestViewer(gw.wsUrl(room), { hash: false }));
    const slow = new TestViewer(gw.wsUrl(room), { hash: false });
    await Promise.all([...others, slow].map((v) => v.opened));
    await waitFor('subscribed', async () => (await gw.metric('framecast_gateway_rooms_subscribed')) === 1);
    // 200 KB frames at 30 fps: 6 MB/s, ~40 MB over the stall that an unbounded queue would pile up.
    const period = 1000 / 30;
    const started = Date.now();
    let n = 0;
    let bufferedPeak = 0;
    const stream = async (ms: number) => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        await pub.frame(FRAME_BYTES, { store: false });
        n++;
        if (n % 10 === 0) bufferedPeak = Math.max(bufferedPeak, await gw.metric('framecast_gateway_viewer_buffered_bytes'));
        const wait = started + n * period - Date.now();
        if (wait > 0) await sleep(wait);
      }
    };
    await stream(1000);
    slow.pause();
    const pausedAt = Date.now();
    await stream(STALL_TIMEOUT_MS + 3000);

    await waitFor('slow viewer closed', async () => (await gw.metric('framecast_gateway_viewers_closed_total', 'code="4508"')) === 1, 5000);
    const closedLine = JSON.parse(await gw.waitForLine(/closing stalled viewer/)) as { time: number };
    expect(closedLine.time - pausedAt).toBeGreaterThanOrEqual(STALL_TIMEOUT_MS);
    // Once the stalled client reads again it drains what was buffered and sees the documented code.
    slow.resume();
    expect(await slow.closed).toBe(CloseCode.Stalled);
    expect(slow.control.at(-1)).toMatchObject({ type: 'error', error: 'stalled', code: CloseCode.Stalled });
    expect(await gw.metric('framecast_gateway_frames_skipped_total', 'reason="backpressure"')).toBeGreaterThan(0);

    // The others kept up: every frame, in order, with loopback latency.
    await waitFor('others drained', () => others.every((v) => v.frames.length === n), 5000);
    const latencies = others.flatMap((v) => v.latenciesMs);
    const p99 = percentile(latencies, 99);
    console.log(`slow-viewer test: ${n} frames, others p50 ${percentile(latencies, 50).toFixed(1)} ms p99 ${p99.toFixed(1)} ms, buffered peak ${(bufferedPeak / 1e6).toFixed(2)} MB`);
    expect(p99).toBeLessThan(250);
    for (const v of others) {
      expect(v.frames.map((f) => f.sequence)).toEqual(Array.from({ length: n }, (_, i) => i));
      expect(v.closeCode).toBeNull();
    }
    // What sits in user space for all viewers stays under the per-viewer bound (plus one frame
    // each). Not process RSS: over a few seconds it moves by 10-20 MB with collection timing, more
    // than a stalled viewer's queue adds while the kernel's socket buffers still take its bytes;
    // src/fanout/room-fanout.test.ts holds the per-socket bound exactly.
    expect(bufferedPeak).toBeLessThanOrEqual(11 * (MAX_BUFFERED + FRAME_BYTES));

    others.forEach((v) => v.close());
    pub.close();
  });
});
